"""Simulation backends of the event-driven engine: one module per backend, the same small interface.

A backend advances a :class:`~snn_conversion.snn.layers.SpikingConv` by one step in three calls, which the
layer orchestrates (:meth:`~snn_conversion.snn.layers.SpikingConv.step_events`):

* ``dense_fraction`` -- the input density above which a whole-input convolution is cheaper than events;
* ``reset(layer, n)`` -- allocate the backend's own per-batch state on the layer (or nothing);
* ``integrate_dense(layer, x)`` -- add ``W * x`` of a busy NHWC input to the membrane;
* ``integrate_events(layer, events)`` -- add the increments of :class:`~snn_conversion.snn.kernels.Events` and
  return the flat (n, h, w) output rows they reached;
* ``fire(layer, rows)`` -- update the neurons of ``rows`` (None: all), set ``layer.pending`` and return
  ``(out, n_abs, n_signed)`` (out: None, Events or a dense int8 array);
* ``fire_graded(layer)`` -- scatter-and-gather: the graded spikes (int16) of a multi-threshold layer.

Backends (``engine=`` of :class:`~snn_conversion.snn.network.SpikingNetwork`):

* ``'sparse'`` -- :mod:`.numpy_backend`: numpy/BLAS and scipy sparse products;
* ``'compiled'`` -- :mod:`.numba_backend`: compiled gather kernels, a fused neuron update + event extraction,
  certified float32 on busy steps.

``engine='dense'`` is not a backend but the readable reference (every layer convolves its whole input and
updates every neuron each step, :meth:`~snn_conversion.snn.layers.SpikingConv.step`).  A GPU backend is one
more module here with the same six names; networks, families and logs do not change.
"""

from __future__ import absolute_import, division, print_function

import importlib

__all__ = ['BACKENDS', 'get', 'available', 'default_engine']

BACKENDS = {'sparse': 'numpy_backend', 'compiled': 'numba_backend'}
_LOADED = {}


def get(engine):
    """The backend module of an event-driven ``engine`` ('sparse', 'compiled')."""
    if engine not in _LOADED:
        _LOADED[engine] = importlib.import_module('%s.%s' % (__name__, BACKENDS[engine]))
    return _LOADED[engine]


def available(engine):
    """Whether ``engine``'s backend can be loaded here (the compiled one needs numba)."""
    if engine == 'dense':
        return True
    try:
        get(engine)
    except ImportError:
        return False
    return True


def default_engine():
    """'compiled' where numba is installed (it is pinned in requirements.txt), else 'sparse'."""
    return 'compiled' if available('compiled') else 'sparse'
