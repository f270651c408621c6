"""The quantized ANN in numpy: the oracle the lossless tests compare the SNN with, neuron by neuron.

:func:`quantized_forward` is the float64 forward pass of the quantized ANN (or, ``use_int``, the all-integer
network's integer-threshold ANN); :func:`random_calibrated_params` makes random networks with realistic BN
statistics for tests and benchmarks.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import check_params
from snn_conversion.core.numerics import BN_EPSILON, INT_SCALE, ROUND_OFFSET
from snn_conversion.snn.conversion import fold_bn, neuron_thresholds, prepare_params, ternarize
from snn_conversion.snn.kernels import block_conv, readout_input

__all__ = ['quantized_forward', 'random_calibrated_params', 'block_pads', 'ann_levels']


def block_pads(arch, i):
    """((top, bottom), (left, right)) padding of hidden block ``i``, as TensorFlow pads it."""
    h, wd, _ = arch.block_input_shape(i)
    blk = arch.blocks[i]
    return (architectures.same_padding(h, blk.kernel, blk.stride, blk.padding),
            architectures.same_padding(wd, blk.kernel, blk.stride, blk.padding))


def ann_levels(arch, i, z, bn, k, B):
    """The ANN quantizer of block ``i`` on pre-activations ``z`` with BatchNorm ``bn`` = (beta, gamma, mean,
    var): (integer levels, levels per unit 2^kq)."""
    beta, gamma, mean, var = bn
    kq, Bq = arch.first_quant if (i == 0 and arch.first_quant) else (k, B)
    y = np.maximum(gamma * (z - mean) / np.sqrt(var + BN_EPSILON) + beta, 0.0)
    if Bq is not None:
        y = np.minimum(y, float(Bq))
    return np.round(y * 2.0 ** kq + ROUND_OFFSET).astype(np.int64), 2.0 ** kq



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
    params = prepare_params(arch, params, arch.weight_quant_for(use_ternary).ternary)
    a = np.asarray(x, dtype=np.float64)
    levels = []
    for i, blk in enumerate(arch.blocks):
        w, bn = np.asarray(params[5 * i], dtype=np.float64), [np.asarray(p, dtype=np.float64)
                                                              for p in params[5 * i + 1:5 * i + 5]]
        pads = block_pads(arch, i)
        if use_int and i > 0:
            w, theta, base = fold_bn(w, bn, k, 'block %d' % (i + 1), depthwise=blk.depthwise)
            theta, base = neuron_thresholds(theta, base, integer=True)
            counts = np.rint(a * 2.0 ** k)
            m = np.rint(block_conv(counts, w, blk.stride, pads, blk.depthwise)).astype(np.int64) * INT_SCALE
            lv, per_unit = np.maximum((m - base) // theta, 0), 2.0 ** k
        else:
            lv, per_unit = ann_levels(arch, i, block_conv(a, w, blk.stride, pads, blk.depthwise), bn, k, B)
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
    ternary = arch.weight_quant_for(use_ternary).ternary
    a = np.asarray(x, dtype=np.float64)
    params = []
    for i, blk in enumerate(arch.blocks):
        cin = arch.block_input_shape(i)[2]
        w = rng.normal(0.0, np.sqrt(2.0 / blk.fan_in(cin)), blk.weight_shape(cin))
        if ternary and i > 0:
            w = ternarize(w)
        z = block_conv(a, w, blk.stride, block_pads(arch, i), blk.depthwise)
        mean, var = z.mean(axis=(0, 1, 2)), z.var(axis=(0, 1, 2)) + 1e-3
        gamma = rng.uniform(gamma_range[0], gamma_range[1], blk.filters)
        beta = rng.normal(0.0, 0.5, blk.filters)
        params += [w.astype(np.float32), beta.astype(np.float32), gamma.astype(np.float32),
                   mean.astype(np.float32), var.astype(np.float32)]
        f32 = [p.astype(np.float64) for p in params[-4:]]
        lv, per_unit = ann_levels(arch, i, z, f32, k, B)
        a = lv / per_unit
    params.append(rng.normal(0.0, np.sqrt(1.0 / arch.flat_features), (arch.flat_features, arch.n_classes))
                  .astype(np.float32))
    return params
