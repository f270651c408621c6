"""Simulation backends of the event-driven engine: one module per backend, one contract, one registry.

A backend is a :class:`Backend` subclass; the layer creates one instance for itself when it first runs
event-driven (:meth:`~snn_conversion.snn.layers.SynapticLayer.reset`) and keeps it: the instance owns whatever
state it needs for that layer (the compiled backend's float32 certificate, its threshold table), and the layer
orchestrates a step through it (:meth:`~snn_conversion.snn.layers.SpikingLayer.step_events`), passing itself to
every call (an instance keeps no reference to its layer):

* ``dense_fraction`` -- the input density above which a whole-input convolution is cheaper than events;
* ``reset(layer, n)`` -- a new batch of ``n`` images;
* ``init_state(layer)`` -- the neuron state of a new batch (the base class: the neuron's ``init_state``);
* ``integrate_dense(layer, x)`` -- add ``W * x`` of a busy NHWC input to the layer's membrane;
* ``integrate_events(layer, events)`` -- add the increments of :class:`~snn_conversion.snn.kernels.Events` and
  return the flat (n, h, w) output rows they reached;
* ``fire(layer, rows)`` -- update the neurons of ``rows`` (None: all) and return ``(out, n_abs, n_signed,
  spiking)``: out is None, Events or a dense int8 array; ``spiking`` the rows that spiked (examined first at the
  next step);
* ``fire_dense(layer)`` -- every neuron of the layer fired at once (the dense step's firing): their spikes,
  (rows, channels); the base class: the neuron's own ``fire``, a backend may compile the kinds it knows;
* ``step(layer, x, rows)`` -- one whole event-driven step of a layer of ``event_driven`` neurons: integrate ``x`` (None,
  Events or a dense array), examine ``rows`` (the rows that spiked at the previous step; None: all) and the rows
  ``x`` reached, fire; returns what ``fire`` returns.  The base class composes it from the calls above (a busy
  input is convolved densely, a sparse one through its events); a backend may fuse them;
* ``sops(layer, x)`` -- the synaptic operations the input ``x`` causes (|x| times each input pixel's fan-out;
  the base class: :func:`~snn_conversion.snn.kernels.sops_events`).

A backend reads the layer (weights, geometry, membrane, counts, neuron) and writes only its membrane, counts and
neuron state -- never other attributes; a neuron kind it has no kernel for runs the neuron's own ``fire``.
:data:`REGISTRY` is the one list of backends; the engine names (``engine=`` of
:class:`~snn_conversion.snn.network.SpikingNetwork`, ``--engine``) derive from it, and the conformance test
(``tests/snn/test_backends.py``) runs every registered backend against ``engine='dense'``:

* ``'compiled'`` -- :mod:`.numba_backend`: compiled gather kernels, a fused neuron update + event extraction,
  certified float32 on busy steps (the default where numba is installed);
* ``'sparse'`` -- :mod:`.numpy_backend`: numpy/BLAS and scipy sparse products.

* ``'dense'`` -- :mod:`.reference_backend`: the readable reference, not event-driven (``event_driven =
  False``: every layer convolves its whole input and updates every neuron each step,
  :meth:`~snn_conversion.snn.layers.SpikingLayer.step`).

A GPU backend is one more module here defining a :class:`Backend` subclass, plus its line in :data:`REGISTRY`.
"""

from __future__ import absolute_import, division, print_function

import collections
import importlib

import numpy as np

from snn_conversion.snn.kernels import Events, sops_events

__all__ = ['Backend', 'REGISTRY', 'names', 'engines', 'backend_class', 'create', 'available', 'default_engine']

# engine name -> module defining ``BACKEND`` (a Backend subclass), or the class itself; the first available one is
# the default
REGISTRY = collections.OrderedDict([('compiled', 'numba_backend'), ('sparse', 'numpy_backend'),
                                    ('dense', 'reference_backend')])
_LOADED = {}


class Backend(object):
    """The contract of an event-driven backend (see the module's docstring); one instance per layer."""

    name = None
    dense_fraction = None
    event_driven = True  # False: the network steps the layers densely (:meth:`step` is not used)

    def __init__(self, layer):
        """What the backend keeps for ``layer`` (its weights and geometry are fixed)."""

    def reset(self, layer, n):
        """A new batch of ``n`` images (the layer has reset its membrane, counts and neuron state)."""

    def init_state(self, layer):
        """The layer's neuron state for a new batch (its membrane has the batch's shape)."""
        return layer.neuron.init_state(layer.m.shape)

    def integrate_dense(self, layer, x):
        raise NotImplementedError

    def integrate_events(self, layer, events):
        raise NotImplementedError

    def fire(self, layer, rows):
        raise NotImplementedError

    def fire_dense(self, layer):
        """Every neuron fires: the neuron's own rule (a backend may compile the kinds it knows)."""
        return layer.fire_neurons(None)

    def step(self, layer, x, rows):
        """A busy input is convolved densely (BLAS beats scattering), a sparse one through its events; the rows
        examined are those that got input or spiked at the previous step (``rows``)."""
        n = layer.m.shape[0]
        fraction = self.dense_fraction
        if isinstance(x, Events) and len(x) > fraction * n * int(np.prod(layer.in_shape)):
            x = x.to_dense((n,) + layer.in_shape)
        elif isinstance(x, np.ndarray) and np.count_nonzero(x) <= fraction * x.size:
            x = Events.from_dense(x)
        if isinstance(x, np.ndarray):
            self.integrate_dense(layer, x)
            rows = None
        elif x is not None and len(x):
            touched = self.integrate_events(layer, x)
            if rows is not None:  # None (the first step): every neuron is examined anyway
                rows = np.union1d(touched, rows)
        if rows is not None and not len(rows):
            return None, 0, 0, rows
        return self.fire(layer, rows)

    def sops(self, layer, x):
        return sops_events(x, layer.fanout)


def names():
    """The registered backends' engine names, preferred first."""
    return tuple(REGISTRY)


def engines():
    """Every engine a network accepts: the registered backends' names (the dense reference among them)."""
    return names()


def backend_class(engine):
    """The :class:`Backend` subclass of ``engine``; ImportError where it cannot load here."""
    if engine not in REGISTRY:
        raise ValueError('engine must be one of %s' % (engines(),))
    entry = REGISTRY[engine]
    if isinstance(entry, type):
        cls = entry
    else:
        if entry not in _LOADED:
            _LOADED[entry] = importlib.import_module('%s.%s' % (__name__, entry)).BACKEND
        cls = _LOADED[entry]
    if not (issubclass(cls, Backend) and cls.name == engine):
        raise TypeError('the backend registered as %r must be a Backend subclass of that name' % engine)
    return cls


def create(engine, layer):
    """A new backend instance of ``engine`` for ``layer``."""
    return backend_class(engine)(layer)


def available(engine):
    """Whether ``engine`` can run here (the compiled backend needs numba)."""
    try:
        backend_class(engine)
    except ImportError:
        return False
    return True


def default_engine():
    """The first registered backend that loads here ('compiled' where numba is installed, else 'sparse')."""
    return next(name for name in names() if available(name))
