"""The compiled backend (``engine='compiled'``): numba kernels and certified float32, exact to the neuron.

Three things make it fast; none changes a single spike.

**Gather kernel for sparse steps** (:func:`gather_increments`).  The events of a step are sorted by input
pixel (a counting sort); every output position whose receptive field holds an event accumulates, for each
event there, the event's value times the weight row ``W[i, j, c, :]`` (contiguous in HWIO, so the inner loop
over output channels vectorizes); positions run in parallel (``prange``).  It replaces the scipy sparse
product below ``NumbaBackend.dense_fraction`` input density.

**Fused neuron update and event extraction** (:func:`fire`).  One parallel pass over the examined rows
compares every neuron with its next thresholds, updates its count and thresholds and writes its spike; a
second pass writes the events (row-major order) from per-row offsets.  It is the exact rule of
:class:`~snn_conversion.snn.neurons.NegativeSpikeNeuron` term for term (same threshold expressions, same
comparisons, float and integer membranes); the authors' rules keep their numpy update.

**Certified float32 on busy steps.**  A hidden layer's membrane is, in exact arithmetic, ``m = W * C`` with
``C`` the cumulative input (the previous layer's signed spike counts, integers; t = 0 is the only step with
the encoded image, and only the first layer sees it).  On a busy step the backend computes the whole membrane
afresh, ``m32 = fl32(W32 * C)``, with float32 BLAS (about twice as fast as float64), keeping ``C`` itself
exactly (:class:`Certificate`: float32 holds these integers exactly).  The product is evaluated in slices --
one sgemm per kernel position and block of at most 512 input channels, each adding into the float32 result
(:func:`conv32_chunked`) -- so that every output is a sum evaluated by a tree of height at most
``h = (channels per slice) + (number of slices)``, whatever order and blocking BLAS uses inside a slice.

The error bound: each term is a weight rounded to float32 (relative error <= u = 2^-24) times an integer
``|C| < 2^24`` (exact), rounded once (<= u); a sum evaluated by a tree of height ``h`` is within
``gamma_h = h u / (1 - h u)`` of the exact sum relative to the sum of the terms' magnitudes, with or without
FMA (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., secs. 3.1 and 4.2).  Hence, for the
neuron (row, o),

    |m32 - m| <= gamma_{h+2} * S + n * max|C| * 2^-125,   S = sum_i |W[i, o]| |C[row, i]|
    S <= min( max|C| * |W_o|_1 ,  |W_o|_2 * |C_row|_2 )                                      =: beta[row, o]

(the weight's own rounding is folded into gamma_{h+2}; the last term covers products and partial sums that
underflow, flushed to zero or not; the second bound is Cauchy-Schwarz, with ``|C_row|_2`` the 2-norm of C over
the row's receptive field, computed per row at every busy step; both norms carry a margin for their own
float64 rounding).  A neuron examined while its membrane still carries float32 error is *certain* when
``|m - hi| > beta`` and ``|m - lo| > beta`` (its next up- and down-thresholds): its decision is the exact one.
Otherwise it is flagged and its membrane is recomputed in float64 from ``C`` -- ``sum_i W[i, o] C[i]`` over
its receptive field, no history needed -- and marked exact until the next busy step.  Sparse steps add float64
increments to both kinds (they neither add float32 error nor remove it).  The guarantee: certified float32
decides every neuron as float64 arithmetic does; float64 itself is undecided only within ~n 2^-53 S of a
threshold, where the reference ``engine='dense'`` and any re-ordered float64 sum (the 'sparse' engine's scipy
products included) may already disagree.  ``stats`` counts examined and flagged (recomputed) neurons; on the
random CNN1 benchmark 0.08 % are flagged.

Layers that keep float64 GEMM on busy steps: the first layer (its input is the real-valued encoded image),
integer-membrane layers and layers whose float32 product is exact anyway (integer weights and inputs, see
:func:`snn_conversion.snn.kernels.gemm_dtype`), depthwise layers, and the authors' rule.
"""

from __future__ import absolute_import, division, print_function


import numpy as np
from scipy.linalg.blas import sgemm

from snn_conversion.snn.backends import Backend
from snn_conversion.snn.backends import numba_kernels as kern
from snn_conversion.snn.backends.numpy_backend import NumpyBackend
from snn_conversion.snn.kernels import Events
from snn_conversion.snn.neurons import NegativeSpikeNeuron

__all__ = ['NumbaBackend', 'BACKEND', 'gather_increments', 'Certificate', 'certifiable', 'chunks', 'conv32_chunked',
           'gamma', 'stats', 'U32']
U32 = 2.0 ** -24  # float32 unit roundoff
stats = {'examined': 0, 'flagged': 0}  # certified neurons examined / recomputed in float64 (this process)


def _routed(x, w, stride, pads, in_shape, out_shape, n_img):
    return kern.route_events(x.n, x.h, x.w, x.c, x.v, w.shape[0], w.shape[1], n_img, in_shape[0], in_shape[1],
                             out_shape[0], out_shape[1], stride, pads[0][0], pads[1][0])


def gather_increments(x, w, stride, pads, in_shape, out_shape, n_img):
    """Flat output rows reached by the Events ``x`` and their float64 increments ``W . x`` (rows, channels):
    the same numbers as :func:`snn_conversion.snn.kernels.event_increments` (up to float64 summation order)."""
    ptr, chan, val, rows = _routed(x, w, stride, pads, in_shape, out_shape, n_img)
    delta = np.zeros((rows.size, w.shape[3]))
    kern.gather_rows(ptr, chan, val, rows, w, delta, False, in_shape[0], in_shape[1], out_shape[0], out_shape[1],
                     stride, pads[0][0], pads[1][0])
    return rows, delta


CHUNK = 512  # at most this many input channels per float32 product


def chunks(w_shape):
    """The K-slices (i, j, c0, c1) of the chunked float32 convolution -- one per kernel position and block of at
    most ``CHUNK`` input channels -- and the height of its summation tree (the longest slice plus the number of
    slices).  Grouping kernel positions into deeper slices was measured: the copies cost more than the deeper
    sgemm gains."""
    kh, kw, cin = w_shape[:3]
    out = [(i, j, c0, min(c0 + CHUNK, cin)) for i in range(kh) for j in range(kw) for c0 in range(0, cin, CHUNK)]
    return out, min(cin, CHUNK) + len(out)


def conv32_chunked(x_pad, w32, stride, out_shape, parts):
    """fl32(W32 * x) of an already padded float32 input, summed slice by slice (``parts`` from :func:`chunks`),
    each slice one sgemm adding into the float32 output in place: (N ho wo, cout)."""
    ho, wo, cout = out_shape
    out = np.zeros((x_pad.shape[0] * ho * wo, cout), np.float32)
    for i, j, c0, c1 in parts:
        a = np.ascontiguousarray(x_pad[:, i:i + (ho - 1) * stride + 1:stride, j:j + (wo - 1) * stride + 1:stride,
                                       c0:c1])
        sgemm(1.0, w32[i, j, c0:c1].T, a.reshape(-1, c1 - c0).T, beta=1.0, c=out.T, overwrite_c=True)
    return out


def gamma(height):
    """Higham's gamma for a float32 sum of products evaluated by a tree of ``height`` additions, the weights'
    own rounding to float32 included."""
    k = height + 2
    return k * U32 / (1.0 - k * U32)


class Certificate(object):
    """What certified float32 needs of a layer: its cumulative input ``C`` (float32, padded, exact integers),
    the weights in float32 and transposed, and the per-neuron flags 'membrane recomputed exactly since the last
    busy step'.  :meth:`membrane32` gives the float32 membrane of a busy step and sets the bound (see the
    module's docstring): ``beta[row, o] = min(bound_l1[o], bound_l2[o] * s_row[row]) + tiny`` with
    ``bound_l1 = gamma max|C| |W_o|_1`` and ``bound_l2 = gamma |W_o|_2``, ``s_row`` the 2-norm of C over the
    row's receptive field (Cauchy-Schwarz: sum |W||C| <= |W_o|_2 |C_window|_2)."""

    def __init__(self, layer):
        """What depends on the weights only, once per layer."""
        self.pads, self.in_shape = layer.pads, layer.in_shape
        self.kernel, self.stride, self.out_shape = layer.w.shape[:2], layer.stride, layer.out_shape
        self.w32 = layer.w.astype(np.float32)
        self.w_t = np.ascontiguousarray(layer.w.transpose(3, 0, 1, 2))
        self.parts, height = chunks(layer.w.shape)
        cout = layer.out_shape[2]
        self.fan_in = int(np.prod(layer.w.shape[:3]))
        w2 = layer.w.reshape(self.fan_in, cout)
        slack = 1.0 + 4 * self.fan_in * 2.0 ** -53  # the float64 norms' own rounding
        self.gamma = gamma(height)
        self.l1 = np.abs(w2).sum(axis=0) * slack
        self.bound_l2 = self.gamma * np.sqrt((w2 * w2).sum(axis=0)) * slack
        self.start(0)

    def start(self, n):
        """A new batch of ``n`` images: C = 0, every membrane (0) exact."""
        (pt, pb), (pl, pr) = self.pads
        h, w, cin = self.in_shape
        ho, wo, cout = self.out_shape
        self.interior = (slice(None), slice(pt, pt + h), slice(pl, pl + w), slice(None))
        self.c_pad = np.zeros((n, h + pt + pb, w + pl + pr, cin), np.float32)
        self.exact = np.ones((max(n, 1) * ho * wo, cout), np.bool_)
        self.bound_l1 = np.zeros(cout)
        self.s_row = np.zeros(self.exact.shape[0])
        self.tiny = 0.0
        return self

    def add_dense(self, x):
        self.c_pad[self.interior] += x

    def add_events(self, x, pads):
        kern.scatter_add(self.c_pad, x.n, x.h, x.w, x.c, x.v.astype(np.float32), pads[0][0], pads[1][0])

    def membrane32(self):
        """The float32 membrane ``fl32(W32 * C)`` (N ho wo, cout); every neuron's float32 error bound set."""
        out = conv32_chunked(self.c_pad, self.w32, self.stride, self.out_shape, self.parts)
        sq, max_c = kern.squares(self.c_pad)
        self.bound_l1 = self.gamma * max_c * self.l1
        self.tiny = self.fan_in * max_c * 2.0 ** -125
        (kh, kw), s, (ho, wo, _) = self.kernel, self.stride, self.out_shape
        window = np.zeros((sq.shape[0], ho, wo))
        for i in range(kh):
            for j in range(kw):
                window += sq[:, i:i + (ho - 1) * s + 1:s, j:j + (wo - 1) * s + 1:s]
        self.s_row = np.sqrt(window).reshape(-1) * (1.0 + 2.0 ** -40)
        self.exact[...] = False
        return out

    def exact_membrane(self, flat_rows):
        """float64 ``W * C`` of the rows ``flat_rows`` (all channels), from the cumulative input."""
        ho, wo, cout = self.out_shape
        out = np.empty((len(flat_rows), cout))
        for r, row in enumerate(flat_rows):
            n, rem = divmod(int(row), ho * wo)
            for o in range(cout):
                out[r, o] = kern.membrane_at(self.w_t, self.c_pad, n, rem // wo, rem % wo, o, self.stride)
        return out


class _NoCertificate(object):
    exact = np.zeros((1, 1), np.bool_)
    bound_l1 = bound_l2 = s_row = np.zeros(1)
    tiny = 0.0
    w_t = np.zeros((1, 1, 1, 1))
    c_pad = np.zeros((1, 1, 1, 1), np.float32)


def certifiable(layer):
    """Whether a layer's busy steps run in certified float32 (see the module's docstring)."""
    return (isinstance(getattr(layer, 'neuron', None), NegativeSpikeNeuron) and not layer.integer
            and not layer.depthwise and layer.input_bound is not None and layer.w_gemm.dtype == np.float64)


class NumbaBackend(Backend):
    """Compiled kernels for one layer; it owns the layer's :class:`Certificate` (certified layers) and its
    scatter-and-gather threshold table.  Layers or rules it has no kernel for go through the numpy backend."""

    name = 'compiled'
    dense_fraction = 0.06  # measured break-even of the gather kernel against float32 GEMM (benchmarks/snn_speed.py)
    stats = stats  # the module's counters of certified neurons

    def __init__(self, layer):
        super(NumbaBackend, self).__init__(layer)
        self.certificate = Certificate(layer) if certifiable(layer) else None
        self.level_table = None
        self.numpy = NumpyBackend(layer)  # for the layers and rules without a compiled kernel

    def reset(self, layer, n):
        if self.certificate is not None:
            self.certificate.start(n)

    def integrate_dense(self, layer, x):
        cert = self.certificate
        if cert is None:
            layer.integrate(x)
            return
        cert.add_dense(x)
        layer.m.reshape(-1, layer.out_shape[2])[...] = cert.membrane32()

    def integrate_events(self, layer, x):
        if layer.depthwise:
            return self.numpy.integrate_events(layer, x)
        if self.certificate is not None:
            self.certificate.add_events(x, layer.pads)
        if layer.integer:  # int64 membranes: the increments are exact integers, rounded and scaled as the layer does
            rows, delta = gather_increments(x, layer.w, layer.stride, layer.pads, layer.in_shape, layer.out_shape,
                                            layer.m.shape[0])
            layer.m.reshape(-1, layer.out_shape[2])[rows] += layer.membrane(delta)
            return rows
        ptr, chan, val, rows = _routed(x, layer.w, layer.stride, layer.pads, layer.in_shape, layer.out_shape,
                                       layer.m.shape[0])
        kern.gather_rows(ptr, chan, val, rows, layer.w, layer.m.reshape(-1, layer.out_shape[2]), True,
                         layer.in_shape[0], layer.in_shape[1], layer.out_shape[0], layer.out_shape[1], layer.stride,
                         layer.pads[0][0], layer.pads[1][0])
        return rows

    def fire(self, layer, rows):
        neuron = getattr(layer, 'neuron', None)
        if not isinstance(neuron, NegativeSpikeNeuron):  # the authors' rules: their numpy update
            return self.numpy.fire(layer, rows)
        ho, wo, cout = layer.out_shape
        m2 = layer.m.reshape(-1, cout)
        count2 = layer.count.reshape(-1, cout)
        hi2, lo2 = layer.state['hi'].reshape(-1, cout), layer.state['lo'].reshape(-1, cout)
        all_rows = rows is None
        sel = np.zeros(0, np.int64) if all_rows else rows.astype(np.int64, copy=False)
        n_rows = m2.shape[0] if all_rows else len(sel)
        spikes = np.empty((n_rows, cout), np.int8)
        n_spk = np.empty(n_rows, np.int64)
        if layer.integer:
            kern.fire_int(m2, count2, hi2, lo2, neuron.base, neuron.theta, sel, all_rows, spikes, n_spk,
                          np.int64(neuron.lowest))
        else:
            certify = self.certificate is not None
            cert = self.certificate if certify else _NoCertificate
            flagged = np.zeros(n_rows, np.int64)
            kern.fire_float(m2, count2, hi2, lo2, neuron.base, neuron.theta, sel, all_rows, spikes, n_spk,
                            certify, cert.exact, cert.bound_l1, cert.bound_l2, cert.s_row, cert.tiny, cert.w_t,
                            cert.c_pad, ho, wo, layer.stride, flagged)
            if certify:
                stats['examined'] += n_rows * cout
                stats['flagged'] += int(flagged.sum())
        total = int(n_spk.sum())
        spiking_rows = n_spk > 0
        spiking = np.flatnonzero(spiking_rows) if all_rows else sel[spiking_rows]
        if not total:
            return None, 0, 0, spiking
        n_signed = int(spikes.sum(dtype=np.int64))
        if all_rows and total > self.dense_fraction * spikes.size:
            return spikes.reshape(layer.m.shape), total, n_signed, spiking
        return Events(*kern.extract_events(spikes, n_spk, sel, all_rows, ho, wo)), total, n_signed, spiking

    def fire_graded(self, layer):
        """Scatter-and-gather without threshold noise in one compiled pass: the exact rule's ``m > b + j theta``
        (its thresholds computed as the reference does, once per layer) or the authors' ``m >= T[j]``; with noise
        the numpy rule, whose random draws (one per level and neuron, in order) define the result."""
        neuron = layer.neuron
        if neuron.noise_ratio > 0:
            return self.numpy.fire_graded(layer)
        if self.level_table is None:
            self.level_table = neuron.level_table()
        cout = layer.m.shape[-1]
        levels = kern.graded_levels(layer.m.reshape(-1, cout), self.level_table, neuron.strict)
        return levels.reshape(layer.m.shape)


BACKEND = NumbaBackend
