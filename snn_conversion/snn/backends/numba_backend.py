"""The compiled backend (``engine='compiled'``): numba kernels and certified float32, exact to the neuron.

Four things make it fast; none changes a single spike.

**Gather kernel for sparse steps** (:func:`gather_increments`).  The events of a step are sorted by input
pixel (a counting sort); every output position whose receptive field holds an event accumulates, for each
event there, the event's value times the weight row ``W[i, j, c, :]`` (contiguous in HWIO, so the inner loop
over output channels vectorizes); positions run in parallel (``prange``).  It replaces the scipy sparse
product below ``NumbaBackend.dense_fraction`` input density.

**Neuron update and event extraction** (:func:`fire`).  One parallel pass over the examined rows compares
every neuron with its next thresholds, updates its count and writes its spike; a second pass writes the events
(row-major order) from per-row offsets.  It is the exact rule of
:class:`~snn_conversion.snn.neurons.NegativeSpikeNeuron` term for term (same comparisons, float and integer
membranes) with one difference of bookkeeping: the next thresholds ``b + (c + 1) theta`` and ``b + c theta``
are computed from the count when needed (:func:`.numba_kernels.fire_row`: the same float64 expressions, hence
the same values) instead of being stored, so this backend's neuron state is empty (:meth:`NumbaBackend.
init_state`) -- a third of the memory a row's update reads, and a loop over channels that vectorizes.  The
authors' neurons, and any other kind, keep their own numpy ``fire``.

**Fused steps of MobileNet's blocks** (:mod:`.numba_fused`, :meth:`NumbaBackend.step`).  A depthwise layer and a
1x1 stride-1 layer take a step's int8 spikes in one pass over their output rows: integrate, then fire the row
while it is in cache; rows that no spike reaches and that did not spike at the previous step are not touched.
The depthwise sums are the dense reference's own float64 operations (bit for bit); a pointwise row adds
``v W[c, :]`` per event c of its pixel.  A busy pointwise step (input density above
``NumbaBackend.pointwise_dense``, measured) is a certified float32 GEMM instead (:meth:`NumbaBackend.busy_step`:
C and its norms updated in one pass, :meth:`Certificate.busy`; every row takes its float32 membrane, is
certified and fires in one pass, :func:`.numba_fused.fire_busy`).  Their outputs are dense int8 arrays (the
next fused layer scans them per pixel); each input is counted per pixel once, for its synaptic operations and
for the step (:meth:`NumbaBackend.sops`).

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
:func:`snn_conversion.snn.kernels.gemm_dtype`), and the authors' rule; depthwise layers are float64 throughout
(their fused step, nine products per neuron, needs no GEMM).
"""

from __future__ import absolute_import, division, print_function

import weakref

import numpy as np
from scipy.linalg.blas import sgemm

from snn_conversion.snn.backends import Backend
from snn_conversion.snn.backends import numba_fused as fused
from snn_conversion.snn.backends import numba_kernels as kern
from snn_conversion.snn.backends.numpy_backend import NumpyBackend
from snn_conversion.snn.kernels import Events
from snn_conversion.snn.neurons import MultiThresholdNeuron, NegativeSpikeNeuron

__all__ = ['NumbaBackend', 'BACKEND', 'pixel_counts', 'fusable', 'gather_increments', 'Certificate', 'certifiable',
           'chunks', 'conv32_chunked',
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
        self.bounds(*kern.squares(self.c_pad))
        self.exact[...] = False
        return out

    def busy(self, x):
        """C += x (int8 spikes, NHWC) and the float32 membrane of the busy step, its bounds set, in fewer passes
        (:func:`.numba_kernels.add_squares`); the exact flags are the caller's to clear
        (:func:`.numba_fused.fire_busy` does, row by row)."""
        sq, max_c = kern.add_squares(self.c_pad, x, self.pads[0][0], self.pads[1][0])
        out = conv32_chunked(self.c_pad, self.w32, self.stride, self.out_shape, self.parts)
        self.bounds(sq, max_c)
        return out

    def bounds(self, sq, max_c):
        """Set the bound from C's per-pixel sums of squares ``sq`` (padded) and max |C|."""
        self.bound_l1 = self.gamma * max_c * self.l1
        self.tiny = self.fan_in * max_c * 2.0 ** -125
        (kh, kw), s, (ho, wo, _) = self.kernel, self.stride, self.out_shape
        window = np.zeros((sq.shape[0], ho, wo))
        for i in range(kh):
            for j in range(kw):
                window += sq[:, i:i + (ho - 1) * s + 1:s, j:j + (wo - 1) * s + 1:s]
        self.s_row = np.sqrt(window).reshape(-1) * (1.0 + 2.0 ** -40)

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


def fusable(layer):
    """'depthwise' or 'pointwise' where the layer's steps run fused (:mod:`.numba_fused`: exact-rule float
    neurons of a depthwise or a 1x1 stride-1 unpadded layer), else None."""
    if not isinstance(getattr(layer, 'neuron', None), NegativeSpikeNeuron) or layer.integer:
        return None
    if layer.depthwise:
        return 'depthwise'
    if layer.w.shape[:2] == (1, 1) and layer.stride == 1 and layer.pads == ((0, 0), (0, 0)):
        return 'pointwise'
    return None


_COUNTED = [None, None]  # [weak reference to an int8 input, its sum |x| per pixel]: one count per input


def pixel_counts(x, last_use=False):
    """sum |x| per pixel of an int8 NHWC array (:func:`.numba_fused.pixel_counts`), computed once per array and
    step: the fused step that wrote ``x`` leaves its counts here, and so does the count of the layer's SOPs;
    the step that reads them (``last_use``) clears them, so that an array changed in place is counted again."""
    ref, counts = _COUNTED
    if ref is None or ref() is not x:
        counts = fused.pixel_counts(x.reshape(-1, x.shape[-1]))
    _COUNTED[:] = [None, None] if last_use else [weakref.ref(x), counts]
    return counts


def _int8_spikes(x):
    return (isinstance(x, Events) and x.v.dtype == np.int8) or (isinstance(x, np.ndarray) and x.dtype == np.int8)


def certifiable(layer):
    """Whether a layer's busy steps run in certified float32 (see the module's docstring)."""
    return (isinstance(getattr(layer, 'neuron', None), NegativeSpikeNeuron) and not layer.integer
            and not layer.depthwise and layer.input_bound is not None and layer.w_gemm.dtype == np.float64)


class NumbaBackend(Backend):
    """Compiled kernels for one layer; it owns the layer's :class:`Certificate` (certified layers) and its
    scatter-and-gather threshold table.  Layers or neuron kinds it has no kernel for go through the numpy backend."""

    name = 'compiled'
    dense_fraction = 0.1  # measured break-even of the gather kernel against float32 GEMM (benchmarks/snn_speed.py)
    stats = stats  # the module's counters of certified neurons

    pointwise_dense = 0.2  # input density above which a pointwise step is a (certified float32) GEMM, measured

    def __init__(self, layer):
        super(NumbaBackend, self).__init__(layer)
        self.certificate = Certificate(layer) if certifiable(layer) else None
        self.level_table = None
        self.numpy = NumpyBackend(layer)  # for the layers and rules without a compiled kernel
        self.plan = fusable(layer)
        self.w_fused = None if self.plan is None else np.ascontiguousarray(
            layer.w[:, :, :, 0] if self.plan == 'depthwise' else layer.w[0, 0])

    def reset(self, layer, n):
        if self.certificate is not None:
            self.certificate.start(n)

    def init_state(self, layer):
        """No stored state for the exact rule's neurons: their kernels compute the next thresholds from the counts
        (:func:`.numba_kernels.fire_row`), the stored thresholds' own definition; whoever reads the state gets
        them computed so (:class:`~snn_conversion.snn.neurons.CountThresholds`)."""
        if isinstance(layer.neuron, NegativeSpikeNeuron):
            return layer.neuron.state_of(layer.count)
        return super(NumbaBackend, self).init_state(layer)

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
        neuron = layer.neuron
        if not isinstance(neuron, NegativeSpikeNeuron):  # another kind (the authors' ones): its numpy fire
            return self.numpy.fire(layer, rows)
        ho, wo, cout = layer.out_shape
        m2 = layer.m.reshape(-1, cout)
        count2 = layer.count.reshape(-1, cout)
        all_rows = rows is None
        sel = np.zeros(0, np.int64) if all_rows else rows.astype(np.int64, copy=False)
        n_rows = m2.shape[0] if all_rows else len(sel)
        spikes = np.empty((n_rows, cout), np.int8)
        n_spk = np.empty(n_rows, np.int64)
        n_sig = np.empty(n_rows, np.int64)
        if layer.integer:
            kern.fire_int(m2, count2, neuron.base, neuron.theta, sel, all_rows, spikes, n_spk, n_sig,
                          np.int64(neuron.lowest))
        else:
            certify = self.certificate is not None
            cert = self.certificate if certify else _NoCertificate
            flagged = np.zeros(n_rows, np.int64)
            kern.fire_float(m2, count2, neuron.base, neuron.theta, sel, all_rows, spikes, n_spk, n_sig, certify,
                            cert.exact, cert.bound_l1, cert.bound_l2, cert.s_row, cert.tiny, cert.w_t, cert.c_pad, ho,
                            wo, layer.stride, flagged)
            if certify:
                stats['examined'] += n_rows * cout
                stats['flagged'] += int(flagged.sum())
        total = int(n_spk.sum())
        spiking_rows = n_spk > 0
        spiking = np.flatnonzero(spiking_rows) if all_rows else sel[spiking_rows]
        if not total:
            return None, 0, 0, spiking
        n_signed = int(n_sig.sum())
        if all_rows and total > self.dense_fraction * spikes.size:
            return spikes.reshape(layer.m.shape), total, n_signed, spiking
        return Events(*kern.extract_events(spikes, n_spk, sel, all_rows, ho, wo)), total, n_signed, spiking

    def sops(self, layer, x):
        """Synaptic operations of the input; a fused layer's int8 input is counted per pixel once (or was, by the
        fused step that wrote it), for its step too."""
        if self.plan is None or not isinstance(x, np.ndarray) or x.dtype != np.int8:
            return super(NumbaBackend, self).sops(layer, x)
        counts = pixel_counts(x)
        return int(np.dot(counts.reshape(x.shape[0], -1).sum(axis=0), layer.fanout.reshape(-1)))

    def step(self, layer, x, rows):
        """A fused step (:mod:`.numba_fused`) for a depthwise or pointwise layer's int8 spikes -- except a busy
        pointwise one, a GEMM (certified float32 where the layer is certified) -- else the composed one."""
        if self.plan is None or x is None or not _int8_spikes(x):
            return super(NumbaBackend, self).step(layer, x, rows)
        n = layer.m.shape[0]
        if isinstance(x, Events):
            x = x.to_dense((n,) + layer.in_shape)
        x2 = x.reshape(-1, layer.in_shape[2])
        counts = pixel_counts(x, last_use=True)
        if self.plan == 'pointwise' and counts.sum() > self.pointwise_dense * x2.size:
            return self.busy_step(layer, x)
        rows_total = n * layer.out_shape[0] * layer.out_shape[1]
        examine = np.ones(rows_total, np.uint8)
        if rows is not None:
            examine[:] = 0
            examine[rows] = 1
        return self.fused_step(layer, x2, counts, examine)

    def busy_step(self, layer, x):
        """A busy step of a pointwise layer: its GEMM (certified float32: :meth:`Certificate.busy` and
        :func:`.numba_fused.fire_busy`, one pass over the rows) and every neuron fires."""
        cert = self.certificate
        if cert is None:
            self.integrate_dense(layer, x)
            return self.fire(layer, None)
        neuron, (ho, wo, cout) = layer.neuron, layer.out_shape
        m2, count2 = layer.m.reshape(-1, cout), layer.count.reshape(-1, cout)
        m32 = cert.busy(x)
        out = np.empty(m2.shape, np.int8)
        n_spk, n_sig, flagged = (np.empty(m2.shape[0], np.int64) for _ in range(3))
        fused.fire_busy(m32, m2, count2, neuron.base, neuron.theta, out, n_spk, n_sig, flagged, cert.exact,
                        cert.s_row, cert.bound_l1, cert.bound_l2, cert.tiny, cert.w_t, cert.c_pad,
                        np.array([ho, wo, layer.stride], np.int64))
        stats['examined'] += m2.size
        stats['flagged'] += int(flagged.sum())
        return self._spikes(layer, out, n_spk, n_sig)

    @staticmethod
    def _spikes(layer, out, n_spk, n_sig):
        """(out, n_abs, n_signed, spiking) of a fused step's spikes (rows, cout): a dense int8 array."""
        total = int(n_spk.sum())
        spiking = np.flatnonzero(n_spk)
        if not total:
            return None, 0, 0, spiking
        out = out.reshape(layer.m.shape)
        _COUNTED[:] = [weakref.ref(out), n_spk]  # its sum |x| per pixel, for the next layer
        return out, total, int(n_sig.sum()), spiking

    def fused_step(self, layer, x2, counts, examine):
        neuron, (ho, wo, cout) = layer.neuron, layer.out_shape
        m2, count2 = layer.m.reshape(-1, cout), layer.count.reshape(-1, cout)
        out = np.empty(m2.shape, np.int8)  # the kernels clear the rows they leave alone
        n_spk, n_sig = np.empty(m2.shape[0], np.int64), np.empty(m2.shape[0], np.int64)
        if self.plan == 'depthwise':
            (h, w, _), (pt, pl) = layer.in_shape, (layer.pads[0][0], layer.pads[1][0])
            shape = np.array([layer.m.shape[0], h, w, ho, wo, layer.stride, pt, pl], np.int64)
            fused.depthwise_step(x2, counts, self.w_fused, m2, count2, neuron.base, neuron.theta, examine, out,
                                 n_spk, n_sig, shape)
        else:
            cert = self.certificate if self.certificate is not None else _NoCertificate
            flagged = np.empty(m2.shape[0], np.int64)
            fused.pointwise_step(x2, counts, self.w_fused, m2, count2, neuron.base, neuron.theta, examine, out, n_spk,
                                 n_sig, flagged, self.certificate is not None, cert.exact, cert.s_row,
                                 cert.c_pad.reshape(-1, cert.c_pad.shape[-1]), cert.bound_l1, cert.bound_l2, cert.tiny,
                                 cert.w_t, cert.c_pad, np.array([ho, wo], np.int64))
            if self.certificate is not None:
                stats['examined'] += int(np.count_nonzero(flagged >= 0)) * cout
                stats['flagged'] += int(flagged[flagged > 0].sum())
        return self._spikes(layer, out, n_spk, n_sig)

    def fire_dense(self, layer):
        """Scatter-and-gather without threshold noise in one compiled pass: the exact rule's ``m > b + j theta``
        (its thresholds computed as the reference does, once per layer) or the authors' ``m >= T[j]``; with noise,
        or another neuron kind, the neuron's own rule (a multi-threshold one's random draws, one per level and
        neuron, in order, define its result)."""
        neuron = layer.neuron
        if not isinstance(neuron, MultiThresholdNeuron) or neuron.noise_ratio > 0:
            return super(NumbaBackend, self).fire_dense(layer)
        if self.level_table is None:
            self.level_table = neuron.level_table()
        cout = layer.m.shape[-1]
        levels = kern.graded_levels(layer.m.reshape(-1, cout), self.level_table, neuron.strict)
        layer.count.reshape(-1, cout)[...] = levels
        return levels


BACKEND = NumbaBackend
