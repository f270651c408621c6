"""All-integer family: dynamic-threshold encoding layer, integer membranes and thresholds, input noise, logs.

The SNN is compared neuron by neuron with the quantized ANN: with float thresholds (``use_int=False``) the
float64 ANN, with integer thresholds the integer-threshold ANN (``quantized_forward(..., use_int=True)``),
which itself must agree with the float ANN except where a threshold's 10^4-rounding moves it across an
integer membrane value.
"""
import numpy as np
import pytest

import spiking_utils
from snn_conversion.snn.kernels import sops_dense
from spiking_utils import EXACT, Geometry, SpikingConv, SpikingNetwork, quantized_forward, random_calibrated_params
from snn_conversion.snn.neurons import DynamicThresholdNeuron
from snn_conversion.snn.rules import NEGATIVE_SPIKE
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import CheckpointError, save_checkpoint

NAME = 'lenet_mnist_int'


def _setup(k, seed, n=12, use_ternary=None):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, 28, 28, 1).astype(np.float32)
    return x, random_calibrated_params(NAME, x, rng, k=k, use_ternary=use_ternary)


def _traces_equal(a, b):
    for key in ('spike_num', 'spike_collect', 'sop_num', 'abs_spike', 'sum_spike', 'logits'):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    for ca, cb in zip(a.counts, b.counts):
        np.testing.assert_array_equal(ca, cb)


@pytest.mark.parametrize('k', [0, 1])
@pytest.mark.parametrize('use_int', [False, True])
def test_counts_equal_quantized_ann_neuron_by_neuron(k, use_int):
    x, params = _setup(k, seed=7 + k)
    levels, logits = quantized_forward(NAME, params, x, k, use_int=use_int)
    traces = []
    for engine in ('sparse', 'dense'):
        net = SpikingNetwork.from_params(NAME, params, k, use_int=use_int, engine=engine)
        trace = net.simulate(x, 40)
        assert trace.converged
        for i, (count, level) in enumerate(zip(trace.counts, levels)):
            np.testing.assert_array_equal(count, level, err_msg='layer %d' % (i + 1))
        traces.append(trace)
    _traces_equal(*traces)
    assert levels[0].max() <= 4 and levels[0].max() > 0  # the k0=0, B0=4 first layer
    assert max(int(lv.max()) for lv in levels[1:]) > 2 ** k  # hidden levels are not clipped
    np.testing.assert_allclose(traces[0].logits[-1], 2.0 ** k * logits, rtol=1e-9, atol=1e-9)
    if use_int:
        assert all(layer.m.dtype == np.int64 for layer in net.layers[1:])
        assert all(layer.w_gemm.dtype == np.float32 for layer in net.layers[1:])  # exact: integer products


def test_integer_ann_differs_from_float_ann_only_at_rounded_thresholds():
    """Per neuron, the integer rule may differ from the float one only when the float threshold it crosses is
    within the 10^4-rounding error (j * 0.5e-4 for the j-th threshold) of the integer membrane."""
    k = 1
    x, params = _setup(k, seed=3, n=24)
    int_levels, _ = quantized_forward(NAME, params, x, k, use_int=True)
    prepared = spiking_utils.prepare_params(architectures.get(NAME), params, True)
    total = differ = 0
    for i in range(1, len(int_levels)):
        arch = architectures.get(NAME)
        w, theta, base = spiking_utils.fold_bn(prepared[5 * i], prepared[5 * i + 1:5 * i + 5], k=k, label='t')
        theta, base = spiking_utils.neuron_thresholds(theta, base)  # float exact-rule thresholds
        counts = int_levels[i - 1] if i > 1 else int_levels[0] * 2 ** k
        m = spiking_utils.conv2d_nhwc(counts.astype(np.float64), w, arch.blocks[i].stride,
                                      spiking_utils.block_pads(arch, i))
        float_levels = np.maximum(np.ceil((m - base) / theta) - 1, 0)  # #{j >= 1: m > base + j theta}
        wrong = float_levels != int_levels[i]
        j = np.maximum(float_levels, int_levels[i])
        gap = np.abs(m - (base + j * theta))
        assert np.all(gap[wrong] <= (j[wrong] + 1) * 0.5e-4 + 1e-9), 'layer %d' % (i + 1)
        total += wrong.size
        differ += int(wrong.sum())
    assert differ <= 1e-3 * total, (differ, total)


def test_integer_rule_is_path_independent_at_equality():
    """A membrane exactly at a threshold counts as reached whichever way it got there (the authors' mix of
    > and < left such a neuron's count depending on its history)."""
    w = np.ones((1, 1, 1, 1))
    theta, base = np.array([1.0]), np.array([-0.5])  # float thresholds 0.5, 1.5, 2.5 ... (before the shift)
    layer = SpikingConv(w, Geometry(1, 'VALID', (1, 1, 1)), EXACT.neuron(NEGATIVE_SPIKE, theta, base, integer=True),
                        input_bound=4)
    first = int(layer.base[0] + layer.theta[0])
    assert layer.theta[0] == 10000 and first == 5000  # 10^4 (0.5 - 1e-5) rounds to 5000
    for path in ([1, 0, 0], [3, -2, 0]):  # up to 1 directly, or up to 3 and back down to 1
        layer.reset(1)
        for v in path:
            for _ in range(4):
                layer.step(np.full((1, 1, 1, 1), float(v)))
                v = 0
        assert layer.m[0, 0, 0, 0] == 10000 and layer.count[0, 0, 0, 0] == 1, path
    layer.reset(1)
    layer.m[...] = first  # exactly at the first threshold: reached
    layer.step(None)
    assert layer.count[0, 0, 0, 0] == 1
    layer.m[...] = first - 1
    layer.step(None)
    assert layer.count[0, 0, 0, 0] == 0


def test_dynamic_threshold_encoding_layer():
    k = 1
    x, params = _setup(k, seed=5, n=6)
    net = SpikingNetwork.from_params(NAME, params, k)
    first = net.layers[0]
    assert isinstance(first, spiking_utils.DynamicThresholdConv)  # the one spiking layer, under its former name
    assert isinstance(first.neuron, DynamicThresholdNeuron) and first.neuron.levels == 4 and first.neuron.amplitude == 2
    first.reset(len(x))
    outs = [first.step(net.encode(x))] + [first.step(None) for _ in range(5)]
    assert all(np.isin(o, (0, 2)).all() for o in outs)  # spikes of amplitude 2^(k-k0)
    assert not outs[4].any() and not outs[5].any()  # emits during its first 2^k0 B0 = 4 steps only
    for t in range(1, 4):
        assert not np.any(outs[t] & ~outs[t - 1].astype(bool))  # silent once, silent for good
    levels, _ = quantized_forward(NAME, params, x, k)
    np.testing.assert_array_equal(sum(o for o in outs) // 2, levels[0])


def test_input_noise_is_seeded_per_batch_and_converted_exactly():
    k, r = 0, 1.0
    x, params = _setup(k, seed=11, n=8)
    net = SpikingNetwork.from_params(NAME, params, k, use_int=True, noise_ratio=r, seed=4)
    net.reseed(3)
    encoded = net.encode(x)
    ratio = encoded[x > 0] / x[x > 0]
    assert ratio.min() >= 0.5 - 1e-12 and ratio.max() < 1.5 and ratio.std() > 0.1  # x (1 + (U - 0.5) r)
    net.reseed(3)
    trace = net.simulate(x, 30)
    levels, _ = quantized_forward(NAME, params, encoded, k, use_int=True)  # the ANN on the perturbed input
    for count, level in zip(trace.counts, levels):
        np.testing.assert_array_equal(count, level)
    net.reseed(4)
    assert not np.array_equal(net.encode(x), encoded)  # another batch, other draws
    clean = SpikingNetwork.from_params(NAME, params, k, use_int=True).simulate(x, 30)
    assert not all(np.array_equal(a, b) for a, b in zip(clean.counts, trace.counts))


def test_counters_and_log_lines():
    k = 0
    x, params = _setup(k, seed=2, n=10)
    y = np.arange(10) % 10
    net = SpikingNetwork.from_params(NAME, params, k, use_int=True)
    trace = net.simulate(x, 30)
    # the encoding layer is left out of the spike counters; abs/sum spikes are per step, the others cumulative
    hidden = trace.counts[1:]
    assert trace.spike_collect[-1] == sum(int(c.sum()) for c in hidden)
    np.testing.assert_array_equal(np.cumsum(trace.abs_spike), trace.spike_num)
    np.testing.assert_array_equal(np.cumsum(trace.sum_spike), trace.spike_collect)
    assert trace.abs_spike[trace.steps_run:].sum() == 0 and trace.steps_run < 30
    sops_in = sum(sops_dense(c.astype(np.float64) * (2 ** k if i == 0 else 1), layer.fanout)
                  for i, (layer, c) in enumerate(zip(net.layers[1:], trace.counts[:-1])))
    assert trace.sop_num[-1] >= sops_in  # each event's fan-out (+ readout); negative spikes add more
    lines = spiking_utils.format_log_lines(trace, y, net.log_files)
    assert sorted(lines) == sorted(spiking_utils.ALL_LOG_FILES)
    assert all(len(v) == 30 for v in lines.values())
    assert all(v.lstrip('-').isdigit() for v in lines['abs_spike.txt'] + lines['sum_spike.txt'])
    assert net.log_tag == 'WQ_INT/k0' and net.config_tag == 'k0_WQ'
    assert SpikingNetwork.from_params(NAME, params, k).log_tag == 'WQ/k0'


def test_refusals(tmp_path):
    x, params = _setup(0, seed=1, n=4)
    with pytest.raises(CheckpointError, match='all-integer family only'):
        arch = architectures.get('mlp_fashionmnist')
        SpikingNetwork.from_params(arch, [np.ones(s) for _, s in arch.param_shapes()], 1, use_int=True)
    with pytest.raises(CheckpointError, match='ternary'):
        SpikingNetwork.from_params(NAME, params, 0, use_ternary=False, use_int=True)
    with pytest.raises(CheckpointError, match="rule='authors'"):
        SpikingNetwork.from_params(NAME, params, 0, use_int=True, rule='authors')
    bad = [p.copy() for p in params]
    bad[5 * 2 + 2][3] = 1e6  # gamma so large that sigma/gamma rounds to 0 at 10^4 scale
    with pytest.raises(CheckpointError, match='rounds to 0'):
        SpikingNetwork.from_params(NAME, bad, 0, use_int=True)
    SpikingNetwork.from_params(NAME, bad, 0)  # fine with float thresholds
    path = str(tmp_path / 'nwq.npz')
    save_checkpoint(path, params, architecture=NAME, k=0, weight_quant='none')
    assert not SpikingNetwork.from_checkpoint(path, NAME).use_ternary
    with pytest.raises(CheckpointError, match='trained with full-precision hidden weights'):
        SpikingNetwork.from_checkpoint(path, NAME, use_ternary=True)
    with pytest.raises(CheckpointError, match='integer'):
        SpikingNetwork.from_checkpoint(path, NAME, use_int=True)


def test_against_tensorlayer_graph():
    """The TF graph (first-layer k0=0/B0=4 quantizer, TWN hidden weights from latent float weights) and the
    SNN agree neuron by neuron, up to a float32 rounding tie."""
    from snn_conversion.ann.model import QuantANN
    k = 1
    rng = np.random.RandomState(9)
    x = rng.rand(16, 28, 28, 1).astype(np.float32)
    params = random_calibrated_params(NAME, x, rng, k=k)  # BN calibrated for the ternary weights
    for i in range(1, 5):  # latent float weights whose TWN gives those ternary weights back
        w = params[5 * i]
        params[5 * i] = (w * rng.uniform(1.0, 2.0, w.shape) + (w == 0) * rng.uniform(-0.3, 0.3, w.shape)
                         ).astype(np.float32)
        np.testing.assert_array_equal(spiking_utils.ternarize(params[5 * i]), w)
    ann = QuantANN(NAME, k, ternary=True).assign(params)
    hidden = ann.hidden(x)
    ann.close()
    trace = SpikingNetwork.from_params(NAME, params, k, use_ternary=True).simulate(x, 40)
    per_unit = [1] + [2 ** k] * (len(hidden) - 1)
    diffs = [int((c != np.round(h * u)).sum()) for c, h, u in zip(trace.counts, hidden, per_unit)]
    assert diffs[0] == 0 and sum(diffs) <= 2, diffs
    assert np.array_equal(trace.counts[1], np.round(hidden[1] * 2 ** k))
