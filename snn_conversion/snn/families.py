"""The three conversion recipes: which layers a family builds from a checkpoint's parameters.

The orchestration (:class:`snn_conversion.snn.network.SpikingNetwork`) is fixed; a family contributes its
recipe (as SpikingJelly's ann2snn): the encoding layer, the hidden neurons and the integer input bounds that let
the dense kernel run in exact float32.  What a family is otherwise (flags, logs, counting conventions) is
:mod:`snn_conversion.core.families`.
"""

from __future__ import absolute_import, division, print_function

from snn_conversion.core import families as core_families
from snn_conversion.snn.conversion import authors_level_thresholds, fold_bn, fold_bn_authors
from snn_conversion.snn.layers import DynamicThresholdConv, ScatterGatherConv, SpikingConv

__all__ = ['Recipe', 'NegativeSpikeRecipe', 'ScatterGatherRecipe', 'IntegerRecipe', 'recipe_for', 'RECIPES',
           'register_family', 'unregister_family']


class Recipe(object):
    """Build the hidden layers of ``arch`` from (prepared) ``params``; subclasses decide each block."""

    def first_k(self, arch, k):
        """The quantization level of the first block's activations."""
        return k

    def layers(self, arch, params, k, B=None, rule='exact', noise_ratio=0.0, use_int=False, source='parameters'):
        fold = fold_bn_authors if rule == 'authors' else fold_bn
        out = []
        for i, blk in enumerate(arch.blocks):
            w, beta, gamma, mean, var = params[5 * i:5 * i + 5]
            geometry = dict(stride=blk.stride, padding=blk.padding, in_shape=arch.block_input_shape(i), rule=rule,
                            name='block%d' % (i + 1))
            bn = (beta, gamma, mean, var)
            out.append(self.layer(arch, i, blk, w, bn, fold, '%s block %d' % (source, i + 1), geometry, k, B,
                                  rule, noise_ratio, use_int))
        return out

    def layer(self, arch, i, blk, w, bn, fold, label, geometry, k, B, rule, noise_ratio, use_int):
        raise NotImplementedError


class NegativeSpikeRecipe(Recipe):
    """Signed ±1 spikes over many steps; the encoded image drives the first layer."""

    authors_dynamics = 'shadow'

    def input_bound(self, arch, i, k):
        return None if i == 0 else 1  # the encoded image, then ±1 spikes

    def layer(self, arch, i, blk, w, bn, fold, label, geometry, k, B, rule, noise_ratio, use_int):
        if blk.depthwise:
            geometry['depthwise'] = True
        w, theta, base = fold(w, *bn, k=k, label=label, depthwise=blk.depthwise)
        if rule == 'authors':
            geometry['authors_dynamics'] = self.authors_dynamics
        return SpikingConv(w, theta=theta, base=base, integer=use_int and i > 0,
                           input_bound=self.input_bound(arch, i, k), **geometry)


class IntegerRecipe(NegativeSpikeRecipe):
    """The all-integer network: a dynamic-threshold encoding layer (k0, B0), then negative-spike neurons
    (integer ones with ``use_int``)."""

    authors_dynamics = 'thresholds'  # the all-integer scripts' neuron

    def first_k(self, arch, k):
        return arch.first_quant[0]

    def input_bound(self, arch, i, k):
        return 2 ** (k - arch.first_quant[0]) if i == 1 else 1

    def layer(self, arch, i, blk, w, bn, fold, label, geometry, k, B, rule, noise_ratio, use_int):
        if i > 0:
            return super(IntegerRecipe, self).layer(arch, i, blk, w, bn, fold, label, geometry, k, B, rule,
                                                    noise_ratio, use_int)
        k0, B0 = arch.first_quant
        w, theta, base = fold(w, *bn, k=k, label=label, level_k=k0)
        return DynamicThresholdConv(w, theta=theta, base=base, levels=(2 ** k0) * B0, amplitude=2 ** (k - k0),
                                    **geometry)


class ScatterGatherRecipe(Recipe):
    """Graded spikes 0..2^k B in one step; threshold noise on the first layer."""

    def layer(self, arch, i, blk, w, bn, fold, label, geometry, k, B, rule, noise_ratio, use_int):
        w, theta, base = fold(w, *bn, k=k, label=label, depthwise=blk.depthwise)
        levels = (2 ** k) * int(B)
        table = authors_level_thresholds(*bn, k=k, levels=levels) if rule == 'authors' else None
        return ScatterGatherConv(w, theta=theta, base=base, levels=levels, noise_ratio=noise_ratio if i == 0 else 0.0,
                                 input_bound=None if i == 0 else levels, thresholds=table, **geometry)


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
