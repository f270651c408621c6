"""The three conversion recipes: which layers a family builds from a checkpoint's parameters.

The orchestration (:class:`snn_conversion.snn.network.SpikingNetwork`) is fixed; a family contributes its
recipe (as SpikingJelly's ann2snn): the encoding layer, the hidden neurons and the integer input bounds that let
the dense kernel run in exact float32.  What a family is otherwise (flags, logs, counting conventions) is
:mod:`snn_conversion.core.families`.
"""

from __future__ import absolute_import, division, print_function

from snn_conversion.core import families as core_families
from snn_conversion.snn.layers import Geometry, SpikingLayer
from snn_conversion.snn.rules import (ALL_INTEGER_NEGATIVE_SPIKE, DYNAMIC_THRESHOLD, MULTI_THRESHOLD,
                                     NEGATIVE_SPIKE)

__all__ = ['Recipe', 'NegativeSpikeRecipe', 'ScatterGatherRecipe', 'IntegerRecipe', 'recipe_for', 'RECIPES',
           'register_family', 'unregister_family', 'Block']


class Block(object):
    """One hidden block to convert: ``i`` (0-based), its :class:`~snn_conversion.core.architectures.ConvBlock`
    ``spec``, weights ``w``, BatchNorm ``bn`` = (beta, gamma, mean, var), ``label`` (for messages) and the
    synapses' :class:`~snn_conversion.snn.layers.Geometry`."""

    def __init__(self, i, spec, w, bn, label, geometry):
        self.i, self.spec, self.w, self.bn, self.label, self.geometry = i, spec, w, bn, label, geometry


class Recipe(object):
    """Build the hidden layers of ``arch`` from (prepared) ``params``; subclasses decide each block, asking the
    simulation ``rule`` (:mod:`snn_conversion.snn.rules`) for its arithmetic and neurons."""

    def first_k(self, arch, k):
        """The quantization level of the first block's activations."""
        return k

    def layers(self, arch, params, config, rule, noise_ratio=0.0, source='parameters'):
        """The hidden layers for the network ``config`` (k, B, use_int: a :class:`~snn_conversion.core.families.
        NetConfig`)."""
        out = []
        for i, blk in enumerate(arch.blocks):
            w, beta, gamma, mean, var = params[5 * i:5 * i + 5]
            geometry = Geometry(blk.stride, blk.padding, arch.block_input_shape(i), blk.depthwise,
                                'block%d' % (i + 1))
            block = Block(i, blk, w, (beta, gamma, mean, var), '%s block %d' % (source, i + 1), geometry)
            out.append(self.layer(arch, block, config, rule, noise_ratio))
        return out

    def layer(self, arch, block, config, rule, noise_ratio):
        raise NotImplementedError


class NegativeSpikeRecipe(Recipe):
    """Signed ±1 spikes over many steps; the encoded image drives the first layer."""

    hidden = NEGATIVE_SPIKE  # the kind of layer its neurons are asked for (the rule picks their update)

    def input_bound(self, arch, i, k):
        return None if i == 0 else 1  # the encoded image, then ±1 spikes

    def layer(self, arch, block, config, rule, noise_ratio):
        k = config.k
        w, theta, base = rule.fold(block.w, block.bn, k, block.label, depthwise=block.spec.depthwise)
        neuron = rule.neuron(self.hidden, theta, base, integer=config.use_int and block.i > 0)
        return SpikingLayer(w, block.geometry, neuron, input_bound=self.input_bound(arch, block.i, k))


class IntegerRecipe(NegativeSpikeRecipe):
    """The all-integer network: a dynamic-threshold encoding layer (k0, B0), then negative-spike neurons
    (integer ones with ``use_int``)."""

    hidden = ALL_INTEGER_NEGATIVE_SPIKE

    def first_k(self, arch, k):
        return arch.first_quant[0]

    def input_bound(self, arch, i, k):
        return 2 ** (k - arch.first_quant[0]) if i == 1 else 1

    def layer(self, arch, block, config, rule, noise_ratio):
        if block.i > 0:
            return super(IntegerRecipe, self).layer(arch, block, config, rule, noise_ratio)
        k0, B0 = arch.first_quant
        w, theta, base = rule.fold(block.w, block.bn, config.k, block.label, level_k=k0, depthwise=block.spec.depthwise)
        neuron = rule.neuron(DYNAMIC_THRESHOLD, theta, base, levels=(2 ** k0) * B0, amplitude=2 ** (config.k - k0))
        return SpikingLayer(w, block.geometry, neuron)


class ScatterGatherRecipe(Recipe):
    """Graded spikes 0..2^k B in one step; threshold noise on the first layer."""

    def layer(self, arch, block, config, rule, noise_ratio):
        k, first = config.k, block.i == 0
        w, theta, base = rule.fold(block.w, block.bn, k, block.label, depthwise=block.spec.depthwise)
        levels = (2 ** k) * int(config.B)
        neuron = rule.neuron(MULTI_THRESHOLD, theta, base, levels=levels, noise_ratio=noise_ratio if first else 0.0,
                             bn=block.bn, k=k)
        return SpikingLayer(w, block.geometry, neuron, input_bound=None if first else levels)


RECIPES = {'negative': NegativeSpikeRecipe(), 'integer': IntegerRecipe(), 'scatter_gather': ScatterGatherRecipe()}


def recipe_for(arch):
    """The recipe of ``arch``'s family."""
    return RECIPES[arch.family]


def register_family(family, recipe):
    """A new conversion family in one call: its description (a :class:`snn_conversion.core.families.Family`:
    flags, log files and formats, counting conventions, tags) and its :class:`Recipe` (the layers it builds).
    Networks of it are then registered as any other (``family=family.name``)."""
    core_families.register_family(family)
    RECIPES[family.name] = recipe
    return family


def unregister_family(name):
    core_families.unregister_family(name)
    RECIPES.pop(name, None)
