"""The simulation rule as a strategy, chosen once: ``'exact'`` (neuron-exact, the default) or ``'authors'``.

A rule decides the numerics of a conversion and nothing else: how BatchNorm is folded into thresholds, what a
neuron finally compares against (:meth:`Rule.thresholds`), which neuron kind each kind of layer gets (its table
:attr:`Rule.neurons`, the authors' own dynamics included), and whether the readout's accumulation counts as
synaptic operations.  The recipes (:mod:`snn_conversion.snn.families`) ask the rule for their neurons by the
kind of layer (:meth:`Rule.neuron`) -- or by a registered neuron kind's name, which every rule builds on its own
thresholds; layers, backends and the network never ask which rule they run.

* :data:`EXACT` -- the float64 quantized ANN, neuron by neuron: thresholds shifted by the ANN's rounding offset,
  recomputed from the spike count; integer membranes where asked.
* :data:`AUTHORS` -- the authors' simulators, numerics included (their dtypes and tolerances), so that logs can
  be lined up with theirs line for line.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np

from snn_conversion.snn.conversion import ConversionError, fold_bn, fold_bn_authors, neuron_thresholds
from snn_conversion.snn.neurons import neuron_class

__all__ = ['Rule', 'ExactRule', 'AuthorsRule', 'EXACT', 'AUTHORS', 'RULES', 'RULE_OBJECTS', 'get_rule',
           'NEGATIVE_SPIKE', 'ALL_INTEGER_NEGATIVE_SPIKE', 'MULTI_THRESHOLD', 'DYNAMIC_THRESHOLD']

# the kinds of layer a recipe asks a rule's neuron for (each rule's table names the neuron kind it builds)
NEGATIVE_SPIKE = 'negative_spike'  # a negative-spike network's hidden layer
ALL_INTEGER_NEGATIVE_SPIKE = 'all_integer_negative_spike'  # the all-integer network's negative-spike layers
MULTI_THRESHOLD = 'multi_threshold'  # a scatter-and-gather layer
DYNAMIC_THRESHOLD = 'dynamic_threshold'  # the all-integer network's encoding layer


class Rule(object):
    """What a simulation rule decides; :class:`ExactRule` and :class:`AuthorsRule` are the two."""

    name = None
    description = ''
    supports_integer = False  # integer membranes and thresholds (use_int) have their own consistent rule
    neurons = {}  # kind of layer -> the registered neuron kind the rule builds for it

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

    def thresholds(self, theta, base, integer=False):
        """The (theta, base) a neuron compares against, from the folded ones (``integer``: int64 membranes)."""
        raise NotImplementedError

    def neuron(self, kind, theta, base, integer=False, **params):
        """The neuron of a layer of ``kind``: the neuron kind the rule's table names for it, or the registered
        kind of that name (:mod:`snn_conversion.snn.neurons`), built on the rule's :meth:`thresholds`;
        ``params``: the kind's own (levels, noise_ratio, bn, k, amplitude ...)."""
        cls = neuron_class(self.neurons.get(kind, kind))
        return cls(*self.thresholds(theta, base, integer), **params)

    def readout_sop(self, arch):
        """Whether ``sop_num`` counts the readout's accumulation for ``arch``."""
        raise NotImplementedError


class ExactRule(Rule):
    name = 'exact'
    supports_integer = True
    description = 'neuron-exact: the float64 quantized ANN, neuron by neuron (default)'
    neurons = {NEGATIVE_SPIKE: 'negative_spike', ALL_INTEGER_NEGATIVE_SPIKE: 'negative_spike',
               MULTI_THRESHOLD: 'multi_threshold', DYNAMIC_THRESHOLD: 'dynamic_threshold'}

    def fold(self, w, bn, k, label, level_k=None, depthwise=False):
        return fold_bn(w, bn, k, label, level_k=level_k, depthwise=depthwise)

    def thresholds(self, theta, base, integer=False):
        return neuron_thresholds(theta, base, integer=integer)

    def readout_sop(self, arch):
        return arch.readout_sop  # the family's consistent convention


class AuthorsRule(Rule):
    name = 'authors'
    description = "the authors' simulators: their neuron update, float32 thresholds and SOP counting"
    # each of the authors' scripts had its own update: the negative-spike ones a shadow potential, the
    # all-integer ones running up- and down-thresholds
    neurons = {NEGATIVE_SPIKE: 'authors_shadow', ALL_INTEGER_NEGATIVE_SPIKE: 'authors_thresholds',
               MULTI_THRESHOLD: 'authors_multi_threshold', DYNAMIC_THRESHOLD: 'authors_dynamic_threshold'}

    def fold(self, w, bn, k, label, level_k=None, depthwise=False):
        return fold_bn_authors(w, bn, k, label, level_k=level_k, depthwise=depthwise)

    def thresholds(self, theta, base, integer=False):
        if integer:
            raise ConversionError("integer thresholds use their own consistent rule; rule='authors' is the float one")
        return np.asarray(theta, dtype=np.float64), np.asarray(base, dtype=np.float64)

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
