"""The neuron extension point: a new neuron kind is one class, registered under its name, here defined in this file
alone.  A "settling" neuron reaches its level in a single step -- a signed spike of as many units as its count
moves -- instead of the negative-spike neuron's one unit per step.  A recipe asks the rule for it by name; every
rule builds it on its own thresholds, the one spiking layer runs it, every engine steps it (a backend without a
kernel for it runs its ``fire``), and the network it makes is lossless: its counts are the quantized ANN's."""
import numpy as np
import pytest

from spiking_utils import SpikingNetwork, quantized_forward, random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.core.architectures import Architecture, ConvBlock
from snn_conversion.core.families import Family
from snn_conversion.snn import backends
from snn_conversion.snn.families import NegativeSpikeRecipe, register_family, unregister_family
from snn_conversion.snn.layers import SpikingLayer
from snn_conversion.snn.neurons import NEURONS, Neuron, register_neuron, unregister_neuron
from snn_conversion.snn.neurons.base import flat, selected
from snn_conversion.snn.rules import AUTHORS, EXACT


class SettlingNeuron(Neuron):
    """Its count jumps to ``#{j >= 1 : m > b + j theta}`` (the thresholds' own float64 comparisons); the spike is
    the jump (int16).  Event-driven: without new input a neuron that has settled stays settled."""

    name = 'test_settling'

    def fire(self, m, count, state, rows, rng):
        sel = selected(rows)
        m_sel = flat(m)[sel]
        target = np.maximum(np.floor((m_sel - self.base) / self.theta), 0).astype(np.int32)
        while True:  # the estimate's rounding, corrected by the comparisons themselves
            up = m_sel > self.base + (target + 1) * self.theta
            down = (target > 0) & (m_sel <= self.base + target * self.theta)
            if not (up.any() or down.any()):
                break
            target += up
            target -= down
        spikes = (target - flat(count)[sel]).astype(np.int16)
        flat(count)[sel] = target
        return spikes


class SettlingRecipe(NegativeSpikeRecipe):
    hidden = SettlingNeuron.name  # the rule has no entry for it: it builds the registered kind of that name


SETTLING = Family('settling', 'settling neurons', uses_B=False, optional_ternary=False, single_step=False,
                  noise='input', log_files=('accuracy.txt', 'spike_num.txt'), float_logs=('spike_num.txt',),
                  counted_from=0, readout_sop=True, log_tag_pattern='k<K>')


def _arch(name, family):
    return Architecture(name=name, dataset='mnist', input_shape=(10, 10, 1), n_classes=4,
                        blocks=[ConvBlock(6, 3), ConvBlock(8, 3), ConvBlock(5, 6)], family=family,
                        defaults=dict(k=1, time_steps=60, epochs=1, batch_size=8, learning_rate=1e-3,
                                      sim_batch_size=4), string='6C3-8C3-5')


@pytest.fixture
def settling():
    """The kind, a family whose recipe asks for it, its network and the same network in the negative family (the
    code after ``yield`` runs whatever the test's outcome)."""
    register_neuron(SettlingNeuron)
    register_family(SETTLING, SettlingRecipe())
    nets = [architectures.register(_arch(name, family))
            for name, family in (('settling_net', 'settling'), ('settling_net_as_negative', 'negative'))]
    yield nets
    for arch in nets:
        architectures.unregister(arch.name)
    unregister_family(SETTLING.name)
    unregister_neuron(SettlingNeuron.name)


def test_the_neuron_against_its_definition():
    rng = np.random.RandomState(2)
    theta, base = rng.rand(5) + 0.5, rng.randn(5)
    neuron = SettlingNeuron(theta, base)  # (registered by the fixture of the next test only)
    m = rng.randn(2, 3, 4, 5) * 3
    count = np.zeros(m.shape, np.int32)
    m[0, 0, 0] = base + 2 * theta  # exactly on a threshold: not above it
    out = neuron.fire(m, count, neuron.init_state(m.shape), None, None)
    j = np.arange(1, 40)[:, None, None, None, None]
    expected = (m[None] > base + j * theta).sum(axis=0)
    np.testing.assert_array_equal(count, expected)
    np.testing.assert_array_equal(out.reshape(m.shape), expected)
    m[1] -= 2.0  # the rows that moved (image 1: rows 12..23) answer with the difference, the others with nothing
    rows = np.array([3, 5, 14, 20])
    out = neuron.fire(m, count, {}, rows, None)
    now = (m[None] > base + j * theta).sum(axis=0).reshape(-1, 5)
    np.testing.assert_array_equal(out, now[rows] - expected.reshape(-1, 5)[rows])
    assert not out[:2].any() and (out[2:] < 0).any()
    np.testing.assert_array_equal(count.reshape(-1, 5)[rows], now[rows])


def test_a_new_neuron_kind_runs_end_to_end_on_every_engine(settling):
    arch, twin = settling
    rng = np.random.RandomState(6)
    x = rng.rand(8, 10, 10, 1).astype(np.float32)
    params = random_calibrated_params(arch, x, rng, k=1)
    levels, logits = quantized_forward(arch, params, x, 1)
    ref = SpikingNetwork.from_params(twin, params, 1).simulate(x, 60)  # negative-spike neurons, same network
    traces = {}
    for engine in [n for n in backends.names() if backends.available(n)]:  # the dense reference among them
        net = SpikingNetwork.from_params(arch, params, 1, engine=engine)
        assert all(type(layer) is SpikingLayer and type(layer.neuron) is SettlingNeuron for layer in net.layers)
        trace = traces[engine] = net.simulate(x, 60)
        assert trace.converged
        for count, level in zip(trace.counts, levels):  # lossless: the SNN's counts are the ANN's levels
            assert level.any()
            np.testing.assert_array_equal(count, level)
        assert (trace.predictions()[-1] == np.argmax(logits, 1)).all()
    dense = traces['dense']
    for trace in traces.values():  # the engines agree step by step
        assert trace.steps_run == dense.steps_run
        np.testing.assert_array_equal(trace.spike_num, dense.spike_num)
        np.testing.assert_array_equal(trace.sop_num, dense.sop_num)
    # its own dynamics: the same final counts, reached in fewer steps and with no more spike units than the
    # negative-spike neurons' one unit per step
    assert dense.steps_run < ref.steps_run and dense.spike_num[-1] <= ref.spike_num[-1]
    for count, ref_count in zip(dense.counts, ref.counts):
        np.testing.assert_array_equal(count, ref_count)
    # the authors' rule builds it as well, on its own thresholds (no rule knows the kind)
    net = SpikingNetwork.from_params(arch, params, 1, rule=AUTHORS)
    assert all(type(layer.neuron) is SettlingNeuron and layer.neuron.theta.dtype == np.float64 for layer in net.layers)
    assert net.simulate(x, 60).converged


def test_registries_hold_the_seeds_neurons_only():
    """(After the test above, its fixture has taken the settling neuron and family out again.)"""
    assert SettlingNeuron.name not in NEURONS
    rules_kinds = set(EXACT.neurons.values()) | set(AUTHORS.neurons.values())
    assert set(NEURONS) == rules_kinds  # every registered kind is some rule's choice
