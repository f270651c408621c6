"""Synaptic kernels: how a layer's input becomes membrane increments, and what it costs.

The dense kernel convolves a whole NHWC input (BLAS); the event kernel takes the non-zero spikes of a step
(:class:`Events`) and computes the increments of only the output rows they reach (a sparse im2col product).
Both give the same numbers; :data:`DENSE_INPUT_FRACTION` picks between them.  Synaptic operations are counted
here too: |input| times each input pixel's fan-out.  A compiled or GPU backend is another module with these
functions.
"""

from __future__ import absolute_import, division, print_function

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import sparse

__all__ = ['conv2d_nhwc', 'depthwise_conv2d_nhwc', 'block_conv', 'readout_input', 'Events', 'event_increments',
           'fanout_map', 'gemm_dtype', 'sops_dense', 'sops_events', 'DENSE_INPUT_FRACTION', 'F32_EXACT']

DENSE_INPUT_FRACTION = 0.05  # above this fraction of non-zero inputs a dense convolution is cheaper
F32_EXACT = 2 ** 24  # float32 sums of integers below this are exact
IM2COL_BYTES = 16 << 20  # the dense float32 convolution's im2col matrix is built in parts of at most this size


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
    # float32 here is gemm_dtype's exact case (integer sums below 2^24), where the order of the sums cannot change a
    # bit: its im2col matrix is built for a few images at a time (at most IM2COL_BYTES); one for a whole batch (a
    # 200-image MNIST batch's 5x5x16 layer: 250 MB) costs more in fresh memory than in arithmetic.  A float64
    # product stays one call: BLAS may round a row differently when the number of rows changes.
    per = max(1, n) if x.dtype != np.float32 else max(1, IM2COL_BYTES // (ho * wo * kh * kw * c * x.itemsize))
    wm = w.reshape(-1, o)
    out = np.empty((n, ho, wo, o), dtype=np.result_type(x.dtype, w.dtype))
    s0, s1, s2, s3 = x.strides  # (a part, x[i:i + per], has x's strides)
    for i in range(0, n, per):
        part = x[i:i + per]
        win = as_strided(part, (len(part), ho, wo, kh, kw, c), (s0, s1 * stride, s2 * stride, s1, s2, s3),
                         writeable=False)
        np.dot(win.reshape(-1, kh * kw * c), wm, out=out[i:i + per].reshape(-1, o))
    return out


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


def gemm_dtype(w, fan_in, input_bound):
    """float32 where it is exact -- integer weights and integer inputs whose products sum below 2^24 -- else
    float64.  ``input_bound``: the largest |input| (None: not integer, e.g. the encoded image)."""
    integer_w = bool(np.all(w == np.round(w)))
    exact_f32 = (integer_w and input_bound is not None
                 and fan_in * float(np.abs(w).max(initial=0.0)) * input_bound < F32_EXACT)
    return np.float32 if exact_f32 else np.float64


def event_increments(x, w, stride, pads, out_shape, depthwise=False):
    """Output rows (flat n, h, w) touched by the events ``x`` and their increments ``W . x`` (rows, channels),
    through the sparse im2col of the events."""
    kh, kw, cin = w.shape[:3]
    ho, wo, cout = out_shape
    hp = x.h + pads[0][0]
    wp = x.w + pads[1][0]
    oh = hp[:, None] - np.arange(kh)[None, :]          # (E, kh): output row * stride
    ow = wp[:, None] - np.arange(kw)[None, :]
    okh = (oh >= 0) & (oh % stride == 0) & (oh // stride < ho)
    okw = (ow >= 0) & (ow % stride == 0) & (ow // stride < wo)
    valid = okh[:, :, None] & okw[:, None, :]         # (E, kh, kw)
    e, i, j = np.nonzero(valid)
    row = (x.n[e] * ho + oh[e, i] // stride) * wo + ow[e, j] // stride
    rows, inv = np.unique(row, return_inverse=True)
    if depthwise:  # an event of channel c reaches channel c of its rows only
        c = x.c[e]
        delta = sparse.csr_matrix((x.v[e].astype(np.float64) * w[i, j, c, 0], (inv, c)), shape=(len(rows), cout))
        return rows, delta.toarray()
    col = (i * kw + j) * cin + x.c[e]
    im2col = sparse.csr_matrix((x.v[e].astype(np.float64), (inv, col)), shape=(len(rows), kh * kw * cin))
    return rows, im2col.dot(w.reshape(kh * kw * cin, cout))


def fanout_map(in_shape, kernel, stride, pads, out_shape, cout):
    """fanout[i, j]: synapses driven by one event at input pixel (i, j) (all ``cout`` output channels)."""
    def per_axis(size, k, pad, out):
        cnt = np.zeros(size, dtype=np.int64)
        for o in range(out):
            lo = o * stride - pad
            cnt[max(lo, 0):min(lo + k, size)] += 1
        return cnt
    ch = per_axis(in_shape[0], kernel[0], pads[0][0], out_shape[0])
    cw = per_axis(in_shape[1], kernel[1], pads[1][0], out_shape[1])
    return np.outer(ch, cw) * cout


def sops_dense(x, fanout):
    """Synaptic operations caused by a dense input ``x`` (|x| times each input pixel's fan-out); None: 0."""
    if x is None:
        return 0
    return int(np.tensordot(np.abs(x).sum(axis=(0, 3)), fanout, axes=2))


def sops_events(x, fanout):
    """The same for :class:`Events` (or a dense array, or None)."""
    if isinstance(x, np.ndarray):
        return sops_dense(x, fanout)
    if x is None or not len(x):
        return 0
    return int(np.dot(np.abs(x.v).astype(np.int64), fanout[x.h, x.w]))
