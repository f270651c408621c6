"""A hidden block as a spiking layer: its synapses (weights, geometry), its neurons' state, its neuron strategy
and the choice of engine for each step.  The neuron is given (:mod:`snn_conversion.snn.neurons`, chosen by the
simulation rule, :mod:`snn_conversion.snn.rules`); the synaptic arithmetic is :mod:`snn_conversion.snn.kernels`';
counting (spikes, synaptic operations) is the network's.

* :class:`SynapticLayer` -- the synapses and the membrane;
* :class:`SpikingLayer` -- the one spiking layer: synapses, state and any neuron kind (negative-spike, multi-
  threshold, dynamic threshold, or one registered later); both engines, identical spikes.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.numerics import INT_SCALE
from snn_conversion.snn import backends
from snn_conversion.snn.kernels import Events, block_conv, fanout_map, gemm_dtype, sops_events

__all__ = ['Geometry', 'SynapticLayer', 'SpikingLayer']


class Geometry(collections.namedtuple('Geometry', 'stride padding in_shape depthwise name')):
    """Where a block's synapses sit: ``stride``, ``padding`` ('SAME' or 'VALID'), the (H, W, C) ``in_shape``,
    ``depthwise`` (an HWC1 kernel: output channel c sees input channel c only) and the layer's ``name``."""

    __slots__ = ()

    def __new__(cls, stride, padding, in_shape, depthwise=False, name='layer'):
        return super(Geometry, cls).__new__(cls, int(stride), padding, tuple(int(v) for v in in_shape),
                                            bool(depthwise), name)


class SynapticLayer(object):
    """Weights and geometry of a block (convolution or, with a full kernel, dense), and its membrane.

    ``depthwise``: ``w`` is an HWC1 depthwise kernel (output channel c sees input channel c only).
    ``integer``: the membrane is int64 and holds 10^4 W.s (the weights must be integers).  ``input_bound``: the
    largest |value| of an input spike when the input is integer (None for the encoded image); the dense kernel
    then runs in float32 where that is exact (:func:`snn_conversion.snn.kernels.gemm_dtype`).
    """

    def __init__(self, w, geometry, integer=False, input_bound=None):
        stride, padding, in_shape, depthwise, name = geometry
        self.name, self.integer = name, bool(integer)
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
        if self.integer and not np.all(self.w == np.round(self.w)):
            raise ValueError('%s: integer neurons need integer weights' % name)
        self.stride = int(stride)
        self.pads = (architectures.same_padding(h, kh, stride, padding),
                     architectures.same_padding(wd, kw, stride, padding))
        self.out_shape = (architectures.conv_output_size(h, kh, stride, padding),
                          architectures.conv_output_size(wd, kw, stride, padding), cout)
        self.input_bound = input_bound
        self.w_gemm = self.w.astype(gemm_dtype(self.w, kh * kw * (1 if self.depthwise else cin), input_bound))
        self.fanout = fanout_map((h, wd), (kh, kw), self.stride, self.pads, self.out_shape,
                                 1 if self.depthwise else cout)
        self.in_shape = (h, wd, c)

    neuron = None  # :class:`SpikingLayer`'s strategy

    @property
    def theta(self):
        """The neurons' threshold step (what they compare against: the rule's)."""
        return self.neuron.theta

    @property
    def base(self):
        """The neurons' base threshold (the j-th threshold is ``base + j theta``)."""
        return self.neuron.base

    engine = 'sparse'  # the event-driven backend (:mod:`snn_conversion.snn.backends`); the network sets it
    backend = None  # its instance for this layer, created at the first event-driven batch

    def reset(self, n):
        shape = (n,) + self.out_shape
        self.m = np.zeros(shape, dtype=np.int64 if self.integer else np.float64)
        self.count = np.zeros(shape, dtype=np.int32)
        if self.backend is None or self.backend.name != self.engine:
            self.backend = backends.create(self.engine, self)
        self.backend.reset(self, n)

    def membrane(self, z):
        """A synaptic input in membrane units (int64 10^4 z for integer neurons: z is exact)."""
        if self.integer:
            return np.rint(z).astype(np.int64) * INT_SCALE
        return z

    def sops(self, x):
        """Synaptic operations caused by the input ``x`` (None, :class:`Events` or a dense array)."""
        if self.backend is None:
            return sops_events(x, self.fanout)
        return self.backend.sops(self, x)

    def integrate(self, x):
        """Dense kernel: add ``W * x`` of a whole NHWC input to the membrane."""
        self.m += self.membrane(block_conv(x.astype(self.w_gemm.dtype, copy=False), self.w_gemm, self.stride,
                                           self.pads, self.depthwise))


class SpikingLayer(SynapticLayer):
    """A block's synapses, its neurons' state and its neuron strategy (:mod:`snn_conversion.snn.neurons`: a kind's
    ``init_state`` and ``fire``, chosen by the simulation rule); every neuron kind runs in this one class.

    Two interchangeable engines: :meth:`step` (dense: convolve the whole input, fire every neuron) and
    :meth:`step_events` (event-driven: for an ``event_driven`` neuron only the synapses of the input events are
    touched, and only the neurons that received input or spiked at the previous step are examined -- the others
    cannot spike; any other neuron is stepped whole and its spikes sent as events).  An integer neuron makes the
    membrane int64.  ``rng``: the random draws of a neuron with noise (the network sets them per batch).
    """

    def __init__(self, w, geometry, neuron, input_bound=None, rng=None):
        super(SpikingLayer, self).__init__(w, geometry, integer=neuron.integer, input_bound=input_bound)
        self.neuron = neuron
        self.rng = rng if rng is not None else np.random.RandomState(0)

    def reset(self, n):
        super(SpikingLayer, self).reset(n)
        self.state = self.backend.init_state(self)
        # rows (n, h, w) to examine even without input: those that spiked at the previous step; at the first
        # step all of them (None; a neuron whose BN bias alone exceeds a threshold fires without any input)
        self.pending = None

    def fire_neurons(self, rows):
        """The neuron strategy on ``rows`` (None: all): their spikes, (rows, channels)."""
        return self.neuron.fire(self.m, self.count, self.state, rows, self.rng)

    @staticmethod
    def spiking_rows(spikes, rows):
        """The rows (flat (n, h, w) indices) among ``rows`` (None: all) whose ``spikes`` are not all zero."""
        any_spike = spikes.any(axis=1)
        return np.flatnonzero(any_spike) if rows is None else rows[any_spike]

    def step_events(self, x):
        """Event-driven step; ``x`` is None, :class:`Events` or a dense NHWC array of spikes (or the encoded input).

        Only the neurons that got input or spiked at the previous step are examined (the others cannot spike).
        The step is the backend's (:meth:`snn_conversion.snn.backends.Backend.step`, chosen by ``self.engine``):
        a busy input convolved densely, a sparse one through its events, or one fused pass.  Returns ``(out,
        n_abs, n_signed)``: the output spikes -- None, :class:`Events`, or a dense int8 array when busy -- with
        their sum of magnitudes and signed sum.  Identical spikes to :meth:`step`.
        """
        if not self.neuron.event_driven:
            return self.step_whole(x)
        out, n_abs, n_signed, self.pending = self.backend.step(self, x, self.pending)
        return out, n_abs, n_signed

    def step_whole(self, x):
        """An event-driven step of a neuron that is not event-driven: the dense :meth:`step`, sent as Events."""
        if isinstance(x, Events):
            x = x.to_dense((self.m.shape[0],) + self.in_shape)
        s = self.step(x)
        if not s.any():
            return None, 0, 0
        out = Events.from_dense(s)
        return out, int(np.abs(out.v).sum(dtype=np.int64)), int(out.v.sum(dtype=np.int64))

    def step(self, x):
        """Dense engine: advance one step with input ``x`` (None means no input); every neuron fires (through
        the backend's :meth:`~snn_conversion.snn.backends.Backend.fire_dense` on an event-driven engine)."""
        if x is not None:
            self.integrate(x)
        spikes = self.backend.fire_dense(self)
        self.pending = self.spiking_rows(spikes, None)
        return spikes.reshape(self.m.shape)
