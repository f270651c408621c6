"""Multi-threshold neurons (scatter-and-gather): every threshold compared in one step, a graded spike.

* :class:`MultiThresholdNeuron` (``'multi_threshold'``) -- ``#{j <= levels : m > b + j theta}``;
* :class:`AuthorsMultiThresholdNeuron` (``'authors_multi_threshold'``) -- the authors' ``#{i : m >= T_i}`` on
  their own threshold table.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.snn.conversion import authors_level_thresholds
from snn_conversion.snn.neurons.base import Neuron, flat, register_neuron, selected

__all__ = ['MultiThresholdNeuron', 'AuthorsMultiThresholdNeuron']


@register_neuron
class MultiThresholdNeuron(Neuron):
    """A graded spike ``#{j <= levels : m > b + j theta}`` (int16) in one step; the count is that level.  With
    ``noise_ratio`` each comparison is dropped with that probability (kept when U >= r).  ``bn``, ``k``: the
    block's BatchNorm (beta, gamma, mean, var) and k, which the authors' variant computes its table from."""

    name = 'multi_threshold'
    event_driven = False  # it fires its level at every step it is examined
    strict = True  # ``m > T``

    def __init__(self, theta, base, levels, noise_ratio=0.0, bn=None, k=None):
        super(MultiThresholdNeuron, self).__init__(theta, base)
        self.levels, self.noise_ratio = int(levels), float(noise_ratio)

    def level_table(self):
        """[levels, channels] float64: the thresholds compared against (with ``strict``: ``>``, else ``>=``)."""
        return np.stack([self.base + j * self.theta for j in range(1, self.levels + 1)]).reshape(self.levels, -1)

    def compare(self, m, j):
        return m > self.base + j * self.theta

    def keep(self, u):
        """Which comparisons survive the noise draws ``u``."""
        return u >= self.noise_ratio

    def fire(self, m, count, state, rows, rng):
        sel = selected(rows)
        m_sel = flat(m)[sel]
        out = np.zeros(m_sel.shape, dtype=np.int16)
        for j in range(1, self.levels + 1):
            fire = self.compare(m_sel, j)
            if self.noise_ratio > 0:
                fire &= self.keep(rng.random_sample(m_sel.shape))
            out += fire
        flat(count)[sel] = out
        return out


@register_neuron
class AuthorsMultiThresholdNeuron(MultiThresholdNeuron):
    """The authors' scatter-and-gather neuron: ``#{i : m >= T_i}`` with their [levels, channels] table computed
    from the block's BatchNorm (:func:`snn_conversion.snn.conversion.authors_level_thresholds`; without ``bn``:
    the (theta, base) thresholds in float64); a comparison survives the noise when U > r."""

    name = 'authors_multi_threshold'
    strict = False  # ``m >= T``

    def __init__(self, theta, base, levels, noise_ratio=0.0, bn=None, k=None):
        super(AuthorsMultiThresholdNeuron, self).__init__(theta, base, levels, noise_ratio)
        if bn is None:  # the same (theta, base) thresholds, in float64
            self.thresholds = self.base[None, :] + (np.arange(self.levels)[:, None] + 1.0) * self.theta[None, :]
        else:
            self.thresholds = authors_level_thresholds(*bn, k=k, levels=self.levels)
        self.thresholds = np.asarray(self.thresholds, dtype=np.float64)
        if self.thresholds.shape != (self.levels, len(self.theta)):
            raise ValueError('thresholds must be [%d, %d]' % (self.levels, len(self.theta)))

    def level_table(self):
        return self.thresholds.reshape(self.levels, -1)

    def compare(self, m, j):
        return m >= self.thresholds[j - 1]

    def keep(self, u):
        return u > self.noise_ratio
