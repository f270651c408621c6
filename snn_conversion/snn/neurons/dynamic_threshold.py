"""Dynamic-threshold neurons: the all-integer family's encoding layer.

* :class:`DynamicThresholdNeuron` (``'dynamic_threshold'``) -- at each of its first ``levels`` steps t a neuron
  fires where its membrane exceeds ``b + (t + 1) theta``, a threshold rising by theta per step;
* :class:`AuthorsDynamicThresholdNeuron` (``'authors_dynamic_threshold'``) -- the authors' running threshold.

The membrane is the encoded input, integrated once, so a neuron emits exactly the ANN's first-block level
(0..levels) of spikes, each of value ``amplitude``; once silent it stays silent (the threshold only rises).
"""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.snn.neurons.base import Neuron, flat, register_neuron, selected

__all__ = ['DynamicThresholdNeuron', 'AuthorsDynamicThresholdNeuron']


@register_neuron
class DynamicThresholdNeuron(Neuron):
    """Spikes of value ``amplitude`` (int16) during the first ``levels`` steps; the count is their number."""

    name = 'dynamic_threshold'
    event_driven = False  # its threshold moves at every step, whatever its input

    def __init__(self, theta, base, levels, amplitude=1):
        super(DynamicThresholdNeuron, self).__init__(theta, base)
        self.levels, self.amplitude = int(levels), int(amplitude)

    def init_state(self, shape):
        return dict(t=0, threshold=self.base + self.theta)

    def fire(self, m, count, state, rows, rng=None):
        sel = selected(rows)
        m_sel = flat(m)[sel]
        t = state['t']
        state['t'] = t + 1
        if t >= self.levels:  # the layer's steps are over
            return np.zeros(m_sel.shape, dtype=np.int16)
        fire = self.compare(m_sel, t, state)
        flat(count)[sel] += fire
        return fire.astype(np.int16) * np.int16(self.amplitude)

    def compare(self, m, t, state):
        return m > self.base + (t + 1) * self.theta


@register_neuron
class AuthorsDynamicThresholdNeuron(DynamicThresholdNeuron):
    """The authors' encoding layer: ``max(m, b) >=`` a running threshold raised by theta after each step, in
    float64."""

    name = 'authors_dynamic_threshold'

    def compare(self, m, t, state):
        fire = np.maximum(m, self.base) >= state['threshold']
        state['threshold'] = state['threshold'] + self.theta
        return fire
