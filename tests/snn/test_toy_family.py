"""The family extension point: a toy fourth family, defined here in one place (its description and its recipe,
one ``register_family`` call), goes through conversion, simulation and the log files with nothing else changed --
its own log set and number formats, its own SOP convention, lossless counts."""
import os

import numpy as np
import pytest

from spiking_utils import SpikingNetwork, quantized_forward, random_calibrated_params, run_test_set
from snn_conversion.core import architectures
from snn_conversion.core.architectures import Architecture, ConvBlock
from snn_conversion.core.families import Family
from snn_conversion.snn.families import NegativeSpikeRecipe, register_family, unregister_family


class ToyRecipe(NegativeSpikeRecipe):
    """Negative-spike neurons (the recipe is where a family's own neurons would be built)."""


TOY = Family('toy', 'toy negative-spike', uses_B=False, optional_ternary=False, single_step=False, noise='input',
             log_files=('accuracy.txt', 'spike_num.txt'), float_logs=('spike_num.txt',), counted_from=0,
             readout_sop=False, log_tag_pattern='k<K>')


def _arch(name, family):
    return Architecture(name=name, dataset='mnist', input_shape=(8, 8, 1), n_classes=3,
                        blocks=[ConvBlock(6, 3), ConvBlock(5, 6)], family=family,
                        defaults=dict(k=1, time_steps=60, epochs=1, batch_size=8, learning_rate=1e-3,
                                      sim_batch_size=4), string='6C3-5')


@pytest.fixture
def toy():
    register_family(TOY, ToyRecipe())
    arch = architectures.register(_arch('toy_net', 'toy'))
    twin = architectures.register(_arch('toy_net_as_negative', 'negative'))  # the same network, negative family
    try:
        yield arch, twin
    finally:
        architectures.unregister(arch.name)
        architectures.unregister(twin.name)
        unregister_family(TOY.name)


def test_a_toy_family_converts_simulates_and_logs(toy, tmp_path):
    arch, twin = toy
    rng = np.random.RandomState(5)
    x = rng.rand(8, 8, 8, 1).astype(np.float32)
    y = rng.randint(0, 3, 8)
    params = random_calibrated_params(arch, x, rng, k=1)
    net = SpikingNetwork.from_params(arch, params, 1)
    trace = net.simulate(x, 60)
    assert trace.converged and net.config_tag == 'k1' and net.log_files == ('accuracy.txt', 'spike_num.txt')
    levels, logits = quantized_forward(arch, params, x, 1)
    for count, level in zip(trace.counts, levels):  # lossless: the SNN's counts are the ANN's levels
        assert level.any()
        np.testing.assert_array_equal(count, level)
    assert (trace.predictions()[-1] == np.argmax(logits, 1)).all()
    # its own SOP convention: the negative family's count without the readout's accumulation
    ref = SpikingNetwork.from_params(twin, params, 1).simulate(x, 60)
    assert (trace.spike_num == ref.spike_num).all()
    assert trace.sop_num[-1] == ref.sop_num[-1] - trace.layer_spikes[-1] * arch.n_classes
    # its own log files, in its own number formats
    log_dir = str(tmp_path / 'logs')
    run_test_set(net, x, y, 60, 4, log_dir=log_dir, progress=False)
    assert sorted(f for f in os.listdir(log_dir) if f.endswith('.txt')) == ['accuracy.txt', 'spike_num.txt']
    with open(os.path.join(log_dir, 'spike_num.txt')) as f:
        spikes = f.read().split()
    assert len(spikes) == 2 * 60 and spikes[-1].endswith('.0') and float(spikes[-1]) > 0
    with open(os.path.join(log_dir, 'accuracy.txt')) as f:
        assert '.' not in f.read()
    from spiking_utils import FLOAT_LOGS  # the public table of float counters sees a family registered later
    assert FLOAT_LOGS[TOY.name] == TOY.float_logs and TOY.name in dict(FLOAT_LOGS)


def test_registries_hold_the_seeds_families_only():
    """(After the toy test, its fixture has taken the toy family and networks out again.)"""
    from snn_conversion.core.families import FAMILIES
    from snn_conversion.snn.families import RECIPES
    assert set(FAMILIES) == set(RECIPES) == {'negative', 'scatter_gather', 'integer'}
    assert 'toy_net' not in architectures.names()
