"""The backend contract: every registered backend (snn_conversion.snn.backends.REGISTRY) against the dense
reference engine -- spikes, counters and log bytes on every family -- so a new backend is tested by registering
it.  A deliberately wrong backend shows that the check fails."""
import gc
import os
import weakref

import numpy as np
import pytest

from spiking_utils import SpikingNetwork, random_calibrated_params, run_test_set
from snn_conversion.core import architectures
from snn_conversion.snn import backends
from snn_conversion.snn.backends.numpy_backend import NumpyBackend, spikes_out
from snn_conversion.snn.network import ENGINES

# (architecture, k, conversion options): every family, the integer membranes, a depthwise network, noise
CASES = [('lenet_fashionmnist', 1, {}),
         ('mlp_fashionmnist', 2, {}),
         ('cnn1_cifar10', 1, {}),
         ('lenet_mnist_int', 1, dict(use_int=True)),
         ('lenet_mnist_int', 1, dict(use_int=False)),
         ('lenet_mnist_int', 1, dict(rule='authors')),
         ('lenet_mnist', 1, dict(rule='authors', noise_ratio=0.2)),
         ('lenet_mnist_sg', 1, dict(B=2, noise_ratio=0.1)),
         ('lenet_mnist_sg', 1, dict(B=2)),
         ('lenet_mnist_sg', 0, dict(B=4, rule='authors')),
         ('mobilenet', 1, {})]
IDS = ['%s-%s' % (c[0], '-'.join('%s=%s' % i for i in sorted(c[2].items()))) for c in CASES]
REGISTERED = [name for name in backends.names()  # the event-driven ones, each held to the dense reference
              if backends.available(name) and backends.backend_class(name).event_driven]
DENSE = [name for name in backends.names() if not backends.backend_class(name).event_driven]


def _logs(d):
    return {f: open(os.path.join(d, f), 'rb').read() for f in sorted(os.listdir(d)) if f.endswith('.txt')}


def _case(name, k, kw):
    arch = architectures.mobilenet(0.25, 32, 10) if name == 'mobilenet' else architectures.get(name)
    rng = np.random.RandomState(3)
    n = 4 if arch.input_shape[0] > 28 or arch.input_shape[2] > 1 else 20
    x = rng.rand(n, *arch.input_shape).astype(np.float32)
    if arch.input_shape[2] == 3:
        x = (x - 0.5) * 2.0
    y = rng.randint(0, arch.n_classes, n)
    return arch, x, y, random_calibrated_params(arch, x, rng, k=k, B=kw.get('B'))


def _run(engine, case, k, kw, out):
    """Everything a run gives that the backends must agree on: the log files' bytes, correct counts, steps run,
    spikes per layer and the final spike counts of every layer."""
    arch, x, y, params = case
    net = SpikingNetwork.from_params(arch, params, k, engine=engine, seed=4, **kw)
    res = run_test_set(net, x, y, 40, len(x) // 2, log_dir=out, progress=False)
    counts = [layer.count.copy() for layer in net.layers]  # the last batch's
    return (_logs(out), res['correct'].tolist(), res['steps_run'], res['layer_spikes'].tolist()), counts


def _agree(a, b):
    return a[0] == b[0] and all(np.array_equal(p, q) for p, q in zip(a[1], b[1]))


@pytest.fixture(scope='module')
def dense_runs(tmp_path_factory):
    """The dense reference engine's run of each case, computed once for all the backends held to it."""
    runs = {}

    def get(case_id, case, k, kw):
        if case_id not in runs:
            runs[case_id] = _run('dense', case, k, kw, str(tmp_path_factory.mktemp('dense')))
        return runs[case_id]
    return get


@pytest.mark.parametrize('engine', REGISTERED)
@pytest.mark.parametrize('name,k,kw', CASES, ids=IDS)
def test_every_backend_gives_the_dense_engines_logs(tmp_path, dense_runs, engine, name, k, kw):
    case = _case(name, k, kw)
    dense = dense_runs(IDS[CASES.index((name, k, kw))], case, k, kw)
    assert dense[0][0]['spike_num.txt'].split()[-1] != b'0'  # the network is not silent
    assert _agree(_run(engine, case, k, kw, str(tmp_path / engine)), dense)


class _DropsASpike(NumpyBackend):
    """A wrong backend: its neurons' first spike of every step is lost."""

    name = 'drops_a_spike'

    def fire(self, layer, rows):
        spikes = layer.fire_neurons(rows)
        spiking = layer.spiking_rows(spikes, rows)
        if (spikes > 0).any():
            spikes[np.unravel_index(np.argmax(spikes > 0), spikes.shape)] = 0
        return spikes_out(layer.m.shape, rows, spikes, self.dense_fraction) + (spiking,)


def test_the_conformance_check_fails_on_a_wrong_backend(tmp_path, monkeypatch):
    monkeypatch.setitem(backends.REGISTRY, _DropsASpike.name, _DropsASpike)  # a class registers as it is
    name, k, kw = CASES[0]
    case = _case(name, k, kw)
    dense = _run('dense', case, k, kw, str(tmp_path / 'dense'))
    wrong = _run(_DropsASpike.name, case, k, kw, str(tmp_path / 'wrong'))
    assert not _agree(wrong, dense)


def test_one_registry_names_the_engines():
    assert ENGINES == backends.engines() == backends.names() == tuple(REGISTERED) + ('dense',)
    assert DENSE == ['dense']  # the reference: a registered backend that is not event-driven
    for name in REGISTERED:
        cls = backends.backend_class(name)
        assert issubclass(cls, backends.Backend) and cls.name == name and 0 < cls.dense_fraction < 1
    assert backends.default_engine() == REGISTERED[0]
    with pytest.raises(ValueError, match='engine must be one of'):
        backends.backend_class('gpu')


def test_a_layer_owns_one_backend_instance_and_the_backend_no_layer_attribute(monkeypatch):
    """A backend writes the layer's membrane, counts and neuron state only: the layer's other attributes are the
    same objects after a batch through any backend as after one through the dense engine."""
    name, k, kw = CASES[2]  # cnn1: certified float32 on busy steps
    arch, x, y, params = _case(name, k, kw)
    x = x[:2]  # two images are enough for the attributes: the steps are busy all the same
    for engine in REGISTERED:
        net = SpikingNetwork.from_params(arch, params, k, engine=engine)
        before = [set(vars(layer)) for layer in net.layers]
        net.simulate(x, 10)
        backends_seen = [layer.backend for layer in net.layers]
        net.simulate(x, 3)
        assert [layer.backend for layer in net.layers] == backends_seen  # kept, not rebuilt per batch
        allowed = {'m', 'count', 'state', 'pending', 'backend'}
        for layer, names in zip(net.layers, before):
            assert set(vars(layer)) - names <= allowed, (engine, set(vars(layer)) - names - allowed)
        # no reference cycle through the backend: a network is freed (its state arrays with it) at once
        ref = weakref.ref(net.layers[-1])
        gc.disable()
        try:
            del net, layer
            assert ref() is None, engine
        finally:
            gc.enable()
