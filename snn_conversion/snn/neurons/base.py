"""The contract of a neuron kind and the registry of kinds (numpy only).

A neuron is the strategy a spiking layer holds (:class:`snn_conversion.snn.layers.SpikingLayer`): a pure step
over the layer's state arrays, apart from the synapses (the layer's) and from counting synaptic operations (the
network's).  One interface for every kind:

* ``init_state(shape)`` -- its own state for a batch whose membrane has ``shape`` (NHWC): a dict of arrays;
* ``fire(m, count, state, rows, rng)`` -- examine the neurons of ``rows`` (flat (n, h, w) indices into the NHWC
  membrane ``m``; None: all of them), update their spike counts ``count`` and the state, and return their spikes:
  a (rows, channels) array of signed integers, the values the next layer receives (``rng``: the batch's random
  draws, for a neuron with noise);
* ``integer`` -- int64 membranes (10^4 W.s), set from the thresholds' dtype (the rule's arithmetic);
* ``event_driven`` -- True: a neuron that got no input and did not spike at the previous step cannot spike, so
  an event-driven engine examines the others alone; False: each step integrates its whole input and examines
  every neuron.

A kind is one class registered under its ``name`` (:func:`register_neuron`); a simulation rule builds it from
(theta, base) after its own threshold arithmetic (:meth:`snn_conversion.snn.rules.Rule.neuron`), and a backend
that has no compiled kernel for it runs its ``fire``.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

__all__ = ['Neuron', 'NEURONS', 'register_neuron', 'unregister_neuron', 'neuron_class', 'flat', 'selected']


def flat(a):
    """An NHWC array as (rows, channels)."""
    return a.reshape(-1, a.shape[-1])


def selected(rows):
    """The index of ``rows`` into a (rows, channels) array (None: every row)."""
    return slice(None) if rows is None else rows


class Neuron(object):
    """A neuron kind: thresholds ``theta`` (the step) and ``base`` (the j-th threshold is ``base + j theta``),
    per channel."""

    name = None  # its name in :data:`NEURONS`
    event_driven = True

    def __init__(self, theta, base):
        self.theta, self.base = theta, base
        self.integer = bool(np.issubdtype(np.asarray(theta).dtype, np.integer))

    def init_state(self, shape):
        return {}

    def fire(self, m, count, state, rows, rng):
        raise NotImplementedError


NEURONS = {}


def register_neuron(cls):
    """Add a :class:`Neuron` subclass under its ``name`` (usable as a class decorator); returns it."""
    if not (isinstance(cls, type) and issubclass(cls, Neuron) and cls.name):
        raise ValueError('a neuron kind is a Neuron subclass with a name, got %r' % (cls,))
    NEURONS[cls.name] = cls
    return cls


def unregister_neuron(name):
    NEURONS.pop(name, None)


def neuron_class(name):
    """The registered neuron kind ``name``."""
    try:
        return NEURONS[name]
    except (KeyError, TypeError):
        raise ValueError('unknown neuron kind %r (known: %s)' % (name, ', '.join(sorted(NEURONS))))
