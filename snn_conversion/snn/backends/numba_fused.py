"""Fused steps of the compiled backend for MobileNet's blocks: a depthwise or pointwise (1x1) layer integrates a
step's int8 spikes and fires in one pass over its output rows, touching only the rows the spikes reach and the
rows that spiked at the previous step (:class:`~snn_conversion.snn.backends.numba_backend.NumbaBackend` says
when; :mod:`.numba_kernels` holds the neuron rows they share with the other kernels).

* :func:`depthwise_step` -- an event of channel c reaches channel c of its kh x kw neighbourhood only: each row
  sums ``W[i, j, c] x[pixel(i, j), c]`` over its active input pixels in (i, j) order and adds the sum to its
  membrane -- the float64 operations of the dense reference (:func:`snn_conversion.snn.kernels.
  depthwise_conv2d_nhwc`, whose other terms are products with 0) -- then fires.
* :func:`pointwise_step` -- a row's membrane takes ``v W[c, :]`` for each of its pixel's events c, in channel
  order (the float64 sums of the gather kernel, :func:`.numba_kernels.gather_rows`), four events per pass over
  the row; on a certified layer the row's cumulative input is updated, and the neurons whose float32 error
  could decide them are recomputed in float64 before they are decided (:func:`.numba_kernels.fire_row_certified`,
  :func:`.numba_kernels.settle_row`).
* :func:`pixel_counts` -- sum |x| per input pixel: the step's synaptic operations and its active pixels.

Inner loops over channels are small functions of their own: LLVM vectorizes them there (measured: the same loop
written inline in the row loop stays scalar, 5x slower).
"""

from __future__ import absolute_import, division, print_function

import numpy as np
from numba import njit, prange

from snn_conversion.snn.backends.numba_kernels import (CACHE, fire_row, fire_row_busy, fire_row_certified,
                                                       settle_row)

__all__ = ['pixel_counts', 'depthwise_step', 'pointwise_step', 'fire_busy', 'ROW_BLOCK']

ROW_BLOCK = 64  # rows per parallel chunk of the pointwise step (one scratch list of events per chunk)


@njit(cache=CACHE)
def _abs_sum(xr):
    total = 0
    for c in range(xr.size):
        total += abs(np.int32(xr[c]))
    return total


@njit(cache=CACHE, parallel=True)
def pixel_counts(x2):
    """sum |x| per input pixel of an int8 (pixels, channels) array."""
    out = np.empty(x2.shape[0], np.int64)
    for p in prange(x2.shape[0]):
        out[p] = _abs_sum(x2[p])
    return out


@njit(cache=CACHE)
def _madd(acc, wr, xr):
    for c in range(acc.size):
        acc[c] += wr[c] * np.float64(xr[c])


@njit(cache=CACHE)
def _add_into(m, acc):
    for c in range(m.size):
        m[c] += acc[c]


@njit(cache=CACHE)
def _clear(out):
    for c in range(out.size):
        out[c] = 0


@njit(cache=CACHE)
def _zero(acc):
    for c in range(acc.size):
        acc[c] = 0.0


@njit(cache=CACHE)
def _reached(act, where, shape, kh, kw):
    """Whether any input pixel of the row's kh x kw receptive field has an event."""
    n, oh, ow = where
    h_in, w_in, stride, pt, pl = shape
    for i in range(kh):
        ih = oh * stride + i - pt
        if 0 <= ih < h_in:
            for j in range(kw):
                iw = ow * stride + j - pl
                if 0 <= iw < w_in and act[(n * h_in + ih) * w_in + iw] != 0:
                    return True
    return False


@njit(cache=CACHE)
def _depthwise_row(x2, act, w, acc, where, shape):
    """acc = sum over (i, j), in order, of W[i, j, :] x[pixel(i, j), :] over the row's input pixels with events
    (the reference's other terms are products with 0).  ``where`` = (n, oh, ow), ``shape`` = (h_in, w_in, stride,
    pt, pl)."""
    n, oh, ow = where
    h_in, w_in, stride, pt, pl = shape
    _zero(acc)
    for i in range(w.shape[0]):
        ih = oh * stride + i - pt
        for j in range(w.shape[1]):
            iw = ow * stride + j - pl
            if 0 <= ih < h_in and 0 <= iw < w_in and act[(n * h_in + ih) * w_in + iw] != 0:
                _madd(acc, w[i, j], x2[(n * h_in + ih) * w_in + iw])


@njit(cache=CACHE, parallel=True)
def depthwise_step(x2, act, w, m, count, base, theta, examine, out, n_spk, n_sig, shape):
    """One step of a depthwise layer: ``x2`` int8 (input pixels, C), ``act`` its pixels' activity, ``w`` (kh, kw,
    C) float64, ``m``/``count``/``out`` (rows, C); ``examine[r]``: the row spiked at the previous step (or every
    row is examined: the first step).  ``shape`` = [n_img, h_in, w_in, h_out, w_out, stride, pt, pl] (int64:
    arrays, not tuples, pass the dispatcher fast).  Rows neither reached nor to examine are left alone (``out``
    cleared there).  (One pass per kernel tap measured as fast as one fused pass over all nine on wide rows, and
    3x faster on MobileNet's 32-channel rows, where a fused pass's setup dominates.)"""
    n_img, h_in, w_in, h_out, w_out = shape[0], shape[1], shape[2], shape[3], shape[4]
    stride, pt, pl = shape[5], shape[6], shape[7]
    geometry = (h_in, w_in, stride, pt, pl)
    kh, kw = w.shape[0], w.shape[1]
    for line in prange(n_img * h_out):
        n, oh = line // h_out, line % h_out
        acc = np.empty(m.shape[1])
        for ow in range(w_out):
            r = line * w_out + ow
            k, sig = 0, 0
            if not _reached(act, (n, oh, ow), geometry, kh, kw):
                if examine[r]:
                    k, sig = fire_row(m[r], count[r], base, theta, out[r])
                else:
                    _clear(out[r])
            else:
                _depthwise_row(x2, act, w, acc, (n, oh, ow), geometry)
                _add_into(m[r], acc)
                k, sig = fire_row(m[r], count[r], base, theta, out[r])
            n_spk[r] = k
            n_sig[r] = sig


@njit(cache=CACHE)
def _axpy1(acc, w0, v0):
    for o in range(acc.size):
        acc[o] += v0 * w0[o]


@njit(cache=CACHE)
def _axpy4(acc, w0, w1, w2, w3, v):
    v0, v1, v2, v3 = v
    for o in range(acc.size):
        acc[o] = (((acc[o] + v0 * w0[o]) + v1 * w1[o]) + v2 * w2[o]) + v3 * w3[o]


@njit(cache=CACHE)
def _events_of(xr, idx):
    """The channels of a pixel's non-zero inputs, in order, into ``idx``; how many."""
    k = 0
    for c in range(xr.size):
        if xr[c] != 0:
            idx[k] = c
            k += 1
    return k


@njit(cache=CACHE)
def _gather_row(acc, w, xr, idx, k):
    """acc += x[c] W[c, :] over the events c = idx[:k], in order (sequential float64 sums, four per pass)."""
    e = 0
    while e + 4 <= k:
        c0, c1, c2, c3 = idx[e], idx[e + 1], idx[e + 2], idx[e + 3]
        _axpy4(acc, w[c0], w[c1], w[c2], w[c3],
               (np.float64(xr[c0]), np.float64(xr[c1]), np.float64(xr[c2]), np.float64(xr[c3])))
        e += 4
    while e < k:
        _axpy1(acc, w[idx[e]], np.float64(xr[idx[e]]))
        e += 1


@njit(cache=CACHE, parallel=True)
def pointwise_step(x2, act, w, m, count, base, theta, examine, out, n_spk, n_sig, flagged, certify, exact, s_row,
                   c2, bound_l1, bound_l2, tiny, w_t, c_pad, shape):
    """One step of a 1x1 stride-1 layer: ``x2`` int8 (rows, Cin) and ``act`` its pixels' activity (its rows
    are the layer's rows), ``w`` (Cin, Cout) float64, ``m``/``count``/``out`` (rows, Cout); ``examine`` as
    :func:`depthwise_step`.  With ``certify``: the certificate's ``exact``, ``s_row``, ``c2`` the cumulative input
    (rows, Cin) float32 (a view of ``c_pad``), ``bound_l1``, ``bound_l2``, ``tiny``, ``w_t``.  ``shape`` =
    [h_out, w_out].  ``flagged[r]``: the row's recomputed neurons, -1 where the row was not examined."""
    rows, cin = x2.shape
    bound = (base, theta, bound_l1, bound_l2, tiny)
    h_out, w_out = shape[0], shape[1]
    for b in prange((rows + ROW_BLOCK - 1) // ROW_BLOCK):
        idx = np.empty(cin, np.int64)
        for r in range(b * ROW_BLOCK, min(rows, (b + 1) * ROW_BLOCK)):
            if act[r] == 0 and examine[r] == 0:
                n_spk[r], n_sig[r], flagged[r] = 0, 0, -1
                _clear(out[r])
                continue
            xr = x2[r]
            k = _events_of(xr, idx) if act[r] else 0
            if k:
                _gather_row(m[r], w, xr, idx, k)
            if certify and k:
                for e in range(k):
                    c2[r, idx[e]] += np.float32(xr[idx[e]])
            if not (k or examine[r]):
                n_spk[r], n_sig[r], flagged[r] = 0, 0, -1
                _clear(out[r])
                continue
            if certify:
                where = (r // (h_out * w_out), (r // w_out) % h_out, r % w_out, 1)
                n_spk[r], n_sig[r], flagged[r] = _fire_certified(m[r], count[r], exact[r], bound, s_row[r], out[r],
                                                                  w_t, c_pad, where)
            else:
                n_spk[r], n_sig[r] = fire_row(m[r], count[r], base, theta, out[r])
                flagged[r] = 0


@njit(cache=CACHE)
def _fire_certified(m, cnt, exact, cert, s, out, w_t, c_pad, where):
    """A certified row fires; its unsettled neurons are recomputed and decided: (|spikes|, signed sum, recomputed)."""
    k, sig, u = fire_row_certified(m, cnt, exact, cert, s, out)
    if u:
        dk, dsig = settle_row(m, cnt, exact, cert, out, w_t, c_pad, where)
        k, sig = k + dk, sig + dsig
    return k, sig, u


@njit(cache=CACHE, parallel=True)
def fire_busy(m32, m, count, base, theta, out, n_spk, n_sig, flagged, exact, s_row, bound_l1, bound_l2, tiny, w_t,
              c_pad, shape):
    """After a busy step's float32 GEMM ``m32`` (rows, Cout): every row takes its float32 membrane (no longer
    exact) and fires in one pass (:func:`.numba_kernels.fire_row_busy`), its unsettled neurons recomputed and
    decided.  The certificate's arrays as :func:`pointwise_step`; ``shape`` = [h_out, w_out, stride]."""
    bound = (base, theta, bound_l1, bound_l2, tiny)
    h_out, w_out, stride = shape[0], shape[1], shape[2]
    for r in prange(m.shape[0]):
        k, sig, u = fire_row_busy(m[r], m32[r], count[r], exact[r], bound, s_row[r], out[r])
        if u:
            where = (r // (h_out * w_out), (r // w_out) % h_out, r % w_out, stride)
            dk, dsig = settle_row(m[r], count[r], exact[r], bound, out[r], w_t, c_pad, where)
            k, sig = k + dk, sig + dsig
        n_spk[r], n_sig[r], flagged[r] = k, sig, u
