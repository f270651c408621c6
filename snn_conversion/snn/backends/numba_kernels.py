"""The numba kernels of the compiled backend (:mod:`snn_conversion.snn.backends.numba_backend` explains them
and the certified float32 they serve): plain array loops, ``prange`` where rows are independent, compiled once
and cached beside this file (or in numba's user-wide cache; where neither can be written, or the disk is full,
they are compiled in every run instead, with one warning line: :func:`cache_usable`)."""

from __future__ import absolute_import, division, print_function

import os
import sys
import tempfile

import llvmlite.binding as ll
import numpy as np
from numba import config, njit, prange

from snn_conversion.core.fileio import check_write, failing_midway

RUNTIME_CHECKS = 64  # LLVM's run-time memory checks per vectorized loop (see below)

# numba's default OpenMP pool spin-waits after every parallel loop, and so do OpenBLAS's threads after every
# busy-step sgemm: on a 2-core machine the two pools then take turns stealing each other's cores.  The
# 'workqueue' pool does not spin (measured: random CNN1 660 -> 745, trained LeNet 32k -> 50k images x steps/s).
# It is not meant for parallel loops launched from several Python threads at once, which this simulator never
# does.  $NUMBA_THREADING_LAYER still decides when set.
if not os.environ.get('NUMBA_THREADING_LAYER'):
    config.THREADING_LAYER = 'workqueue'

# LLVM vectorizes a loop over arrays that might overlap only behind run-time checks, at most 8 of them by default:
# a neuron row's update reads and writes more arrays than that (membrane, count, spikes, thresholds, weights), and
# stayed scalar.  The checks keep every result the same (no loop is re-associated), only more loops vectorize
# (measured: the fused depthwise row 10.2 -> 1.6 ns a neuron).
ll.set_option('', '-runtime-memory-check-threshold=%d' % RUNTIME_CHECKS)


def _identity(x):
    return x


def cache_usable():
    """Whether numba can cache the compiled kernels: a writable cache folder (beside this file, or numba's
    user-wide one: ``$NUMBA_CACHE_DIR``, ``~/.cache/numba``) with room in it.  ``$SNN_NUMBA_CACHE=0`` says no.
    Returns (usable, why not)."""
    if os.environ.get('SNN_NUMBA_CACHE', '1') == '0':
        return False, '$SNN_NUMBA_CACHE=0'
    try:
        probe = njit(cache=True)(_identity)  # RuntimeError: no cache folder numba can write
        folder = probe._cache.cache_path  # numba's FunctionCache: where this module's kernels would go
        os.makedirs(folder, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix='snn_numba_probe', dir=folder)
        try:
            with os.fdopen(fd, 'wb') as f:
                failing_midway(f, check_write(name)).write(b'\0' * (1 << 20))  # room for the kernels' files
                f.flush()
                os.fsync(f.fileno())
        finally:
            os.remove(name)
    except (RuntimeError, OSError, AttributeError) as e:
        return False, getattr(e, 'strerror', None) or str(e)
    return True, ''


CACHE, _WHY_NOT = cache_usable()
if not CACHE and os.environ.get('SNN_NUMBA_CACHE', '1') != '0':
    sys.stderr.write('warning: the compiled kernels cannot be cached here (%s); they are compiled in every run '
                     '(a few seconds more; results are the same)\n' % _WHY_NOT)

__all__ = ['cache_usable', 'CACHE', 'RUNTIME_CHECKS', 'sort_by_pixel', 'route_events', 'axpy', 'gather_rows', 'scatter_add',
           'squares', 'add_squares', 'membrane_at', 'fire_row',
           'fire_row_int', 'UNSETTLED', 'fire_row_certified', 'fire_row_busy',
           'settle_row', 'fire_float', 'fire_int', 'graded_levels', 'extract_events']


@njit(cache=CACHE)
def sort_by_pixel(pix, npix):
    """Counting sort of events by input pixel: (ptr[npix + 1], order)."""
    ptr = np.zeros(npix + 1, np.int64)
    for e in range(pix.size):
        ptr[pix[e] + 1] += 1
    for p in range(npix):
        ptr[p + 1] += ptr[p]
    fill = ptr[:-1].copy()
    order = np.empty(pix.size, np.int64)
    for e in range(pix.size):
        order[fill[pix[e]]] = e
        fill[pix[e]] += 1
    return ptr, order


@njit(cache=CACHE)
def route_events(ev_n, ev_h, ev_w, ev_c, ev_v, kh, kw, n_img, h_in, w_in, h_out, w_out, stride, pt, pl):
    """The events sorted by input pixel (ptr, channels, values) and the flat output rows they reach."""
    pix = (ev_n.astype(np.int64) * h_in + ev_h) * w_in + ev_w
    ptr, order = sort_by_pixel(pix, n_img * h_in * w_in)
    chan = ev_c[order]
    val = ev_v[order].astype(np.float64)
    mark = np.zeros(n_img * h_out * w_out, np.bool_)
    for e in range(pix.size):
        hp = ev_h[e] + pt
        wp = ev_w[e] + pl
        for i in range(kh):
            oh = hp - i
            if oh < 0 or oh % stride != 0 or oh // stride >= h_out:
                continue
            for j in range(kw):
                ow = wp - j
                if ow < 0 or ow % stride != 0 or ow // stride >= w_out:
                    continue
                mark[(ev_n[e] * h_out + oh // stride) * w_out + ow // stride] = True
    return ptr, chan, val, np.flatnonzero(mark)


@njit(cache=CACHE, inline='never')
def axpy(acc, v, wr):
    """acc += v wr, element by element (a product, then a sum: no fused multiply-add).  A function of its own:
    written inline in :func:`gather_rows`' loop nest, LLVM left this loop scalar (measured: 6x slower)."""
    for o in range(acc.size):
        acc[o] += v * wr[o]


@njit(cache=CACHE, parallel=True)
def gather_rows(ptr, chan, val, rows, w, target, by_row, h_in, w_in, h_out, w_out, stride, pt, pl):
    """For every output row: add ``sum v W[i, j, c, :]`` over the events in its receptive field to
    ``target[row]`` (``by_row``: the membrane itself) or ``target[r]`` (a fresh (rows, channels) array)."""
    kh, kw = w.shape[:2]
    per_image = h_out * w_out
    for r in prange(rows.size):
        row = rows[r]
        n = row // per_image
        oh = (row % per_image) // w_out
        ow = row % w_out
        acc = target[row] if by_row else target[r]
        for i in range(kh):
            ih = oh * stride + i - pt
            if ih < 0 or ih >= h_in:
                continue
            for j in range(kw):
                iw = ow * stride + j - pl
                if iw < 0 or iw >= w_in:
                    continue
                p = (n * h_in + ih) * w_in + iw
                for e in range(ptr[p], ptr[p + 1]):
                    axpy(acc, val[e], w[i, j, chan[e]])


@njit(cache=CACHE)
def scatter_add(c_pad, ev_n, ev_h, ev_w, ev_c, ev_v, pt, pl):
    for e in range(ev_n.size):
        c_pad[ev_n[e], ev_h[e] + pt, ev_w[e] + pl, ev_c[e]] += ev_v[e]


@njit(cache=CACHE)
def squares(c_pad):
    """(per-pixel sum over channels of C^2 in float64, max |C|) of the padded cumulative input."""
    n, hp, wp, c = c_pad.shape
    sq = np.zeros((n, hp, wp))
    top = np.zeros(n * hp)
    for r in range(n * hp):
        b, y = r // hp, r % hp
        t = 0.0
        for q in range(wp):
            acc = 0.0
            for k in range(c):
                v = np.float64(c_pad[b, y, q, k])
                acc += v * v
                t = max(t, abs(v))
            sq[b, y, q] = acc
        top[r] = t
    return sq, top.max() if top.size else 0.0


@njit(cache=CACHE)
def _add_square(c_row, x_row):
    """c_row += x_row (float32 += int8: exact integers); returns (sum of the new c_row^2 as an exact integer,
    max |c_row|) -- the integer sum is the float64 sum of :func:`squares` wherever that one is exact."""
    acc = 0
    top = 0
    for k in range(c_row.size):
        v = c_row[k] + np.float32(x_row[k])
        c_row[k] = v
        iv = np.int64(v)
        acc += iv * iv
        top = max(top, abs(iv))  # integers: a reduction that vectorizes
    return acc, np.float64(top)


@njit(cache=CACHE, parallel=True)
def add_squares(c_pad, x, pt, pl):
    """C += x (int8 spikes) into the interior of the padded cumulative input, and :func:`squares` of the result
    in the same pass: (per padded pixel sum of C^2, max |C|)."""
    n, h, w, _ = x.shape
    sq = np.zeros(c_pad.shape[:3])
    top = np.zeros(n * h)
    for line in prange(n * h):
        b, y = line // h, line % h
        t = 0.0
        for q in range(w):
            acc, tq = _add_square(c_pad[b, y + pt, q + pl], x[b, y, q])
            sq[b, y + pt, q + pl] = np.float64(acc)
            t = max(t, tq)
        top[line] = t
    return sq, top.max() if top.size else 0.0


@njit(cache=CACHE, fastmath={'reassoc', 'contract'})
def membrane_at(w_t, c_pad, n, oh, ow, o, stride):
    """float64 ``sum W[i, j, c, o] C[n, ih, iw, c]`` over the receptive field of (n, oh, ow), from the padded
    cumulative input; ``w_t`` is W transposed to (o, i, j, c) so that both operands are read contiguously.
    (Re-associated float64: the order of a float64 sum is below what the certificate resolves.)"""
    _, kh, kw, cin = w_t.shape
    total = 0.0
    for i in range(kh):
        for j in range(kw):
            wr = w_t[o, i, j]
            xr = c_pad[n, oh * stride + i, ow * stride + j]
            for c in range(cin):
                total += wr[c] * xr[c]
    return total


@njit(cache=CACHE)
def fire_row(m, cnt, base, theta, out):
    """The exact float rule on one row of neurons (``>`` up, ``<=`` down): the next thresholds are
    ``b + (c + 1) theta`` and ``b + c theta`` (-inf at c = 0), computed from the count with the expressions of
    :class:`~snn_conversion.snn.neurons.NegativeSpikeNeuron` (the same float64 operations, so the same values as
    its stored thresholds); writes the spikes and the counts; returns (|spikes|, their signed sum).  A plain
    loop over the row's channels, so it vectorizes (kept apart from the callers' loops for that reason)."""
    k = 0
    sig = 0
    for o in range(m.size):
        c = cnt[o]
        mv = m[o]
        hi = base[o] + (c + 1) * theta[o]
        lo = base[o] + c * theta[o] if c > 0 else -np.inf
        s = 1 if mv > hi else (-1 if mv <= lo else 0)
        cnt[o] = c + s
        out[o] = s
        k += abs(s)
        sig += s
    return k, sig


@njit(cache=CACHE)
def fire_row_int(m, cnt, base, theta, lowest, out):
    """The exact integer rule on one row (``>=`` up, ``<`` down; ``lowest`` at c = 0), as :func:`fire_row`."""
    k = 0
    sig = 0
    for o in range(m.size):
        c = cnt[o]
        mv = m[o]
        hi = base[o] + (c + 1) * theta[o]
        lo = base[o] + c * theta[o] if c > 0 else lowest
        s = 1 if mv >= hi else (-1 if mv < lo else 0)
        cnt[o] = c + s
        out[o] = s
        k += abs(s)
        sig += s
    return k, sig


UNSETTLED = 2  # a spike row's mark for a neuron whose float32 membrane cannot decide (settle_row decides it)


@njit(cache=CACHE, inline='always')
def _decide(mv, c, base, theta, bound_l1, bound_l2, s, tiny, inexact):
    """(spike, unsettled) of one neuron: the exact float rule, unless its membrane carries float32 error
    (``inexact``) and lies within its bound ``min(bound_l1, bound_l2 s) + tiny`` of a threshold."""
    hi = base + (c + 1) * theta
    lo = base + c * theta if c > 0 else -np.inf
    beta = min(bound_l1, bound_l2 * s) + tiny
    near = ((abs(mv - hi) <= beta) | (abs(mv - lo) <= beta)) & inexact  # no short circuits: they stop vectorizing
    d = 1 if mv > hi else (-1 if mv <= lo else 0)
    return (0 if near else d), near


@njit(cache=CACHE)
def fire_row_certified(m, cnt, exact, cert, s, out):
    """:func:`fire_row` on a row of a certified layer (``cert`` = (base, theta, bound_l1, bound_l2, tiny), ``s``
    the row's 2-norm of C): a neuron whose membrane carries float32 error (not ``exact``) and lies within its
    bound of a threshold is left :data:`UNSETTLED` in ``out`` for :func:`settle_row`.  Returns (|spikes|, signed
    sum, unsettled) of the others."""
    base, theta, bound_l1, bound_l2, tiny = cert
    k = 0
    sig = 0
    u = 0
    for o in range(m.size):
        c = cnt[o]
        sp, near = _decide(m[o], c, base[o], theta[o], bound_l1[o], bound_l2[o], s, tiny, exact[o] == 0)
        cnt[o] = c + sp
        out[o] = UNSETTLED if near else sp
        k += abs(sp)
        sig += sp
        u += near
    return k, sig, u


@njit(cache=CACHE)
def fire_row_busy(m, m32, cnt, exact, cert, s, out):
    """:func:`fire_row_certified` on a row that takes its float32 membrane ``m32`` of a busy step (every neuron
    inexact until settled), in the same pass."""
    base, theta, bound_l1, bound_l2, tiny = cert
    k = 0
    sig = 0
    u = 0
    for o in range(m.size):
        mv = np.float64(m32[o])
        m[o] = mv
        exact[o] = False
        c = cnt[o]
        sp, near = _decide(mv, c, base[o], theta[o], bound_l1[o], bound_l2[o], s, tiny, True)
        cnt[o] = c + sp
        out[o] = UNSETTLED if near else sp
        k += abs(sp)
        sig += sp
        u += near
    return k, sig, u


@njit(cache=CACHE)
def settle_row(m, cnt, exact, cert, out, w_t, c_pad, where):
    """The row's :data:`UNSETTLED` neurons: membrane recomputed in float64 from the cumulative input
    (:func:`membrane_at`), marked exact, then the exact rule.  ``where`` = (n, oh, ow, stride).  Returns (|spikes|,
    signed sum) of them."""
    base, theta = cert[0], cert[1]
    n, oh, ow, stride = where
    k = 0
    sig = 0
    for o in range(m.size):
        if out[o] != UNSETTLED:
            continue
        mv = membrane_at(w_t, c_pad, n, oh, ow, o, stride)
        m[o] = mv
        exact[o] = True
        c = cnt[o]
        hi = base[o] + (c + 1) * theta[o]
        lo = base[o] + c * theta[o] if c > 0 else -np.inf
        sp = 1 if mv > hi else (-1 if mv <= lo else 0)
        cnt[o] = c + sp
        out[o] = sp
        k += abs(sp)
        sig += sp
    return k, sig


@njit(cache=CACHE, parallel=True)
def fire_float(m, count, base, theta, rows, all_rows, spikes, n_spk, n_sig, certify, exact, bound_l1, bound_l2,
               s_row, tiny, w_t, c_pad, h_out, w_out, stride, flagged):
    """The exact float rule on the examined rows; with ``certify``, a neuron whose membrane carries float32
    error and lies within its bound of a threshold is recomputed in float64 before it is decided
    (:func:`fire_row_certified`, :func:`settle_row`)."""
    n_rows = m.shape[0] if all_rows else rows.size
    per_image = h_out * w_out
    cert = (base, theta, bound_l1, bound_l2, tiny)
    for r in prange(n_rows):
        row = np.int64(r) if all_rows else np.int64(rows[r])
        f = 0
        if certify:
            k, sig, f = fire_row_certified(m[row], count[row], exact[row], cert, s_row[row], spikes[r])
            if f:
                where = (row // per_image, (row % per_image) // w_out, row % w_out, stride)
                dk, dsig = settle_row(m[row], count[row], exact[row], cert, spikes[r], w_t, c_pad, where)
                k, sig = k + dk, sig + dsig
        else:
            k, sig = fire_row(m[row], count[row], base, theta, spikes[r])
        n_spk[r] = k
        n_sig[r] = sig
        flagged[r] = f


@njit(cache=CACHE, parallel=True)
def fire_int(m, count, base, theta, rows, all_rows, spikes, n_spk, n_sig, lowest):
    """The exact integer rule (``>=`` up, ``<`` down) on the examined rows."""
    n_rows = m.shape[0] if all_rows else rows.size
    for r in prange(n_rows):
        row = np.int64(r) if all_rows else np.int64(rows[r])
        k, sig = fire_row_int(m[row], count[row], base, theta, lowest, spikes[r])
        n_spk[r] = k
        n_sig[r] = sig


@njit(cache=CACHE, parallel=True)
def graded_levels(m, thresholds, strict):
    """Graded spikes: per neuron the number of levels j with ``m > T[j]`` (``strict``) or ``m >= T[j]``."""
    rows, cout = m.shape
    out = np.empty((rows, cout), np.int16)
    for r in prange(rows):
        for o in range(cout):
            mv = m[r, o]
            c = 0
            for j in range(thresholds.shape[0]):
                if (mv > thresholds[j, o]) if strict else (mv >= thresholds[j, o]):
                    c += 1
            out[r, o] = c
    return out


@njit(cache=CACHE, parallel=True)
def extract_events(spikes, n_spk, rows, all_rows, h_out, w_out):
    """Events (row-major order) of the int8 spikes of the examined rows."""
    n_rows = spikes.shape[0]
    start = np.zeros(n_rows + 1, np.int64)
    for r in range(n_rows):
        start[r + 1] = start[r] + n_spk[r]
    total = start[n_rows]
    ev_n = np.empty(total, np.int64)
    ev_h = np.empty(total, np.int64)
    ev_w = np.empty(total, np.int64)
    ev_c = np.empty(total, np.int64)
    ev_v = np.empty(total, np.int8)
    per_image = h_out * w_out
    for r in prange(n_rows):
        if n_spk[r] == 0:
            continue
        row = np.int64(r) if all_rows else np.int64(rows[r])
        e = start[r]
        for o in range(spikes.shape[1]):
            v = spikes[r, o]
            if v != 0:
                ev_n[e] = row // per_image
                ev_h[e] = (row % per_image) // w_out
                ev_w[e] = row % w_out
                ev_c[e] = o
                ev_v[e] = v
                e += 1
    return ev_n, ev_h, ev_w, ev_c, ev_v
