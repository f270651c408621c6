"""Spiking side of the ANN->SNN conversion: build, simulate, count, log.

Negative-spike family (SPEC sections 3-4).  A quantized ANN hidden block
``y = q_k(ReLU(BN(W * x)))`` with ``q_k(v) = round(2^k v + 1e-5) / 2^k`` becomes
a layer of signed integrate-and-fire neurons with a shadow potential:

* input encoding: the preprocessed ANN input times 2^k is injected at t = 0 only;
* membrane ``m`` accumulates ``W * s`` of the incoming signed spikes ``s``;
* BN is folded exactly into a per-channel threshold step ``theta = sigma / gamma``
  and base ``b``; the neuron's spike count ``n`` (the shadow potential is
  ``b + n * theta``) rises by one when ``m > b + (n + 1) theta`` and falls by one
  when ``n > 0`` and ``m <= b + n theta`` -- at most one spike per step;
* once quiescent, ``n = round(2^k y)``: the count equals 2^k times the ANN's
  quantized activation, and the readout ``W_out . counts`` equals 2^k times the
  ANN logits (lossless conversion).

``rule='exact'`` (default) compares against thresholds recomputed from the
integer count and shifts the base by ``-1e-5 theta`` to mirror the ANN's
``+1e-5`` rounding offset, which makes every neuron equal to the ANN except
within floating-point noise of a rounding tie.  ``rule='authors'`` is the
authors' simulators, so that logs line up with theirs line for line: their
update (float shadow potential, ``-1e-5`` tolerance, unshifted base; the
all-integer scripts' running up/down thresholds; the scatter-and-gather
scripts' ``>=``), their threshold arithmetic (theta and the thresholds computed
term by term in the checkpoint's dtype -- float32 -- as numpy does in their
``convert_assign_params``, compared in float64) and their scripts' readout-SOP
convention (``Architecture.authors_readout_sop``).

Scatter-and-gather family (Frontiers 2021): the same thresholds ``b + j theta``
(j = 1..2^k B) are all compared in one step and the neuron emits a graded spike
``n = #{j : m > b + j theta}`` in {0..2^k B}: the ANN's level of
``round(2^k clip(y, B) + 1e-5)`` in a single time step.  ``noise_ratio`` drops
each threshold comparison of the first layer with that probability.

All-integer family (Frontiers 2024): the first block's ANN quantizer is
``round(2^k0 clip(y, B0) + 1e-5)`` (k0 = 0, B0 = 4); the SNN's encoding layer
integrates the input once and, over its first 2^k0 B0 steps, emits a spike of
amplitude 2^(k-k0) whenever its membrane exceeds a threshold that rises by
``theta_1 = 2^(k-k0) sigma / gamma`` per step (dynamic threshold): the number of
spikes is the ANN's level.  Hidden layers are negative-spike neurons; with
``use_int`` they are all-integer: ternary weights, the membrane holds
``10^4 (W . s)`` as an int64, and ``theta`` and the first threshold are each
rounded once, after scaling by 10^4, to the nearest integer (numpy's round half
to even); the j-th threshold is ``F + (j - 1) theta`` exactly, and a neuron's count
is ``#{j : m >= F + (j - 1) theta}`` -- ``>=`` mirrors the ANN's round-half-up.
This is the integer-threshold ANN of :func:`quantized_forward` (``use_int=True``)
neuron for neuron; it differs from the float ANN only where a float threshold lies
within about ``j * 0.5e-4`` of the (integer) membrane.  ``noise_ratio`` r perturbs
the input: ``x (1 + (U[0,1) - 0.5) r)`` (the negative-spike family too, as the
authors' MNIST and CIFAR-10 simulators; default 0, theirs 1.0).  The encoding layer's spikes are left out
of the counters (the authors' convention for this family), which add per-step
``abs_spike.txt`` and ``sum_spike.txt``.

Counters and log files follow the authors' formats: one line per (batch, t),
``accuracy.txt`` (correct predictions at t), ``spike_num.txt`` (cumulative
|spikes| over all spiking layers), ``spike_collect.txt`` (cumulative signed
spikes, written as a float like the original; scatter-and-gather writes
``spike_num``/``sop_num`` as floats, as its scripts), ``sop_num.txt`` (cumulative
synaptic operations: for every spiking layer but the input-encoding one,
|input events| x fan-out, plus last-layer spikes x classes).

Programmatic use::

    net = SpikingNetwork.from_checkpoint('mlp_fashionmnist_k1.npz', arch='mlp_fashionmnist', k=1)
    trace = net.simulate(x, time_steps=40)     # x: NHWC float input batch, as fed to the ANN
    trace.logits        # [T, N, classes]
    trace.spike_num     # [T] cumulative, also trace.spike_collect, trace.sop_num
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import sys

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import sparse

_ROOT = os.path.dirname(os.path.abspath(__file__))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tensorlayer_patches import architectures  # noqa: E402  (pure python, no TensorFlow)
from tensorlayer_patches.checkpoint import (CheckpointError, atomic_write_text, check_params, load_checkpoint,  # noqa: E402
                                            resolve_config, resolve_ternary)
from tensorlayer_patches.errors import (ArgumentParser, StopRequest, UserError, add_resume_flag,  # noqa: E402
                                        ensure_writable_dir, parse_bool, run_cli)

__all__ = ['SpikingNetwork', 'SpikingConv', 'Trace', 'ConversionError', 'quantized_forward', 'conv2d_nhwc',
           'depthwise_conv2d_nhwc', 'block_conv', 'readout_input',
           'run_test_set', 'write_logs', 'snn_main', 'RULES', 'DynamicThresholdConv', 'ternarize']

BN_EPS = 1e-5
ROUND_OFFSET = 1e-5  # the ANN quantizer's round(2^k x + 1e-5)
RULES = ('exact', 'authors')
ENGINES = ('sparse', 'dense')
DENSE_INPUT_FRACTION = 0.05  # above this fraction of non-zero inputs a dense convolution is cheaper
LOG_FILES = ('accuracy.txt', 'spike_num.txt', 'spike_collect.txt', 'sop_num.txt')
ALL_LOG_FILES = LOG_FILES + ('abs_spike.txt', 'sum_spike.txt')  # the all-integer family adds per-step ones
INT_SCALE = architectures.INT_SCALE
F32_EXACT = 2 ** 24  # float32 sums of integers below this are exact


class ConversionError(CheckpointError):
    """Parameters that cannot be converted faithfully (one-line message)."""


def conv2d_nhwc(x, w, stride, pads):
    """Cross-correlation of NHWC ``x`` with HWIO ``w`` (TensorFlow's conv2d) in x's dtype.

    ``pads`` = ((top, bottom), (left, right)).
    """
    (pt, pb), (pl, pr) = pads
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), mode='constant')
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    ho = (h - kh) // stride + 1
    wo = (wd - kw) // stride + 1
    if kh == h and kw == wd:  # kernel covers the input: a dense layer
        return np.dot(x.reshape(n, -1), w.reshape(-1, o)).reshape(n, 1, 1, o)
    if kh == 1 and kw == 1:
        return np.dot(x[:, ::stride, ::stride, :].reshape(-1, c), w[0, 0]).reshape(n, ho, wo, o)
    s0, s1, s2, s3 = x.strides
    win = as_strided(x, (n, ho, wo, kh, kw, c), (s0, s1 * stride, s2 * stride, s1, s2, s3), writeable=False)
    return np.dot(win.reshape(n * ho * wo, kh * kw * c), w.reshape(-1, o)).reshape(n, ho, wo, o)


def depthwise_conv2d_nhwc(x, w, stride, pads):
    """Depthwise cross-correlation of NHWC ``x`` with HWC1 ``w`` (TensorFlow's depthwise_conv2d, channel
    multiplier 1) in x's dtype: each output channel sees only its own input channel."""
    (pt, pb), (pl, pr) = pads
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), mode='constant')
    n, h, wd, c = x.shape
    kh, kw = w.shape[:2]
    ho = (h - kh) // stride + 1
    wo = (wd - kw) // stride + 1
    w = w[:, :, :, 0].astype(x.dtype, copy=False)
    out = np.zeros((n, ho, wo, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += x[:, i:i + (ho - 1) * stride + 1:stride, j:j + (wo - 1) * stride + 1:stride, :] * w[i, j]
    return out


def block_conv(x, w, stride, pads, depthwise=False):
    """A hidden block's convolution: :func:`depthwise_conv2d_nhwc` or :func:`conv2d_nhwc`."""
    return (depthwise_conv2d_nhwc if depthwise else conv2d_nhwc)(x, w, stride, pads)


def readout_input(arch, a):
    """What the readout multiplies: the flattened last block, or its global mean when ``arch.global_pool``."""
    if arch.global_pool:
        return a.reshape(a.shape[0], -1, a.shape[-1]).mean(axis=1)
    return a.reshape(a.shape[0], -1)


def _fold_bn(w, beta, gamma, mean, var, k, label, level_k=None, depthwise=False):
    """Fold BN into (w, theta, base) in membrane units (the membrane holds 2^k W x).

    The block's quantizer has 2^level_k levels per unit (default: k); each level is worth
    ``theta = 2^(k - level_k) sigma / gamma`` of membrane.

    A channel with gamma < 0 is folded into the weights (W -> -W, mean -> -mean),
    which is exact; gamma == 0 (a constant neuron) is refused.  ``depthwise``: ``w`` is HWC1 (the channel is
    its third axis).
    """
    w = np.array(w, dtype=np.float64)
    beta, gamma, mean, var = (np.asarray(a, dtype=np.float64) for a in (beta, gamma, mean, var))
    if np.any(var < 0):
        raise ConversionError('%s: BN moving_variance has negative entries' % label)
    if np.any(gamma == 0):
        bad = np.flatnonzero(gamma == 0)
        raise ConversionError('%s: BN gamma is 0 for channel(s) %s; such a neuron is constant and has no '
                              'spiking equivalent' % (label, bad[:8].tolist()))
    neg = gamma < 0
    if np.any(neg):
        if depthwise:
            w[:, :, neg, :] = -w[:, :, neg, :]
        else:
            w[..., neg] = -w[..., neg]
        mean = np.where(neg, -mean, mean)
        gamma = np.abs(gamma)
    sigma = np.sqrt(var + BN_EPS)
    level_k = k if level_k is None else level_k
    theta = sigma / gamma * 2.0 ** (k - level_k)
    # the j-th threshold sits where 2^level_k * BN(z) crosses j - 1/2:
    # T_j = 2^k mu + theta (j - 1/2 - 2^level_k beta)
    base = 2.0 ** k * mean + theta * (-0.5 - 2.0 ** level_k * beta)
    return w, theta, base


def _authors_bn(beta, gamma, mean, var):
    """BN parameters as the authors' simulators use them: the checkpoint's arrays, in their own dtype (float32
    for every checkpoint written by TensorFlow), with a gamma < 0 channel folded like :func:`_fold_bn` (negating
    is exact in any dtype).  Returns (beta, gamma, mean, sigma) with ``sigma = sqrt(var + 1e-5)`` computed in
    that dtype (the Python float 1e-5 is rounded to it first)."""
    beta, gamma, mean, var = (np.asarray(a) for a in (beta, gamma, mean, var))
    neg = gamma < 0
    if np.any(neg):
        mean = np.where(neg, -mean, mean).astype(mean.dtype, copy=False)
        gamma = np.abs(gamma)
    return beta, gamma, mean, np.sqrt(var + BN_EPS)


def _fold_bn_authors(w, beta, gamma, mean, var, k, label, level_k=None, depthwise=False):
    """:func:`_fold_bn` with the authors' arithmetic (``rule='authors'``): the same (w, theta, base), but theta
    and the base are computed as their ``convert_assign_params`` does, term by term in the checkpoint's dtype
    (numpy keeps float32: no promotion by the Python scalars), and only the last subtraction in float64 (their
    theta array is float64)::

        theta = 2^(k - level_k) * sigma / gamma                                   (checkpoint dtype)
        base  = [(2^-(level_k + 1) - beta) * (2^k * sigma) / gamma + 2^k * mean]  (checkpoint dtype)
                - theta                                                           (float64)

    Both are returned as float64 arrays holding those values; the neurons then compare in float64 as theirs.
    """
    w, _, _ = _fold_bn(w, beta, gamma, mean, var, k, label, level_k=level_k, depthwise=depthwise)  # checks, W flip
    beta, gamma, mean, sigma = _authors_bn(beta, gamma, mean, var)
    level_k = k if level_k is None else level_k
    theta = np.asarray(2.0 ** (k - level_k) * sigma / gamma).astype(np.float64)
    first = (2.0 ** -(level_k + 1) - beta) * (2 ** k * sigma) / gamma + 2 ** k * mean
    return w, theta, np.asarray(first).astype(np.float64) - theta


def authors_level_thresholds(beta, gamma, mean, var, k, levels):
    """The scatter-and-gather thresholds of the authors' simulator, [levels, channels] float64: the i-th
    (i = 0..levels-1) is ``(2^-(k+1) + i / 2^k - beta) * (2^k * sigma) / gamma + 2^k * mean``, each computed
    in the checkpoint's dtype (the two Python floats are summed first, exactly).  A neuron emits
    ``#{i : m >= T_i}``."""
    beta, gamma, mean, sigma = _authors_bn(beta, gamma, mean, var)
    out = np.empty((int(levels), len(gamma)), dtype=np.float64)
    for i in range(int(levels)):
        out[i] = (2.0 ** -(k + 1) + i / 2.0 ** k - beta) * (2 ** k * sigma) / gamma + 2 ** k * mean
    return out


def integer_thresholds(theta, first):
    """The all-integer rounding rule: (theta, first threshold) scaled by 10^4 and rounded once each.

    Returns int64 ``(theta_int, base_int)`` with ``base_int = F_int - theta_int``, so that the j-th threshold
    is ``base_int + j theta_int`` like the float rule's ``base + j theta``.
    """
    theta_int = np.round(INT_SCALE * np.asarray(theta, dtype=np.float64)).astype(np.int64)
    if np.any(theta_int < 1):
        bad = np.flatnonzero(theta_int < 1)
        raise ConversionError('threshold step sigma/gamma rounds to 0 at 10^4 scale for channel(s) %s: integer '
                              'thresholds cannot represent it (gamma too large)' % bad[:8].tolist())
    first_int = np.round(INT_SCALE * np.asarray(first, dtype=np.float64)).astype(np.int64)
    return theta_int, first_int - theta_int


def neuron_thresholds(theta, base, rule='exact', integer=False):
    """The (theta, base) a neuron compares against: the exact rule shifts the base by -1e-5 theta (the ANN's
    +1e-5 rounding offset); integer neurons then round as :func:`integer_thresholds`."""
    theta = np.asarray(theta, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64)
    if rule == 'exact':
        base = base - ROUND_OFFSET * theta
    if integer:
        return integer_thresholds(theta, base + theta)
    return theta, base


def ternarize(w):
    """TWN ternarization in numpy, as the ANN's forward pass: Delta = 0.7 mean|W|, W_t in {-1, 0, 1}.

    Idempotent on a ternary tensor, so checkpoints that hold the ternarized weights (ours) and those
    that hold the latent float weights (the authors' fork) convert alike.
    """
    w = np.asarray(w, dtype=np.float64)
    delta = 0.7 * np.mean(np.abs(w))
    return np.sign(np.sign(w + delta) + np.sign(w - delta))


def prepare_params(arch, params, use_ternary):
    """``params`` with the hidden blocks' weights (all but the first block and the readout) ternarized
    when ``use_ternary``: the weights the ANN's forward pass really used."""
    params = list(params)
    if use_ternary:
        for i in range(1, len(arch.blocks)):
            params[5 * i] = ternarize(params[5 * i])
    return params


class Events(object):
    """Non-zero spikes of one step: parallel index arrays (n, h, w, c) and their values."""

    __slots__ = ('n', 'h', 'w', 'c', 'v')

    def __init__(self, n, h, w, c, v):
        self.n, self.h, self.w, self.c, self.v = n, h, w, c, v

    @classmethod
    def from_dense(cls, x):
        idx = np.nonzero(x)
        return cls(idx[0], idx[1], idx[2], idx[3], x[idx])

    def __len__(self):
        return len(self.v)

    def to_dense(self, shape):
        out = np.zeros(shape, dtype=self.v.dtype)
        out[self.n, self.h, self.w, self.c] = self.v
        return out


class SpikingConv(object):
    """One hidden block as a layer of negative-spike neurons (convolution or, with a full kernel, dense).

    Two interchangeable engines: :meth:`step` (dense: convolve the whole input, update every neuron) and
    :meth:`step_events` (event-driven: only the synapses of the input events are touched, and only the
    neurons that received input or spiked at the previous step are examined -- the others cannot spike).

    ``depthwise``: ``w`` is an HWC1 depthwise kernel (output channel c sees input channel c only).

    ``authors_dynamics`` (``rule='authors'`` only): how the authors' simulator of the family tracks a neuron's
    state -- ``'shadow'`` (negative-spike scripts: a float shadow potential ``m_q`` starting at the base, a spike
    +1 when ``max(m, b) - m_q > theta``, -1 when it is ``< -1e-5``, ``m_q`` moved by theta) or ``'thresholds'``
    (all-integer scripts: the next up- and down-thresholds starting at ``b + theta`` and ``b``, a spike +1 when
    ``max(m, b)`` exceeds the first, -1 when it is below the second minus 1e-5, both moved by theta).  The
    floating-point results differ, so each family follows its own scripts.

    ``integer``: all-integer neurons (int64 membrane holding 10^4 W.s, integer thresholds; the weights must be
    integers).  ``input_bound``: the largest |value| of an input spike when the input is integer (None for the
    encoded image); with integer weights and ``fan-in * max|w| * input_bound < 2^24`` the convolutions run in
    float32, which is then exact.
    """

    _negative_spikes = True  # subclasses with other dynamics need no shadow state

    def __init__(self, w, stride, padding, in_shape, theta, base, rule='exact', name='layer', integer=False,
                 input_bound=None, depthwise=False, authors_dynamics='shadow'):
        if rule not in RULES:
            raise ValueError('rule must be one of %s' % (RULES,))
        if authors_dynamics not in ('shadow', 'thresholds'):
            raise ValueError("authors_dynamics must be 'shadow' or 'thresholds'")
        self.authors_dynamics = authors_dynamics
        self.name = name
        self.w = np.asarray(w, dtype=np.float64)
        self.depthwise = bool(depthwise)
        kh, kw, cin, cout = self.w.shape
        h, wd, c = in_shape
        if c != cin:
            raise ValueError('%s: input has %d channels, weights expect %d' % (name, c, cin))
        if self.depthwise:
            if cout != 1:
                raise ValueError('%s: a depthwise kernel is HWC1, got %s' % (name, self.w.shape))
            cout = cin
        fan_in = kh * kw * (1 if self.depthwise else cin)
        self.stride = int(stride)
        self.pads = (architectures.same_padding(h, kh, stride, padding),
                     architectures.same_padding(wd, kw, stride, padding))
        self.out_shape = (architectures.conv_output_size(h, kh, stride, padding),
                          architectures.conv_output_size(wd, kw, stride, padding), cout)
        self.rule = rule
        self.integer = bool(integer)
        integer_w = bool(np.all(self.w == np.round(self.w)))
        if self.integer and (rule != 'exact' or not integer_w):
            raise ValueError('%s: integer neurons need integer weights and the exact rule' % name)
        self.theta, self.base = neuron_thresholds(theta, base, rule, self.integer)
        exact_f32 = (integer_w and input_bound is not None
                     and fan_in * float(np.abs(self.w).max(initial=0.0)) * input_bound < F32_EXACT)
        self.w_gemm = self.w.astype(np.float32 if exact_f32 else np.float64)
        self.fanout = self._fanout_map(h, wd, kh, kw, 1 if self.depthwise else cout)
        self.in_shape = (h, wd, c)

    def _fanout_map(self, h, wd, kh, kw, cout):
        """fanout[i, j]: synapses driven by one event at input pixel (i, j) (all output channels)."""
        def per_axis(size, k, pad, out):
            cnt = np.zeros(size, dtype=np.int64)
            for o in range(out):
                lo = o * self.stride - pad
                cnt[max(lo, 0):min(lo + k, size)] += 1
            return cnt
        ch = per_axis(h, kh, self.pads[0][0], self.out_shape[0])
        cw = per_axis(wd, kw, self.pads[1][0], self.out_shape[1])
        return np.outer(ch, cw) * cout

    def reset(self, n):
        shape = (n,) + self.out_shape
        self.m = np.zeros(shape, dtype=np.int64 if self.integer else np.float64)
        self.count = np.zeros(shape, dtype=np.int32)
        if self._negative_spikes and self.rule == 'authors' and self.authors_dynamics == 'thresholds':
            self.thre_pos = np.broadcast_to(self.base + self.theta, shape).copy()
            self.thre_neg = np.broadcast_to(self.base, shape).copy()
        elif self._negative_spikes and self.rule == 'authors':
            self.m_q = np.broadcast_to(self.base, shape).copy()
        elif self._negative_spikes:  # the thresholds of the next up- and down-spike, recomputed from the integer count after each spike
            self.hi = np.empty(shape, dtype=self.theta.dtype)
            self.hi[...] = self.base + self.theta
            self.lo = np.full(shape, self._lowest, dtype=self.theta.dtype)
        # rows (n, h, w) to examine even without input: those that spiked at the previous step; at the first
        # step all of them (None; a neuron whose BN bias alone exceeds a threshold fires without any input)
        self._pending = None

    @property
    def _lowest(self):
        return np.iinfo(np.int64).min if self.integer else -np.inf

    def _membrane(self, z):
        """A convolution result in membrane units (int64 10^4 z for integer neurons: z is exact)."""
        if self.integer:
            return np.rint(z).astype(np.int64) * INT_SCALE
        return z

    def _conv(self, x):
        return self._membrane(block_conv(x.astype(self.w_gemm.dtype, copy=False), self.w_gemm, self.stride,
                                         self.pads, self.depthwise))

    def _fire(self, m, hi, lo):
        """(up, down) masks.  Float rule: up when m > b + (c+1) theta, down when c > 0 and m <= b + c theta.
        Integer rule: the same with ``>=`` and ``<`` (count = #{j : m >= b + j theta})."""
        if self.integer:
            return m >= hi, m < lo
        return m > hi, m <= lo

    def _update(self, rows):
        """Examine the neurons of ``rows`` (flat (n, h, w) indices, or None for all); apply their spikes.

        Returns the (up, down) masks of the examined rows, shaped (rows, channels).
        """
        cout = self.out_shape[2]
        m2, c2 = self.m.reshape(-1, cout), self.count.reshape(-1, cout)
        if self.rule == 'authors':  # float64 comparisons, as the authors' simulators (see the class docstring)
            sel = slice(None) if rows is None else rows
            m_b = np.maximum(m2[sel], self.base)
            if self.authors_dynamics == 'thresholds':
                pos, neg = self.thre_pos.reshape(-1, cout), self.thre_neg.reshape(-1, cout)
                up = m_b > pos[sel]
                down = (m_b < neg[sel] - 1e-5) & ~up
                move = np.where(up, self.theta, np.where(down, -self.theta, 0.0))
                pos[sel] += move
                neg[sel] += move
            else:
                q2 = self.m_q.reshape(-1, cout)
                d = m_b - q2[sel]
                up = d > self.theta
                down = (d < -1e-5) & ~up
                q2[sel] += np.where(up, self.theta, np.where(down, -self.theta, 0.0))
            c2[sel] += up.astype(np.int32) - down
        elif rows is None:  # every neuron: whole-array passes
            hi2, lo2 = self.hi.reshape(-1, cout), self.lo.reshape(-1, cout)
            up, down = self._fire(m2, hi2, lo2)
            c2 += up
            c2 -= down
            spiked = up | down
            if np.count_nonzero(spiked) > 0.1 * spiked.size:
                np.add(self.base, (c2 + 1) * self.theta, out=hi2)
                np.multiply(c2, self.theta, out=lo2)
                lo2 += self.base
                lo2[c2 == 0] = self._lowest
            else:
                self._set_thresholds(np.flatnonzero(spiked))
        else:
            hi2, lo2 = self.hi.reshape(-1, cout), self.lo.reshape(-1, cout)
            up, down = self._fire(m2[rows], hi2[rows], lo2[rows])
            spiked = up | down
            c2[rows] += up.astype(np.int32) - down
            r, c = np.nonzero(spiked)
            self._set_thresholds(rows[r] * cout + c)
        any_spike = (up | down).any(axis=1)
        self._pending = np.flatnonzero(any_spike) if rows is None else rows[any_spike]
        return up, down

    def _set_thresholds(self, flat):
        """Recompute the next thresholds of the neurons ``flat`` (flat NHWC indices) from their counts."""
        if not len(flat):
            return
        ch = flat % self.out_shape[2]
        c = self.count.reshape(-1)[flat]
        self.hi.reshape(-1)[flat] = self.base[ch] + (c + 1) * self.theta[ch]
        self.lo.reshape(-1)[flat] = np.where(c > 0, self.base[ch] + c * self.theta[ch], self._lowest)

    def _rows(self, x):
        """Output rows (flat n, h, w) touched by events ``x`` and their input increments (sparse im2col)."""
        kh, kw, cin = self.w.shape[:3]
        ho, wo, cout = self.out_shape
        hp = x.h + self.pads[0][0]
        wp = x.w + self.pads[1][0]
        oh = hp[:, None] - np.arange(kh)[None, :]          # (E, kh): output row * stride
        ow = wp[:, None] - np.arange(kw)[None, :]
        okh = (oh >= 0) & (oh % self.stride == 0) & (oh // self.stride < ho)
        okw = (ow >= 0) & (ow % self.stride == 0) & (ow // self.stride < wo)
        valid = okh[:, :, None] & okw[:, None, :]         # (E, kh, kw)
        e, i, j = np.nonzero(valid)
        row = (x.n[e] * ho + oh[e, i] // self.stride) * wo + ow[e, j] // self.stride
        rows, inv = np.unique(row, return_inverse=True)
        if self.depthwise:  # an event of channel c reaches channel c of its rows only
            c = x.c[e]
            delta = sparse.csr_matrix((x.v[e].astype(np.float64) * self.w[i, j, c, 0], (inv, c)),
                                      shape=(len(rows), cout))
            return rows, self._membrane(delta.toarray())
        col = (i * kw + j) * cin + x.c[e]
        im2col = sparse.csr_matrix((x.v[e].astype(np.float64), (inv, col)), shape=(len(rows), kh * kw * cin))
        return rows, self._membrane(im2col.dot(self.w.reshape(kh * kw * cin, cout)))

    def step_events(self, x):
        """Event-driven step; ``x`` is None, :class:`Events` or a dense NHWC array of spikes (or the encoded input).

        A busy input is convolved densely (BLAS beats scattering), a sparse one through the sparse im2col of its
        events; only the neurons that got input or spiked at the previous step are examined.  Returns
        ``(out, n_abs, n_signed)``: the output spikes -- None, :class:`Events`, or a dense int8 array when busy
        -- with their count and signed sum.  Identical spikes to :meth:`step`.
        """
        cout = self.out_shape[2]
        rows = self._pending
        if isinstance(x, Events) and len(x) > DENSE_INPUT_FRACTION * self.m.shape[0] * int(np.prod(self.in_shape)):
            x = x.to_dense((self.m.shape[0],) + self.in_shape)
        elif isinstance(x, np.ndarray) and np.count_nonzero(x) <= DENSE_INPUT_FRACTION * x.size:
            x = Events.from_dense(x)
        if isinstance(x, np.ndarray):
            self.m += self._conv(x)
            rows = None
        elif x is not None and len(x):
            touched, delta = self._rows(x)
            self.m.reshape(-1, cout)[touched] += delta
            if rows is not None:  # None (the first step): every neuron is examined anyway
                rows = np.union1d(touched, rows)
        if rows is not None and not len(rows):
            return None, 0, 0
        up, down = self._update(rows)
        n_up, n_down = np.count_nonzero(up), np.count_nonzero(down)
        if not n_up + n_down:
            return None, 0, 0
        shape = self.m.shape
        if rows is None and n_up + n_down > DENSE_INPUT_FRACTION * self.m.size:
            out = (up.view(np.int8) - down.view(np.int8)).reshape(shape)
        else:
            cout = shape[3]
            r_up, c_up = np.nonzero(up)
            r_dn, c_dn = np.nonzero(down)
            rr = np.concatenate((r_up, r_dn))
            flat = (rr if rows is None else rows[rr]) * cout + np.concatenate((c_up, c_dn))
            v = np.concatenate((np.ones(n_up, np.int8), -np.ones(n_down, np.int8)))
            n_idx, h_idx, w_idx, c_idx = np.unravel_index(flat, shape)
            out = Events(n_idx, h_idx, w_idx, c_idx, v)
        return out, int(n_up + n_down), int(n_up - n_down)

    def sops_events(self, x):
        """Synaptic operations caused by input ``x`` (|value| times each event's fan-out), Events or dense."""
        if isinstance(x, np.ndarray):
            return self.sops(x)
        if x is None or not len(x):
            return 0
        return int(np.dot(np.abs(x.v).astype(np.int64), self.fanout[x.h, x.w]))

    def step(self, x):
        """Dense engine: advance one step with input ``x`` (None means no input); returns the int8 spikes."""
        if x is not None:
            self.m += self._conv(x)
        up, down = self._update(None)
        return (up.view(np.int8) - down.view(np.int8)).reshape(self.m.shape)

    def sops(self, x):
        """Synaptic operations caused by input events ``x`` (|x| times each event's fan-out)."""
        if x is None:
            return 0
        return int(np.tensordot(np.abs(x).sum(axis=(0, 3)), self.fanout, axes=2))


class ScatterGatherConv(SpikingConv):
    """One hidden block as multi-threshold neurons: a graded spike 0..levels in a single step.

    ``thresholds`` (``rule='authors'``): the authors' [levels, channels] table
    (:func:`authors_level_thresholds`), compared with ``>=``; the exact rule derives its thresholds from
    (theta, base)."""

    _negative_spikes = False

    def __init__(self, w, stride, padding, in_shape, theta, base, levels, rule='exact', noise_ratio=0.0, rng=None,
                 name='layer', input_bound=None, thresholds=None):
        super(ScatterGatherConv, self).__init__(w, stride, padding, in_shape, theta, base, rule=rule, name=name,
                                                input_bound=input_bound)
        self.levels = int(levels)
        self.noise_ratio = float(noise_ratio)
        self.rng = rng if rng is not None else np.random.RandomState(0)
        if rule == 'authors':
            if thresholds is None:  # the same (theta, base) thresholds, in float64
                thresholds = self.base[None, :] + (np.arange(self.levels)[:, None] + 1.0) * self.theta[None, :]
            self.thresholds = np.asarray(thresholds, dtype=np.float64)
            if self.thresholds.shape != (self.levels, self.out_shape[2]):
                raise ValueError('%s: thresholds must be [%d, %d]' % (name, self.levels, self.out_shape[2]))

    def step(self, x):
        """Integrate ``x`` and emit ``#{j <= levels : m > b + j theta}`` (rule='authors': ``#{i : m >= T_i}``
        with the authors' table).  Noise drops each comparison with probability ``noise_ratio`` (the authors
        keep one when U > r; the exact rule when U >= r)."""
        if x is not None:
            self.m += self._conv(x)
        out = np.zeros(self.m.shape, dtype=np.int16)
        for j in range(1, self.levels + 1):
            if self.rule == 'exact':
                fire = self.m > self.base + j * self.theta
            else:
                fire = self.m >= self.thresholds[j - 1]
            if self.noise_ratio > 0:
                u = self.rng.random_sample(self.m.shape)
                fire &= (u >= self.noise_ratio) if self.rule == 'exact' else (u > self.noise_ratio)
            out += fire
        self.count = out.astype(np.int32)
        return out


class DynamicThresholdConv(SpikingConv):
    """The all-integer family's encoding layer (dynamic threshold).

    Integrates the encoded input once (t = 0); at each of its first ``levels`` steps t it emits a spike of
    value ``amplitude`` where the membrane exceeds ``b + (t + 1) theta`` -- a threshold that rises by theta per
    step -- so it emits exactly the ANN's first-block level (0..levels) of spikes.  Once a neuron is silent it
    stays silent (its membrane is fixed and the threshold only rises).
    """

    _negative_spikes = False

    def __init__(self, w, stride, padding, in_shape, theta, base, levels, amplitude, rule='exact', name='layer'):
        super(DynamicThresholdConv, self).__init__(w, stride, padding, in_shape, theta, base, rule=rule, name=name)
        self.levels, self.amplitude = int(levels), int(amplitude)

    def reset(self, n):
        super(DynamicThresholdConv, self).reset(n)
        self.t = 0
        self._threshold = self.base + self.theta  # rule='authors': raised by theta after each step, in float64

    def step(self, x):
        if x is not None:
            self.m += self._conv(x)
        t, self.t = self.t, self.t + 1
        if t >= self.levels:
            return np.zeros(self.m.shape, dtype=np.int16)
        if self.rule == 'exact':
            fire = self.m > self.base + (t + 1) * self.theta
        else:  # the authors' running threshold, compared with max(m, b) as theirs
            fire = np.maximum(self.m, self.base) >= self._threshold
            self._threshold = self._threshold + self.theta
        self.count += fire
        return fire.astype(np.int16) * np.int16(self.amplitude)

    def step_events(self, x):
        if isinstance(x, Events):
            x = x.to_dense((self.m.shape[0],) + self.in_shape)
        s = self.step(x)
        if not s.any():
            return None, 0, 0
        out = Events.from_dense(s)
        total = int(np.abs(out.v).sum(dtype=np.int64))
        return out, total, total


class Trace(object):
    """Result of :meth:`SpikingNetwork.simulate` for one batch.

    logits [T, N, classes]; spike_num, spike_collect, sop_num [T] cumulative; abs_spike, sum_spike [T] per
    step (|spikes| and signed spikes at that step); counts: final per-layer spike counts (int arrays, NHWC);
    steps_run: steps actually computed (the rest were filled after quiescence); converged: whether the
    network became quiescent within T steps.  The spike counters cover the layers the family counts.
    """

    def __init__(self, logits, spike_num, spike_collect, sop_num, counts, steps_run, converged, abs_spike=None,
                 sum_spike=None):
        self.logits = logits
        self.spike_num = spike_num
        self.spike_collect = spike_collect
        self.sop_num = sop_num
        self.abs_spike = abs_spike
        self.sum_spike = sum_spike
        self.counts = counts
        self.steps_run = steps_run
        self.converged = converged

    def predictions(self):
        return np.argmax(self.logits, axis=2)

    @classmethod
    def merge(cls, traces):
        """The trace of a batch from the traces of its consecutive sub-batches (images are independent)."""
        def total(key):
            values = [getattr(t, key) for t in traces]
            return None if values[0] is None else np.sum(values, axis=0)
        counts = [np.concatenate(layer) for layer in zip(*[t.counts for t in traces])]
        return cls(np.concatenate([t.logits for t in traces], axis=1), total('spike_num'), total('spike_collect'),
                   total('sop_num'), counts, max(t.steps_run for t in traces), all(t.converged for t in traces),
                   abs_spike=total('abs_spike'), sum_spike=total('sum_spike'))

    def correct(self, labels):
        """[T] number of correct predictions at each step."""
        return (self.predictions() == np.asarray(labels)[None, :]).sum(axis=1)


class SpikingNetwork(object):
    """A converted network: hidden :class:`SpikingConv` layers and a dense readout on accumulated counts."""

    def __init__(self, arch, layers, w_out, k, B=None, engine='sparse', use_ternary=None, use_int=False,
                 noise_ratio=0.0):
        if engine not in ENGINES:
            raise ValueError('engine must be one of %s' % (ENGINES,))
        self.log_files = self.log_files_of(arch)
        self.engine = engine
        self.arch = arch
        self.layers = layers
        self.w_out = np.asarray(w_out, dtype=np.float64)
        self.k = int(k)
        self.B = None if B is None else int(B)
        self.use_ternary = arch.weight_quant_for(use_ternary) == 'ternary'
        self.use_int = bool(use_int)
        self.noise_ratio = float(noise_ratio)
        self.family = arch.family
        self.meta = {}
        self.seed = 0
        self.rule = 'exact'
        self.rng = np.random.RandomState(0)
        self.workers, self._pool = 1, None
        # the encoding layer's spikes are not counted in the all-integer family (the authors' convention)
        self.counted_from = 1 if self.family == 'integer' else 0
        # the authors' SOP convention for graded spikes
        self.sop_factor = 2 * (2 ** self.k) * self.B if self.family == 'scatter_gather' else 1

    @staticmethod
    def log_files_of(arch):
        """The log files a family writes."""
        if arch.family == 'scatter_gather':
            return ('accuracy.txt', 'spike_num.txt', 'sop_num.txt')
        return ALL_LOG_FILES if arch.family == 'integer' else LOG_FILES

    @property
    def config_tag(self):
        """Names the checkpoint: 'k1', 'k1B2', 'k0_WQ'."""
        return self.arch.config_tag(self.k, self.B, self.use_ternary)

    @property
    def log_tag(self):
        """The log folder under figs/: 'k1', 'k1B2', 'WQ_INT/k0'."""
        return self.arch.log_tag(self.k, self.B, self.use_ternary, self.use_int)

    def reseed(self, batch_index):
        """Seed the random draws (scatter-and-gather threshold noise; input noise of the negative-spike and
        all-integer families) from (seed, batch index)."""
        self.rng = np.random.RandomState([self.seed, int(batch_index)])
        for layer in self.layers:
            if hasattr(layer, 'rng'):
                layer.rng = self.rng

    def encode(self, x):
        """The input as injected at t = 0: ``x * 2^k``, times ``1 + (U[0,1) - 0.5) r`` with input noise r."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[1:] != self.arch.input_shape:
            raise ValueError('input batch has shape %s, %s expects (N,)+%s'
                             % (x.shape, self.arch.name, self.arch.input_shape))
        encoded = x * (2.0 ** self.k)
        if self.family != 'scatter_gather' and self.noise_ratio > 0:  # one draw per input value, NHWC order
            encoded = encoded * (1.0 + (self.rng.random_sample(x.shape) - 0.5) * self.noise_ratio)
        return encoded

    @classmethod
    def from_params(cls, arch, params, k, B=None, rule='exact', noise_ratio=0.0, seed=0, source='parameters',
                    engine='sparse', use_ternary=None, use_int=False):
        """Convert a parameter list in the authors' order for architecture ``arch`` (name or object).

        ``B`` (scatter-and-gather only): activation bound.  ``noise_ratio``: scatter-and-gather: probability
        of dropping each first-layer threshold comparison; negative-spike and all-integer: input noise
        amplitude r (input times ``1 + (U[0,1) - 0.5) r``); drawn from ``seed`` and the batch index.
        ``rule``: 'exact' (neuron-exact, the default) or 'authors' (the authors' simulators: their update,
        their threshold arithmetic in the checkpoint's dtype, their readout-SOP convention).
        ``use_ternary`` (None: the architecture's default): ternarize the hidden weights (TWN, as the ANN's
        forward pass; idempotent on stored ternary weights); all-integer family only, ``use_int``: integer
        membranes and thresholds (needs ternary weights).
        """
        if isinstance(arch, str):
            arch = architectures.get(arch)
        k = int(k)
        if k < 0:
            raise ConversionError('k must be >= 0, got %d' % k)
        if arch.uses_B:
            if B is None or int(B) < 1:
                raise ConversionError('%s (scatter-and-gather) needs B >= 1, got %s' % (arch.name, B))
        elif B is not None:
            raise ConversionError('B applies to the scatter-and-gather family only; %s is %s' % (arch.name, arch.family))
        if not 0.0 <= float(noise_ratio) <= 1.0:
            raise ConversionError('noise_ratio must be in [0, 1], got %g' % noise_ratio)
        if rule not in RULES:
            raise ConversionError('rule must be one of %s, got %r' % (', '.join(RULES), rule))
        if use_int and arch.family != 'integer':
            raise ConversionError('use_int applies to the all-integer family only; %s is %s' % (arch.name, arch.family))
        if use_int and rule != 'exact':
            raise ConversionError("integer thresholds use their own consistent rule; rule='authors' is the float one")
        if use_ternary is not None and not arch.optional_ternary and bool(use_ternary) != (arch.weight_quant == 'ternary'):
            raise ConversionError('%s has %s hidden weights; use_ternary=%s does not apply' % (
                arch.name, 'ternary' if arch.weight_quant == 'ternary' else 'full-precision', use_ternary))
        ternary = arch.weight_quant_for(use_ternary) == 'ternary'
        if use_int and not ternary:
            raise ConversionError('integer thresholds need integer (ternary) hidden weights: use_ternary=True')
        check_params(arch, params, source)
        params = prepare_params(arch, params, ternary)
        first_k = arch.first_quant[0] if arch.first_quant else k
        if first_k > k:
            raise ConversionError('k=%d is below the first layer\'s k0=%d: its spikes would not be integers'
                                  % (k, first_k))
        fold = _fold_bn_authors if rule == 'authors' else _fold_bn
        layers = []
        for i, blk in enumerate(arch.blocks):
            w, beta, gamma, mean, var = params[5 * i:5 * i + 5]
            label = '%s block %d' % (source, i + 1)
            geometry = dict(stride=blk.stride, padding=blk.padding, in_shape=arch.block_input_shape(i), rule=rule,
                            name='block%d' % (i + 1))
            if blk.depthwise:
                geometry['depthwise'] = True
            if i == 0 and arch.first_quant:
                w, theta, base = fold(w, beta, gamma, mean, var, k, label, level_k=first_k)
                layers.append(DynamicThresholdConv(w, theta=theta, base=base, levels=(2 ** first_k) * arch.first_quant[1],
                                                   amplitude=2 ** (k - first_k), **geometry))
                continue
            w, theta, base = fold(w, beta, gamma, mean, var, k, label, depthwise=blk.depthwise)
            if i == 0:
                bound = None  # the encoded image
            elif arch.uses_B:
                bound = (2 ** k) * int(B)
            else:
                bound = 2 ** (k - first_k) if i == 1 else 1
            if arch.uses_B:
                levels = (2 ** k) * int(B)
                table = authors_level_thresholds(beta, gamma, mean, var, k, levels) if rule == 'authors' else None
                layers.append(ScatterGatherConv(w, theta=theta, base=base, levels=levels,
                                                noise_ratio=noise_ratio if i == 0 else 0.0, input_bound=bound,
                                                thresholds=table, **geometry))
            else:
                if rule == 'authors' and arch.family == 'integer':  # the all-integer scripts' neuron
                    geometry['authors_dynamics'] = 'thresholds'
                layers.append(SpikingConv(w, theta=theta, base=base, integer=use_int and i > 0, input_bound=bound,
                                          **geometry))
        net = cls(arch, layers, params[-1], k, B, engine=engine, use_ternary=ternary, use_int=use_int,
                  noise_ratio=noise_ratio)
        net.seed = int(seed)
        net.rule = rule
        net.reseed(0)
        return net

    @classmethod
    def from_checkpoint(cls, path, arch, k=None, B=None, rule='exact', noise_ratio=0.0, seed=0, engine='sparse',
                        use_ternary=None, use_int=False):
        """Load ``path`` and convert it; refuses checkpoints whose metadata disagree with the request.

        ``k``, ``B``, ``use_ternary`` default to the checkpoint's record (else the architecture's defaults).
        """
        params, meta = load_checkpoint(path)
        arch_obj = architectures.get(arch) if isinstance(arch, str) else arch
        k, B = resolve_config(meta, arch_obj, path, k=k, B=B)
        ternary = resolve_ternary(meta, arch_obj, path, use_ternary)
        net = cls.from_params(arch_obj, params, k, B=B, rule=rule, noise_ratio=noise_ratio, seed=seed,
                              source=os.path.basename(path), engine=engine, use_ternary=ternary, use_int=use_int)
        net.meta = meta
        return net

    def simulate(self, x, time_steps):
        """Simulate one batch ``x`` (NHWC float, the ANN's preprocessed input) for ``time_steps`` steps.

        Stops computing as soon as no neuron spiked during a step (nothing can change
        afterwards: the input is zero after t = 0) and fills the remaining steps with
        the converged values, so the trace equals that of a full run.
        """
        if time_steps < 1:
            raise ValueError('time_steps must be >= 1')
        encoded = self.encode(x)
        pool = getattr(self, '_pool', None)
        if pool is not None and len(encoded) >= 2 and self.family != 'scatter_gather':
            chunks = np.array_split(encoded, min(self.workers, len(encoded)))
            return Trace.merge(pool.map(_worker_simulate, [(c, time_steps) for c in chunks]))
        return self._simulate_encoded(encoded, time_steps)

    def set_workers(self, workers):
        """Simulate every batch split into ``workers`` sub-batches in as many processes (each with one BLAS
        thread), merged exactly: images are independent, so the trace is the one of a single process.
        ``workers=1`` goes back to this process.  Scatter-and-gather (one step, per-layer noise draws) stays
        in-process.  Call :meth:`close` (or use ``with net:``) to stop the workers."""
        import multiprocessing

        self.close()
        self.workers = int(workers)
        if self.workers < 1:
            raise ValueError('workers must be >= 1')
        if self.workers == 1:
            return self
        for layer in self.layers:
            layer.reset(0)  # ship the network without simulation state
        saved = {key: os.environ.get(key) for key in _BLAS_THREAD_VARS}
        os.environ.update({key: '1' for key in _BLAS_THREAD_VARS})  # read by the workers' numpy at import
        try:
            self._pool = multiprocessing.get_context('spawn').Pool(self.workers, _worker_init, (self,))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return self

    def close(self):
        pool = getattr(self, '_pool', None)
        if pool is not None:
            pool.close()
            pool.join()
        self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_pool'] = None
        return state

    def _simulate_encoded(self, encoded, time_steps):
        n = encoded.shape[0]
        for layer in self.layers:
            layer.reset(n)
        logits = np.zeros((time_steps, n, self.arch.n_classes), dtype=np.float64)
        counters = {key: np.zeros(time_steps, dtype=np.int64)
                    for key in ('spike_num', 'spike_collect', 'sop_num', 'abs_spike', 'sum_spike')}
        n_abs = n_sig = n_sop = 0
        last = len(self.layers) - 1
        single_step = self.family == 'scatter_gather'
        converged = False
        t = 0
        event_driven = self.engine == 'sparse' and not single_step
        readout_sop = self.arch.readout_sop_for(self.rule)

        def advance(i, layer, inp):
            """One layer, one step: (output spikes or None, their |sum|, their signed sum, input SOPs)."""
            if event_driven:
                sops = layer.sops_events(inp) if i > 0 else 0
                out, n_abs, n_sig = layer.step_events(inp)
                return out, n_abs, n_sig, sops
            sops = layer.sops(inp) * self.sop_factor if i > 0 else 0
            out = layer.step(inp)
            if not out.any():
                return None, 0, 0, sops
            return out, int(np.abs(out).sum(dtype=np.int64)), int(out.sum(dtype=np.int64)), sops

        for t in range(time_steps):
            inp = encoded if t == 0 else None
            active = False
            step_abs = step_sig = 0
            for i, layer in enumerate(self.layers):
                inp, layer_abs, layer_sig, sops = advance(i, layer, inp)
                n_sop += sops
                if inp is not None:
                    active = True
                    if i >= self.counted_from:
                        step_abs += layer_abs
                        step_sig += layer_sig
                    if i == last and readout_sop:  # readout accumulation (the rule's convention)
                        n_sop += layer_abs * self.arch.n_classes
            n_abs += step_abs
            n_sig += step_sig
            logits[t] = np.dot(readout_input(self.arch, self.layers[-1].count.astype(np.float64)), self.w_out)
            for key, value in (('spike_num', n_abs), ('spike_collect', n_sig), ('sop_num', n_sop),
                               ('abs_spike', step_abs), ('sum_spike', step_sig)):
                counters[key][t] = value
            if not active or single_step:  # scatter-and-gather: one step is the whole computation
                converged = True
                break
        steps_run = t + 1
        if steps_run < time_steps:  # cumulative values stay, per-step ones are 0 from here on
            logits[steps_run:] = logits[steps_run - 1]
            for key in ('spike_num', 'spike_collect', 'sop_num'):
                counters[key][steps_run:] = counters[key][steps_run - 1]
        counts = [layer.count.copy() for layer in self.layers]
        return Trace(logits, counters['spike_num'], counters['spike_collect'], counters['sop_num'], counts,
                     steps_run, converged, abs_spike=counters['abs_spike'], sum_spike=counters['sum_spike'])


def _block_pads(arch, i):
    h, wd, _ = arch.block_input_shape(i)
    blk = arch.blocks[i]
    return (architectures.same_padding(h, blk.kernel, blk.stride, blk.padding),
            architectures.same_padding(wd, blk.kernel, blk.stride, blk.padding))


def _ann_levels(arch, i, z, beta, gamma, mean, var, k, B):
    """The ANN quantizer of block ``i`` on pre-activations ``z``: (integer levels, levels per unit 2^kq)."""
    kq, Bq = arch.first_quant if (i == 0 and arch.first_quant) else (k, B)
    y = np.maximum(gamma * (z - mean) / np.sqrt(var + BN_EPS) + beta, 0.0)
    if Bq is not None:
        y = np.minimum(y, float(Bq))
    return np.round(y * 2.0 ** kq + ROUND_OFFSET).astype(np.int64), 2.0 ** kq


_BLAS_THREAD_VARS = ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS')
_WORKER_NET = None


def _worker_init(net):
    import signal
    global _WORKER_NET
    _WORKER_NET = net
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent handles it


def _worker_simulate(args):
    encoded, time_steps = args
    return _WORKER_NET._simulate_encoded(encoded, time_steps)


def quantized_forward(arch, params, x, k, B=None, use_ternary=None, use_int=False):
    """Float64 numpy forward of the quantized ANN (activations clipped to B first when given).

    Returns ``(levels, logits)``: per hidden block the integer levels ``round(2^k y + 1e-5)`` (the first
    block of the all-integer family: ``round(2^k0 clip(y, B0) + 1e-5)``) -- the SNN's target counts, NHWC --
    and the ANN logits.  ``use_ternary``: ternarize the hidden weights as the ANN does (None: the
    architecture's default).  ``use_int``: the integer-threshold ANN of the all-integer family (its hidden
    levels are ``#{j >= 1 : 10^4 W.c >= b_int + j theta_int}`` with the integer thresholds of
    :func:`integer_thresholds`).
    """
    if isinstance(arch, str):
        arch = architectures.get(arch)
    check_params(arch, params)
    params = prepare_params(arch, params, arch.weight_quant_for(use_ternary) == 'ternary')
    a = np.asarray(x, dtype=np.float64)
    levels = []
    for i, blk in enumerate(arch.blocks):
        w, beta, gamma, mean, var = (np.asarray(p, dtype=np.float64) for p in params[5 * i:5 * i + 5])
        pads = _block_pads(arch, i)
        if use_int and i > 0:
            w, theta, base = _fold_bn(w, beta, gamma, mean, var, k, 'block %d' % (i + 1), depthwise=blk.depthwise)
            theta, base = neuron_thresholds(theta, base, 'exact', integer=True)
            counts = np.rint(a * 2.0 ** k)
            m = np.rint(block_conv(counts, w, blk.stride, pads, blk.depthwise)).astype(np.int64) * INT_SCALE
            lv, per_unit = np.maximum((m - base) // theta, 0), 2.0 ** k
        else:
            lv, per_unit = _ann_levels(arch, i, block_conv(a, w, blk.stride, pads, blk.depthwise), beta, gamma, mean,
                                       var, k, B)
        levels.append(lv)
        a = lv / per_unit
    logits = np.dot(readout_input(arch, a), np.asarray(params[-1], dtype=np.float64))
    return levels, logits


def random_calibrated_params(arch, x, rng, k=1, gamma_range=(0.5, 1.5), B=None, use_ternary=None):
    """Random parameters for ``arch`` with BN statistics calibrated on the batch ``x``.

    Weights are He-normal (hidden ones ternarized when ``arch.weight_quant_for(use_ternary)`` says so),
    gamma ~ U(gamma_range), beta ~ N(0, 0.5), and the BN moving statistics are the mean/variance of each
    block's pre-activations over ``x`` (fed through the quantized layers below), so the activations are
    in a realistic range.  For tests and benchmarks.
    """
    if isinstance(arch, str):
        arch = architectures.get(arch)
    ternary = arch.weight_quant_for(use_ternary) == 'ternary'
    a = np.asarray(x, dtype=np.float64)
    params = []
    for i, blk in enumerate(arch.blocks):
        cin = arch.block_input_shape(i)[2]
        w = rng.normal(0.0, np.sqrt(2.0 / blk.fan_in(cin)), blk.weight_shape(cin))
        if ternary and i > 0:
            w = ternarize(w)
        z = block_conv(a, w, blk.stride, _block_pads(arch, i), blk.depthwise)
        mean, var = z.mean(axis=(0, 1, 2)), z.var(axis=(0, 1, 2)) + 1e-3
        gamma = rng.uniform(gamma_range[0], gamma_range[1], blk.filters)
        beta = rng.normal(0.0, 0.5, blk.filters)
        params += [w.astype(np.float32), beta.astype(np.float32), gamma.astype(np.float32),
                   mean.astype(np.float32), var.astype(np.float32)]
        f32 = [p.astype(np.float64) for p in params[-4:]]
        lv, per_unit = _ann_levels(arch, i, z, f32[0], f32[1], f32[2], f32[3], k, B)
        a = lv / per_unit
    params.append(rng.normal(0.0, np.sqrt(1.0 / arch.flat_features), (arch.flat_features, arch.n_classes))
                  .astype(np.float32))
    return params


# ----------------------------------------------------------------------------- test-set runs and logs

# Counters a family's logs write as floats (their scripts accumulate them in float64 arrays): the number format
# is the family's, whatever the rule.  Everything else is written as an integer.
FLOAT_LOGS = {
    'negative': ('spike_collect.txt',),                   # '12924.0'
    'integer': ('spike_collect.txt',),
    'scatter_gather': ('spike_num.txt', 'sop_num.txt'),   # '1676065.0'
}


def format_log_lines(trace, labels, files=LOG_FILES, family='negative'):
    """The log files' lines for one batch, in the authors' formats of ``family`` (``files`` selects which):
    integers, except the counters of :data:`FLOAT_LOGS`, written as Python floats (``repr``, as numpy's
    ``str`` of a float64)."""
    floats = FLOAT_LOGS[family]
    columns = {'accuracy.txt': trace.correct(labels), 'spike_num.txt': trace.spike_num,
               'spike_collect.txt': trace.spike_collect, 'sop_num.txt': trace.sop_num,
               'abs_spike.txt': trace.abs_spike, 'sum_spike.txt': trace.sum_spike}
    return {name: [repr(float(v)) for v in columns[name]] if name in floats else ['%d' % v for v in columns[name]]
            for name in files}


def write_logs(log_dir, lines_per_file, mode='a'):
    """Append (or write) each file's lines, flushed to disk before returning."""
    for name, lines in lines_per_file.items():
        with open(os.path.join(log_dir, name), mode) as f:
            f.write(''.join(line + '\n' for line in lines))
            f.flush()
            os.fsync(f.fileno())


def atomic_write_json(path, obj):
    """``path`` replaced at once by the JSON of ``obj`` (a kill leaves the old file or the new one)."""
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=True))


PROGRESS_FILE = 'progress.json'
_TOTALS = ('correct', 'spike_num', 'spike_collect', 'sop_num')


class _Progress(object):
    """The batches of a run whose log lines are complete on disk, and what they add up to.

    After each batch the log files are appended (and flushed), then ``progress.json`` -- the number of complete
    batches, each log file's size at that point and the running totals -- is replaced atomically.  A run killed
    at any moment therefore resumes exactly after its last complete batch: the files are cut back to the
    recorded sizes (dropping a partial batch) and the totals reloaded, so the finished files are byte-identical
    to those of an uninterrupted run.
    """

    def __init__(self, log_dir, key, files, time_steps):
        self.log_dir, self.key, self.files = log_dir, key, list(files)
        self.path = None if log_dir is None else os.path.join(log_dir, PROGRESS_FILE)
        self.done = 0
        self.totals = {name: np.zeros(time_steps, dtype=np.int64) for name in _TOTALS}
        self.steps_run = self.unconverged = self.n = 0

    def start_fresh(self):
        for stale in (self.path, os.path.join(self.log_dir, 'run.json')):
            if os.path.exists(stale):
                os.remove(stale)
        for name in self.files:
            open(os.path.join(self.log_dir, name), 'w').close()
        self.save()

    def resume(self):
        """Continue the recorded run; False (nothing recorded) means start afresh."""
        if not os.path.isfile(self.path):
            return False
        try:
            with open(self.path) as f:
                rec = json.load(f)
            key, done, sizes, totals = rec['key'], int(rec['done']), rec['sizes'], rec['totals']
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UserError('%s is unreadable (%s); run without --resume to start over' % (self.path, e))
        if done == 0:
            return False  # nothing was completed: starting afresh is the same
        diff = sorted(k for k in set(key) | set(self.key) if key.get(k) != self.key.get(k))
        if diff:
            raise UserError('%s holds a run with another %s; run without --resume (or use another --log_dir) to '
                            'start over' % (self.log_dir, ', '.join(diff)))
        for name in self.files:
            path = os.path.join(self.log_dir, name)
            size = os.path.getsize(path) if os.path.isfile(path) else -1
            if size < sizes[name]:
                raise UserError('%s is shorter than its %d complete batches (damaged); run without --resume to '
                                'start over' % (path, done))
            with open(path, 'r+') as f:  # drop the lines of a batch that was cut short
                f.truncate(sizes[name])
        run_json = os.path.join(self.log_dir, 'run.json')
        if os.path.exists(run_json):
            os.remove(run_json)
        self.done = done
        for name in _TOTALS:
            self.totals[name][:] = totals[name]
        self.steps_run, self.unconverged, self.n = totals['steps_run'], totals['unconverged'], totals['n']
        return True

    def add(self, trace, labels, lines):
        self.totals['correct'] += trace.correct(labels)
        for name in _TOTALS[1:]:
            self.totals[name] += getattr(trace, name)
        self.steps_run = max(self.steps_run, trace.steps_run)
        self.unconverged += 0 if trace.converged else 1
        self.n += len(labels)
        self.done += 1
        if self.log_dir is not None:
            write_logs(self.log_dir, lines)
            self.save()

    def save(self):
        totals = {name: [int(v) for v in self.totals[name]] for name in _TOTALS}
        totals.update(steps_run=int(self.steps_run), unconverged=int(self.unconverged), n=int(self.n))
        sizes = {name: os.path.getsize(os.path.join(self.log_dir, name)) for name in self.files}
        atomic_write_json(self.path, dict(key=self.key, done=self.done, sizes=sizes, totals=totals))


def run_key(net, x, y, time_steps, batch_size, shard=None, **extra):
    """What a resumed simulation must share with the run it continues (compared field by field)."""
    labels = np.asarray(y) if isinstance(y, np.ndarray) else None
    key = dict(architecture=net.arch.name, k=net.k, B=net.B, use_ternary=net.use_ternary, use_int=net.use_int,
               rule=net.rule, noise_ratio=net.noise_ratio, seed=net.seed, time_steps=int(time_steps),
               batch_size=int(batch_size), num_images=len(x), shard=None if shard is None else '%d/%d' % shard,
               labels_sha1=None if labels is None else hashlib.sha1(labels.astype(np.int64).tobytes()).hexdigest())
    key.update(extra)
    return key


def shard_batches(n_images, batch_size, shard=None):
    """Batch indices of ``shard`` = (i, n), 1-based: the i-th of n contiguous, batch-aligned slices."""
    n_batches = -(-n_images // batch_size)
    if shard is None:
        return range(n_batches)
    i, n = shard
    if not (n >= 1 and 1 <= i <= n):
        raise UserError('--shard must be I/N with 1 <= I <= N, got %s/%s' % (i, n))
    return range((i - 1) * n_batches // n, i * n_batches // n)


def parse_shard(text):
    """'I/N' -> (I, N), refusing anything else with a one-line error."""
    try:
        i, n = (int(v) for v in text.split('/'))
    except ValueError:
        raise UserError('--shard must look like I/N (e.g. 2/4), got %r' % text)
    shard_batches(n, 1, (i, n))  # validates
    return i, n


def shard_dir(log_dir, shard):
    return os.path.join(log_dir, 'shard-%d-of-%d' % shard)


def run_test_set(net, x, y, time_steps, batch_size, log_dir=None, progress=True, shard=None, resume=False,
                 key=None):
    """Simulate the (streamed) test set batch by batch; optionally write the log files.

    ``shard`` = (i, n) simulates only the i-th of n contiguous batch-aligned slices; :func:`merge_shards`
    concatenates the shards' logs into files identical to an unsharded run.  Every batch's random draws
    (scatter-and-gather noise) are seeded by (seed, batch index), so sharding does not change them.

    With ``log_dir``, the logs are written batch by batch with a progress record (:class:`_Progress`);
    ``resume=True`` continues a killed run after its last complete batch, giving files byte-identical to an
    uninterrupted run.  ``key``: extra fields the resumed run must share (e.g. the checkpoint's digest).

    Returns a dict: ``correct`` [T] (total correct at each step), ``n`` (images),
    ``spike_num``/``spike_collect``/``sop_num`` [T] summed over batches,
    ``steps_run`` (max over batches), ``unconverged`` (batches still active at T), ``batches`` (range),
    ``resumed_batches`` (complete batches found on disk).
    """
    batches = shard_batches(len(x), batch_size, shard)
    state = _Progress(log_dir, run_key(net, x, y, time_steps, batch_size, shard, **(key or {})), net.log_files,
                      time_steps)
    resumed = 0
    if log_dir is not None:
        ensure_writable_dir(log_dir, 'logs')
        if resume and state.resume():
            resumed = state.done
            print('resuming %s: %d of %d batches already complete' % (log_dir, resumed, len(batches)))
        else:
            if resume:
                print('nothing to resume in %s: starting from the first batch' % log_dir)
            state.start_fresh()
    todo = batches[resumed:]
    it = todo
    if progress:
        from tqdm import tqdm
        it = tqdm(todo, desc='SNN %s %s' % (net.arch.name, net.config_tag), unit='batch', file=sys.stderr,
                  initial=resumed, total=len(batches), mininterval=0.5 if sys.stderr.isatty() else 30)
    try:
        with StopRequest('stopping after this batch; the batches done stay logged (Ctrl-C again: at once)') as stop:
            for b in it:
                xb, yb = x[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]
                net.reseed(b)
                trace = net.simulate(xb, time_steps)
                lines = format_log_lines(trace, yb, net.log_files, net.family) if log_dir is not None else None
                state.add(trace, yb, lines)
                if stop.requested:
                    raise KeyboardInterrupt()
    except KeyboardInterrupt:
        if progress:
            it.close()
        if log_dir is None:
            raise
        raise KeyboardInterrupt('%d of %d batches logged in %s; continue with --resume'
                                % (state.done, len(batches), log_dir))
    total = dict(state.totals)
    total.update(n=state.n, steps_run=state.steps_run, unconverged=state.unconverged, batches=batches,
                 resumed_batches=resumed)
    return total


def merge_shards(log_dir):
    """Concatenate ``log_dir/shard-I-of-N/*.txt`` (all N present and finished) into ``log_dir``.

    The result is byte-identical to an unsharded run's logs; returns the merged ``run.json`` dict.
    """
    names = sorted(d for d in (os.listdir(log_dir) if os.path.isdir(log_dir) else []) if d.startswith('shard-'))
    if not names:
        raise UserError('no shard-I-of-N folders in %s: run with --shard I/N first' % log_dir)
    counts = {int(d.rsplit('-', 1)[1]) for d in names}
    if len(counts) != 1:
        raise UserError('%s mixes shard counts %s; remove the stale shard folders' % (log_dir, sorted(counts)))
    n = counts.pop()
    infos = []
    for i in range(1, n + 1):
        d = shard_dir(log_dir, (i, n))
        info_path = os.path.join(d, 'run.json')
        if not os.path.isfile(info_path):
            raise UserError('shard %d/%d is missing or unfinished (no %s)' % (i, n, info_path))
        with open(info_path) as f:
            infos.append(json.load(f))
    keys = ('architecture', 'k', 'B', 'use_ternary', 'use_int', 'time_steps', 'batch_size', 'checkpoint',
            'checkpoint_sha256', 'rule', 'noise_ratio', 'seed')
    for info in infos[1:]:
        diff = [key for key in keys if info.get(key) != infos[0].get(key)]
        if diff:
            raise UserError('shards of %s disagree on %s: they are not parts of one run' % (log_dir, ', '.join(diff)))
    files = [f for f in ALL_LOG_FILES if os.path.isfile(os.path.join(shard_dir(log_dir, (1, n)), f))]
    for name in files:
        parts = []
        for i in range(1, n + 1):
            with open(os.path.join(shard_dir(log_dir, (i, n)), name)) as f:
                parts.append(f.read())
        atomic_write_text(os.path.join(log_dir, name), ''.join(parts))
    merged = dict(infos[0])
    merged.pop('shard', None)
    merged['num_images'] = sum(info['num_images'] for info in infos)
    merged['steps_run'] = max(info['steps_run'] for info in infos)
    with open(os.path.join(log_dir, 'accuracy.txt')) as f:
        correct = np.array([int(v) for v in f.read().split()]).reshape(-1, merged['time_steps']).sum(axis=0)
    merged['snn_accuracy'] = float(100.0 * correct[-1] / merged['num_images'])
    merged['merged_from'] = n
    merged['shard_runs'] = [{key: info.get(key) for key in ('shard', 'command', 'host', 'date', 'git_revision')}
                            for info in infos]
    from tensorlayer_patches.provenance import provenance
    merged.update(provenance())
    atomic_write_json(os.path.join(log_dir, 'run.json'), merged)
    return merged


def first_matching_step(correct, target_correct):
    """1-based first step whose correct count equals ``target_correct`` and stays equal; None if never."""
    correct = np.asarray(correct)
    ok = correct == target_correct
    if not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    return 1 if bad.size == 0 else int(bad[-1]) + 2


# ----------------------------------------------------------------------------- command line

def snn_main(arch_name, script_file, argv=None, preset=()):
    """Command line of the ``Spiking_*`` workspace scripts (thin wrappers call this); ``preset``: flags put
    before the user's, for the seeds' per-setting script names (``inference_k0_slenet_N_MNIST.py``)."""
    return run_cli(lambda args: _snn_cli(arch_name, script_file, list(preset) + args), argv)


def _snn_cli(arch_name, script_file, argv):
    arch = architectures.select(arch_name, argv)
    mobilenet = arch.dataset == 'imagenet'
    if mobilenet:  # the variant (width, size, classes) is chosen by flags
        arch = _mobilenet_from_flags(argv)
    workspace = os.path.dirname(os.path.abspath(script_file))
    if arch.uses_B:
        tag = 'k<K>B<B>'
    elif arch.optional_ternary:
        tag = '{WQ,NWQ}[_INT]/k<K>'
    else:
        tag = 'k<K>'
    logs = os.path.join(arch.log_group, tag)
    p = ArgumentParser(
        description='Convert the quantized %s (%s, %s) to a spiking network, simulate the test set and write the '
                    'logs (%s) to figs/%s/. %s' % (arch.name, arch.string, arch.dataset,
                                                    ', '.join(SpikingNetwork.log_files_of(arch)),
                                                    logs, architectures.variants_help(arch_name)))
    architectures.add_selector_flags(p, arch_name, arch)
    p.add_argument('--k', type=int, default=None,
                   help='quantization level (default: the checkpoint\'s, else %d)' % arch.defaults['k'])
    if mobilenet:
        from tensorlayer_patches.distributed import add_mobilenet_flags
        add_mobilenet_flags(p)
    if arch.uses_B:
        p.add_argument('--B', type=int, default=None,
                       help='activation upper bound (default: the checkpoint\'s, else %d)' % arch.defaults['B'])
        p.add_argument('--noise_ratio', type=float, default=0.0,
                       help='probability of dropping each first-layer threshold comparison (default 0)')
        p.add_argument('--seed', type=int, default=0, help='random seed of the noise')
    if arch.optional_ternary:
        p.add_argument('--use_ternary', type=parse_bool, default=None,
                       help='True: ternary hidden weights (default: the checkpoint\'s, else %s)'
                            % (arch.weight_quant == 'ternary'))
        p.add_argument('--use_int', type=parse_bool, default=False,
                       help='True: all-integer hidden neurons (int64 membrane 10^4 W.s, integer thresholds; needs '
                            'ternary weights); logs in figs/WQ_INT/k<K>/ (default %(default)s)')
    if not arch.uses_B:  # negative-spike and all-integer families: input noise (one code path, SpikingNetwork.encode)
        p.add_argument('--noise_ratio', type=float, default=0.0,
                       help='input noise r: input x (1 + (U[0,1) - 0.5) r), drawn per batch from --seed '
                            '(default 0; the authors\' MNIST and CIFAR-10 simulators defaulted to 1.0)')
        p.add_argument('--seed', type=int, default=0, help='random seed of the noise')
    p.add_argument('--time_steps', type=int, default=arch.defaults['time_steps'], help='simulation steps T')
    p.add_argument('--batch_size', type=int, default=arch.defaults['sim_batch_size'], help='images per batch')
    p.add_argument('--num_test', type=int, default=None, help='simulate only the first N test images')
    p.add_argument('--data_dir', default=None, help='dataset folder (see README for the search order)')
    p.add_argument('--model_file', default=None, help='checkpoint (default: %s_%s.npz in the workspace)'
                   % (arch.name, 'k<K>_{WQ,NWQ}' if arch.optional_ternary else tag))
    p.add_argument('--log_dir', default=None, help='log folder (default: figs/%s/ in the workspace)' % logs)
    p.add_argument('--rule', choices=RULES, default='exact',
                   help="'exact' (neuron-exact, default) or 'authors' (the authors' simulators: their neuron update, "
                        "float32 thresholds and SOP counting, for comparing logs line for line)")
    p.add_argument('--shard', default=None, metavar='I/N',
                   help='simulate only the I-th of N contiguous slices of the test set (logs in <log_dir>/shard-I-of-N)')
    add_resume_flag(p, 'True: continue an interrupted run after its last complete batch (the logs come out '
                       'byte-identical to an uninterrupted run)')
    p.add_argument('--merge', action='store_true',
                   help='merge the finished shard-I-of-N logs of <log_dir> into one run (identical to an unsharded one)')
    p.add_argument('--engine', choices=ENGINES, default='sparse',
                   help="'sparse' (event-driven where the input is sparse, default) or 'dense' (reference)")
    p.add_argument('--workers', type=int, default=1,
                   help='processes sharing each batch (identical results; e.g. the number of CPU cores; default 1)')
    p.add_argument('--debug', action='store_true', help='show Python tracebacks')
    return _snn_run(arch, workspace, p.parse_args(argv))


def _mobilenet_from_flags(argv):
    """The MobileNet variant of ``--width_multiplier/--image_size/--num_classes`` (classes: the data set's)."""
    import argparse

    from tensorlayer_patches import imagenet
    from tensorlayer_patches.datasets import DatasetError
    from tensorlayer_patches.distributed import add_mobilenet_flags, mobilenet_arch

    pre = argparse.ArgumentParser(add_help=False)
    add_mobilenet_flags(pre)
    pre.add_argument('--data_dir', default=None)
    known, _ = pre.parse_known_args(argv)
    folder = None
    if known.num_classes is None and '-h' not in argv and '--help' not in argv:
        try:
            folder = imagenet.find_imagenet(known.data_dir)
        except DatasetError:
            folder = None  # loading the data reports it
    return mobilenet_arch(known, folder)


def _snn_run(arch, workspace, a):
    from tensorlayer_patches.datasets import load_test_inputs

    for flag, value in (('--time_steps', a.time_steps), ('--batch_size', a.batch_size), ('--num_test', a.num_test),
                        ('--workers', a.workers)):
        if value is not None and value < 1:
            raise UserError('%s must be >= 1, got %d' % (flag, value))
    if a.k is not None and a.k < 0:
        raise UserError('--k must be >= 0, got %d' % a.k)
    B, noise, seed = getattr(a, 'B', None), getattr(a, 'noise_ratio', 0.0), getattr(a, 'seed', 0)
    if B is not None and B < 1:
        raise UserError('--B must be >= 1, got %d' % B)
    if not 0.0 <= noise <= 1.0:
        raise UserError('--noise_ratio must be in [0, 1], got %g' % noise)
    ternary, use_int = getattr(a, 'use_ternary', None), getattr(a, 'use_int', False)
    k_guess = a.k if a.k is not None else arch.defaults['k']
    B_guess = (B if B is not None else arch.defaults['B']) if arch.uses_B else None
    model_file = a.model_file or os.path.join(workspace, '%s_%s.npz'
                                              % (arch.name, arch.config_tag(k_guess, B_guess, ternary)))
    net = SpikingNetwork.from_checkpoint(model_file, arch.name, k=a.k, B=B, rule=a.rule, noise_ratio=noise,
                                         seed=seed, engine=a.engine, use_ternary=ternary, use_int=use_int)
    log_dir = a.log_dir or os.path.join(workspace, 'figs', net.log_tag)
    if a.merge:
        merged = merge_shards(log_dir)
        print('merged %d shards into %s: %d images, SNN accuracy at T=%d: %.2f%%'
              % (merged['merged_from'], log_dir, merged['num_images'], merged['time_steps'], merged['snn_accuracy']))
        return merged
    shard = parse_shard(a.shard) if a.shard else None
    if shard:
        log_dir = shard_dir(log_dir, shard)
    x, y = load_test_inputs(arch.dataset, data_dir=a.data_dir, num_test=a.num_test, input_shape=arch.input_shape)
    if shard and not len(shard_batches(len(x), a.batch_size, shard)):
        raise UserError('shard %s holds no batch: use at most %d shards' % (a.shard, -(-len(x) // a.batch_size)))
    print('SNN: %s (%s), %s, %d test images, T=%d, batch %d, rule=%s, checkpoint %s'
          % (arch.name, arch.string, net.log_tag, len(x), a.time_steps, a.batch_size, a.rule, model_file))
    digest = file_sha256(model_file)  # once: the resume key and run.json
    with net.set_workers(a.workers):
        res = run_test_set(net, x, y, a.time_steps, a.batch_size, log_dir=log_dir, shard=shard, resume=a.resume,
                           key=dict(checkpoint_sha256=digest))
    acc = 100.0 * res['correct'] / res['n']
    extra = dict(shard='%d/%d' % shard, batches=[res['batches'].start, res['batches'].stop]) if shard else {}
    write_run_info(log_dir, arch, net.k, a.time_steps, a.batch_size, res['n'], model_file, a.rule,
                   B=net.B, noise_ratio=noise, seed=seed, snn_accuracy=float(acc[-1]), steps_run=res['steps_run'],
                   checkpoint_sha256=digest,
                   use_ternary=net.use_ternary, use_int=net.use_int, **extra)
    print('SNN accuracy per step (%%): %s' % ' '.join('%.2f' % v for v in acc))
    print('SNN accuracy at T=%d: %.2f%%  (network quiescent after %d steps%s)'
          % (a.time_steps, acc[-1], res['steps_run'],
             '' if not res['unconverged'] else '; %d batches still spiking at T' % res['unconverged']))
    ann = net.meta.get('ann_accuracy')
    if ann is not None and a.num_test is None and not shard:
        print('ANN test accuracy recorded in the checkpoint: %.2f%%' % (100.0 * float(ann)))
    print('logs written to %s%s' % (log_dir, '; when all shards are done, run again with --merge' if shard else ''))
    return res


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def write_run_info(log_dir, arch, k, time_steps, batch_size, n_images, model_file, rule, **extra):
    """``run.json`` beside the logs: what the figure scripts need, and the run's provenance (command line,
    package versions, git revision, host, date)."""
    from tensorlayer_patches.provenance import provenance

    info = dict(architecture=arch.name, network=arch.string, dataset=arch.dataset, family=arch.family, k=int(k),
                label='k=%d' % k + (', B=%d' % extra['B'] if extra.get('B') is not None else '')
                + (', integer' if extra.get('use_int') else ''),
                time_steps=int(time_steps), batch_size=int(batch_size), num_images=int(n_images),
                neurons=int(arch.n_neurons), neurons_per_layer=arch.neurons_per_layer(), ann_macs=int(arch.ann_macs()),
                checkpoint=os.path.abspath(model_file), rule=rule)
    if extra.get('checkpoint_sha256') is None:
        extra['checkpoint_sha256'] = file_sha256(model_file)
    info.update(provenance())
    info.update(extra)
    atomic_write_json(os.path.join(log_dir, 'run.json'), info)
