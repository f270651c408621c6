"""The readable reference (``engine='dense'``): no event-driven path at all.  Every layer convolves its whole
input and its neurons fire by their own rule at every step (:meth:`~snn_conversion.snn.layers.SpikingLayer.step`,
the dense kernels of :mod:`snn_conversion.snn.kernels`, the neuron kinds of :mod:`snn_conversion.snn.neurons`);
the conformance test holds every other backend to it."""

from __future__ import absolute_import, division, print_function

from snn_conversion.snn.backends import Backend

__all__ = ['ReferenceBackend', 'BACKEND']


class ReferenceBackend(Backend):
    """The contract's defaults alone (the neuron's own state and rule) and ``event_driven = False``: the network
    steps its layers densely."""

    name = 'dense'
    event_driven = False


BACKEND = ReferenceBackend
