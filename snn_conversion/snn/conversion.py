"""Conversion of a quantized ANN block into a spiking one: BatchNorm folded into thresholds, exactly.

:func:`fold_bn` gives (W, theta, base) in membrane units (the membrane holds 2^k W x): the j-th threshold of a
neuron is ``base + j theta``.  :func:`fold_bn_authors` and :func:`authors_level_thresholds` are the same
quantities computed with the authors' simulators' arithmetic (``rule='authors'``); :func:`integer_thresholds`
is the all-integer family's rounding rule; :func:`neuron_thresholds` what a neuron finally compares against.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.core.checkpoint import ConversionError  # (defined in core: the families raise it too)
from snn_conversion.core.numerics import BN_EPSILON, INT_SCALE, ROUND_OFFSET, TERNARY_DELTA

__all__ = ['ConversionError', 'fold_bn', 'fold_bn_authors', 'authors_bn', 'authors_level_thresholds',
           'integer_thresholds', 'neuron_thresholds', 'ternarize', 'prepare_params']




def fold_bn(w, bn, k, label, level_k=None, depthwise=False):
    """Fold BN ``bn`` = (beta, gamma, moving_mean, moving_variance) into (w, theta, base) in membrane units (the
    membrane holds 2^k W x).

    The block's quantizer has 2^level_k levels per unit (default: k); each level is worth
    ``theta = 2^(k - level_k) sigma / gamma`` of membrane.

    A channel with gamma < 0 is folded into the weights (W -> -W, mean -> -mean),
    which is exact; gamma == 0 (a constant neuron) is refused.  ``depthwise``: ``w`` is HWC1 (the channel is
    its third axis).
    """
    w = np.array(w, dtype=np.float64)
    beta, gamma, mean, var = (np.asarray(a, dtype=np.float64) for a in bn)
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
    sigma = np.sqrt(var + BN_EPSILON)
    level_k = k if level_k is None else level_k
    theta = sigma / gamma * 2.0 ** (k - level_k)
    # the j-th threshold sits where 2^level_k * BN(z) crosses j - 1/2:
    # T_j = 2^k mu + theta (j - 1/2 - 2^level_k beta)
    base = 2.0 ** k * mean + theta * (-0.5 - 2.0 ** level_k * beta)
    return w, theta, base


def authors_bn(beta, gamma, mean, var):
    """BN parameters as the authors' simulators use them: the checkpoint's arrays, in their own dtype (float32
    for every checkpoint written by TensorFlow), with a gamma < 0 channel folded like :func:`fold_bn` (negating
    is exact in any dtype).  Returns (beta, gamma, mean, sigma) with ``sigma = sqrt(var + 1e-5)`` computed in
    that dtype (the Python float 1e-5 is rounded to it first)."""
    beta, gamma, mean, var = (np.asarray(a) for a in (beta, gamma, mean, var))
    neg = gamma < 0
    if np.any(neg):
        mean = np.where(neg, -mean, mean).astype(mean.dtype, copy=False)
        gamma = np.abs(gamma)
    return beta, gamma, mean, np.sqrt(var + BN_EPSILON)


def fold_bn_authors(w, bn, k, label, level_k=None, depthwise=False):
    """:func:`fold_bn` with the authors' arithmetic (``rule='authors'``): the same (w, theta, base), but theta
    and the base are computed as their ``convert_assign_params`` does, term by term in the checkpoint's dtype
    (numpy keeps float32: no promotion by the Python scalars), and only the last subtraction in float64 (their
    theta array is float64)::

        theta = 2^(k - level_k) * sigma / gamma                                   (checkpoint dtype)
        base  = [(2^-(level_k + 1) - beta) * (2^k * sigma) / gamma + 2^k * mean]  (checkpoint dtype)
                - theta                                                           (float64)

    Both are returned as float64 arrays holding those values; the neurons then compare in float64 as theirs.
    """
    w, _, _ = fold_bn(w, bn, k, label, level_k=level_k, depthwise=depthwise)  # checks, W flip
    beta, gamma, mean, sigma = authors_bn(*bn)
    level_k = k if level_k is None else level_k
    theta = np.asarray(2.0 ** (k - level_k) * sigma / gamma).astype(np.float64)
    first = (2.0 ** -(level_k + 1) - beta) * (2 ** k * sigma) / gamma + 2 ** k * mean
    return w, theta, np.asarray(first).astype(np.float64) - theta


def authors_level_thresholds(beta, gamma, mean, var, k, levels):
    """The scatter-and-gather thresholds of the authors' simulator, [levels, channels] float64: the i-th
    (i = 0..levels-1) is ``(2^-(k+1) + i / 2^k - beta) * (2^k * sigma) / gamma + 2^k * mean``, each computed
    in the checkpoint's dtype (the two Python floats are summed first, exactly).  A neuron emits
    ``#{i : m >= T_i}``."""
    beta, gamma, mean, sigma = authors_bn(beta, gamma, mean, var)
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


def neuron_thresholds(theta, base, *, integer=False):
    """The (theta, base) an exact-rule neuron compares against: the base shifted by -1e-5 theta (the ANN's
    +1e-5 rounding offset); integer neurons then round as :func:`integer_thresholds`.  (The authors' rule
    compares against the folded values themselves: :mod:`snn_conversion.snn.rules`.)"""
    theta = np.asarray(theta, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64) - ROUND_OFFSET * theta
    if integer:
        return integer_thresholds(theta, base + theta)
    return theta, base


def ternarize(w):
    """TWN ternarization in numpy, as the ANN's forward pass: Delta = 0.7 mean|W|, W_t in {-1, 0, 1}.

    Idempotent on a ternary tensor, so checkpoints that hold the ternarized weights (ours) and those
    that hold the latent float weights (the authors' fork) convert alike.
    """
    w = np.asarray(w, dtype=np.float64)
    delta = TERNARY_DELTA * np.mean(np.abs(w))
    return np.sign(np.sign(w + delta) + np.sign(w - delta))


def prepare_params(arch, params, use_ternary):
    """``params`` with the hidden blocks' weights (all but the first block and the readout) ternarized
    when ``use_ternary``: the weights the ANN's forward pass really used."""
    params = list(params)
    if use_ternary:
        for i in range(1, len(arch.blocks)):
            params[5 * i] = ternarize(params[5 * i])
    return params
