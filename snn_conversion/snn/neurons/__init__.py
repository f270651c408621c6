"""Neuron kinds as strategies of the one spiking layer: one interface (:mod:`.base`: ``init_state``, ``fire``,
``integer``, ``event_driven``), one registry (:data:`NEURONS`), a module per kind (its exact and its authors'
variants).  A new kind is one :class:`Neuron` subclass registered under its name (``tests/snn/test_new_neuron.py``
defines one in a single file); which kind a layer gets is the simulation rule's choice
(:mod:`snn_conversion.snn.rules`).
"""

from snn_conversion.snn.neurons.base import (NEURONS, Neuron, neuron_class, register_neuron,  # noqa: F401
                                             unregister_neuron)
from snn_conversion.snn.neurons.dynamic_threshold import (AuthorsDynamicThresholdNeuron,  # noqa: F401
                                                          DynamicThresholdNeuron)
from snn_conversion.snn.neurons.multi_threshold import AuthorsMultiThresholdNeuron, MultiThresholdNeuron  # noqa: F401
from snn_conversion.snn.neurons.negative_spike import (AUTHORS_TOLERANCE, AuthorsShadowNeuron,  # noqa: F401
                                                       AuthorsThresholdNeuron, CountThresholds, NegativeSpikeNeuron)

__all__ = ['Neuron', 'NEURONS', 'register_neuron', 'unregister_neuron', 'neuron_class', 'NegativeSpikeNeuron',
           'CountThresholds', 'AuthorsShadowNeuron', 'AuthorsThresholdNeuron', 'MultiThresholdNeuron',
           'AuthorsMultiThresholdNeuron', 'DynamicThresholdNeuron', 'AuthorsDynamicThresholdNeuron',
           'AUTHORS_TOLERANCE']
