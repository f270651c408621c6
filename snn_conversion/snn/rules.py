"""The simulation rule as a strategy, chosen once: ``'exact'`` (neuron-exact, the default) or ``'authors'``.

A rule decides the numerics of a conversion and nothing else: how BatchNorm is folded into thresholds, what a
neuron finally compares against, which neuron update each kind of layer gets, and whether the readout's
accumulation counts as synaptic operations.  The recipes (:mod:`snn_conversion.snn.families`) ask the rule for
their neurons; layers, backends and the network never ask which rule they run.

* :data:`EXACT` -- the float64 quantized ANN, neuron by neuron: thresholds shifted by the ANN's rounding offset,
  recomputed from the spike count; integer membranes where asked.
* :data:`AUTHORS` -- the authors' simulators, numerics included (their dtypes and tolerances), so that logs can
  be lined up with theirs line for line.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np

from snn_conversion.snn.conversion import (ConversionError, authors_level_thresholds, fold_bn, fold_bn_authors,
                                           neuron_thresholds)
from snn_conversion.snn.neurons import (AuthorsDynamicThresholdNeuron, AuthorsMultiThresholdNeuron,
                                        AuthorsShadowNeuron, AuthorsThresholdNeuron, DynamicThresholdNeuron,
                                        MultiThresholdNeuron, NegativeSpikeNeuron)

__all__ = ['Rule', 'ExactRule', 'AuthorsRule', 'EXACT', 'AUTHORS', 'RULES', 'RULE_OBJECTS', 'get_rule']


class Rule(object):
    """What a simulation rule decides; :class:`ExactRule` and :class:`AuthorsRule` are the two."""

    name = None
    description = ''
    supports_integer = False  # integer membranes and thresholds (use_int) have their own consistent rule

    def __repr__(self):
        return 'Rule(%r)' % self.name

    def __str__(self):
        return self.name

    def __eq__(self, other):  # a rule equals itself and its name ('--rule authors')
        return self is other or (isinstance(other, str) and other == self.name)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.name)

    def __reduce__(self):  # one instance per rule, also in worker processes
        return get_rule, (self.name,)

    def fold(self, w, bn, k, label, level_k=None, depthwise=False):
        """(w, theta, base) of a block with BatchNorm ``bn`` = (beta, gamma, mean, var) folded in."""
        raise NotImplementedError

    def negative_spike_neuron(self, theta, base, integer=False, dynamics='shadow'):
        """The neuron of a negative-spike layer (``dynamics``: the authors' update a recipe's scripts used)."""
        raise NotImplementedError

    def graded_neuron(self, theta, base, levels, bn, k, noise_ratio=0.0):
        """The multi-threshold neuron of a scatter-and-gather layer (``bn``: its BatchNorm, for the authors'
        threshold table)."""
        raise NotImplementedError

    def dynamic_threshold_neuron(self, theta, base, levels):
        """The neuron of the all-integer family's encoding layer."""
        raise NotImplementedError

    def readout_sop(self, arch):
        """Whether ``sop_num`` counts the readout's accumulation for ``arch``."""
        raise NotImplementedError


class ExactRule(Rule):
    name = 'exact'
    supports_integer = True
    description = 'neuron-exact: the float64 quantized ANN, neuron by neuron (default)'

    def fold(self, w, bn, k, label, level_k=None, depthwise=False):
        return fold_bn(w, bn, k, label, level_k=level_k, depthwise=depthwise)

    def negative_spike_neuron(self, theta, base, integer=False, dynamics='shadow'):
        theta, base = neuron_thresholds(theta, base, integer=integer)
        return NegativeSpikeNeuron(theta, base, integer)

    def graded_neuron(self, theta, base, levels, bn, k, noise_ratio=0.0):
        theta, base = neuron_thresholds(theta, base)
        return MultiThresholdNeuron(theta, base, levels, noise_ratio)

    def dynamic_threshold_neuron(self, theta, base, levels):
        theta, base = neuron_thresholds(theta, base)
        return DynamicThresholdNeuron(theta, base, levels)

    def readout_sop(self, arch):
        return arch.readout_sop  # the family's consistent convention


class AuthorsRule(Rule):
    name = 'authors'
    description = "the authors' simulators: their neuron update, float32 thresholds and SOP counting"
    _dynamics = {'shadow': AuthorsShadowNeuron, 'thresholds': AuthorsThresholdNeuron}

    def fold(self, w, bn, k, label, level_k=None, depthwise=False):
        return fold_bn_authors(w, bn, k, label, level_k=level_k, depthwise=depthwise)

    @staticmethod
    def _float64(theta, base):
        return np.asarray(theta, dtype=np.float64), np.asarray(base, dtype=np.float64)

    def negative_spike_neuron(self, theta, base, integer=False, dynamics='shadow'):
        if integer:
            raise ConversionError("integer thresholds use their own consistent rule; rule='authors' is the float one")
        if dynamics not in self._dynamics:
            raise ValueError('dynamics must be one of %s, got %r' % (tuple(sorted(self._dynamics)), dynamics))
        return self._dynamics[dynamics](*self._float64(theta, base))

    def graded_neuron(self, theta, base, levels, bn, k, noise_ratio=0.0):
        table = None if bn is None else authors_level_thresholds(*bn, k=k, levels=levels)
        theta, base = self._float64(theta, base)
        return AuthorsMultiThresholdNeuron(theta, base, levels, table, noise_ratio)

    def dynamic_threshold_neuron(self, theta, base, levels):
        return AuthorsDynamicThresholdNeuron(*(self._float64(theta, base) + (levels,)))

    def readout_sop(self, arch):
        return arch.authors_readout_sop  # the authors' script's own choice


EXACT, AUTHORS = ExactRule(), AuthorsRule()
RULE_OBJECTS = collections.OrderedDict((r.name, r) for r in (EXACT, AUTHORS))
RULES = tuple(RULE_OBJECTS)  # their names: the --rule choices


def get_rule(rule):
    """The :class:`Rule` of a name (``--rule``) or the rule itself."""
    if isinstance(rule, Rule):
        return rule
    try:
        return RULE_OBJECTS[rule]
    except (KeyError, TypeError):
        raise ConversionError('rule must be one of %s, got %r' % (', '.join(RULES), rule))
