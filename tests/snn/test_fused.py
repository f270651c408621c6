"""The compiled backend's fused MobileNet steps (snn/backends/numba_fused.py) against the references, neuron by
neuron: the dense engine (spikes and counts at every step, busy and sparse steps alike), the float64 quantized
ANN (final counts), the dense depthwise convolution (bit for bit) and the stored-threshold neuron rule."""
import numpy as np
import pytest

from spiking_utils import SpikingNetwork, quantized_forward, random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.snn import backends
from snn_conversion.snn.kernels import Events, sops_events
from snn_conversion.snn.layers import Geometry, SpikingLayer
from snn_conversion.snn.rules import EXACT, NEGATIVE_SPIKE

if not backends.available('compiled'):
    pytest.skip('numba is not installed', allow_module_level=True)
from snn_conversion.snn.backends import numba_backend as nb  # noqa: E402
from snn_conversion.snn.backends import numba_fused as fused  # noqa: E402
from snn_conversion.snn.backends import numba_kernels as kern  # noqa: E402


def _dense_spikes(out, shape):
    if out is None:
        return np.zeros(shape, np.int8)
    return out.to_dense(shape) if isinstance(out, Events) else out


class _Paths(object):
    """Counts the compiled backend's step paths of a run (fused depthwise, fused pointwise, busy pointwise)."""

    def __init__(self, monkeypatch):
        self.seen = {'depthwise': 0, 'pointwise': 0, 'busy': 0}
        fused_step, busy_step = nb.NumbaBackend.fused_step, nb.NumbaBackend.busy_step

        def counted_fused(backend, layer, *args):
            self.seen[backend.plan] += 1
            return fused_step(backend, layer, *args)

        def counted_busy(backend, layer, x):
            self.seen['busy'] += 1
            return busy_step(backend, layer, x)
        monkeypatch.setattr(nb.NumbaBackend, 'fused_step', counted_fused)
        monkeypatch.setattr(nb.NumbaBackend, 'busy_step', counted_busy)


def _mobilenet(width, size, k, seed, n=3):
    arch = architectures.mobilenet(width, size, 10)
    rng = np.random.RandomState(seed)
    x = ((rng.rand(n, *arch.input_shape) - 0.5) * 2.0).astype(np.float32)
    return arch, x, random_calibrated_params(arch, x, rng, k=k)


def _step_by_step(net, x, steps):
    """Every layer's spikes and counts after every step (the network's own time loop, recorded)."""
    record = []
    dense = net.engine == 'dense'
    saved = [layer.step if dense else layer.step_events for layer in net.layers]
    for i, layer in enumerate(net.layers):
        def wrapped(inp, i=i, layer=layer, fn=saved[i]):
            out = fn(inp)
            spikes = out[0] if isinstance(out, tuple) else out
            record.append((i, _dense_spikes(spikes, layer.m.shape).copy(), layer.count.copy()))
            return out
        if dense:
            layer.step = wrapped
        else:
            layer.step_events = wrapped
    trace = net.simulate(x, steps)
    return record, trace


@pytest.mark.parametrize('width,size,k,seed', [(0.25, 32, 1, 0), (0.25, 32, 2, 1), (0.5, 40, 1, 2)])
def test_fused_steps_equal_the_dense_engine_every_step(monkeypatch, width, size, k, seed):
    """Spikes and counts of every layer at every step, compiled (fused) against engine='dense', with the
    pointwise GEMM threshold low and high so that busy (GEMM) and sparse (gather) pointwise steps both occur,
    and the final counts against the float64 quantized ANN."""
    arch, x, params = _mobilenet(width, size, k, seed)
    levels, _ = quantized_forward(arch, params, x.astype(np.float64), k)
    dense, trace_d = _step_by_step(SpikingNetwork.from_params(arch, params, k, engine='dense'), x, 400)
    assert trace_d.converged
    paths = _Paths(monkeypatch)
    for threshold in (0.02, 0.3):
        monkeypatch.setattr(nb.NumbaBackend, 'pointwise_dense', threshold)
        compiled, trace_c = _step_by_step(SpikingNetwork.from_params(arch, params, k, engine='compiled'), x, 400)
        assert len(compiled) == len(dense)
        for (i, s_d, c_d), (j, s_c, c_c) in zip(dense, compiled):
            assert i == j
            np.testing.assert_array_equal(s_c, s_d)
            np.testing.assert_array_equal(c_c, c_d)
        for key in ('spike_num', 'sop_num', 'abs_spike', 'sum_spike', 'logits'):
            np.testing.assert_array_equal(getattr(trace_c, key), getattr(trace_d, key))
        for count, level in zip(trace_c.counts, levels):
            np.testing.assert_array_equal(count, level)
    assert paths.seen['depthwise'] and paths.seen['pointwise'] and paths.seen['busy'], paths.seen


@pytest.mark.parametrize('stride,padding,kernel', [(1, 'SAME', 3), (2, 'SAME', 3), (1, 'VALID', 3), (2, 'VALID', 3),
                                                   (1, 'SAME', 5), (2, 'VALID', 2)])
def test_depthwise_step_is_the_dense_depthwise_convolution_bit_for_bit(stride, padding, kernel):
    """The fused depthwise membrane is the reference's ``m += depthwise_conv2d_nhwc(x, W)``, float64 for float64
    (the same products summed in the same order), at every input density; its spikes are the stored-threshold
    rule's."""
    rng = np.random.RandomState(kernel + stride)
    shape, c = (9, 11, 24), 24
    w = rng.randn(kernel, kernel, c, 1)
    neuron = EXACT.neuron(NEGATIVE_SPIKE, np.full(c, 0.7), rng.randn(c) * 0.1)
    dense = SpikingLayer(w, Geometry(stride, padding, shape, depthwise=True), neuron, input_bound=1)
    compiled = SpikingLayer(w, Geometry(stride, padding, shape, depthwise=True), neuron, input_bound=1)
    dense.engine, compiled.engine = 'dense', 'compiled'
    dense.reset(3)
    compiled.reset(3)
    for density in (0.9, 0.3, 0.02, 0.0, 0.05):
        x = ((rng.rand(3, *shape) < density) * rng.choice([-1, 1], size=(3,) + shape)).astype(np.int8)
        s_d = dense.step(x)
        out, n_abs, n_sig = compiled.step_events(x)
        s_c = _dense_spikes(out, compiled.m.shape)
        assert compiled.m.tobytes() == dense.m.tobytes()  # bit for bit (0 * w may leave -0.0 where dense has 0.0)
        np.testing.assert_array_equal(s_c, s_d)
        np.testing.assert_array_equal(compiled.count, dense.count)
        assert (n_abs, n_sig) == (int(np.abs(s_d).sum()), int(s_d.sum()))


def _adversarial_pointwise(rng, cout=40):
    """A 1x1 layer with 31-bit dyadic weights (float64 sums exact, float32 must round) and thresholds tied to
    the exact membranes after a busy first step, and 2^-30 to either side."""
    shape = (5, 6, 16)
    w = rng.randint(-2 ** 30, 2 ** 30, size=(1, 1, 16, cout)) * 2.0 ** -30
    x1 = np.zeros((2,) + shape, np.int8)
    x1[..., :9] = 1                        # busy: every pixel, the same channels (one membrane per channel)
    x1[1, ..., 9] = -1
    m1 = np.einsum('nhwc,co->nhwo', x1.astype(np.float64), w[0, 0])
    offset = np.array([0.0, -2.0 ** -30, 2.0 ** -30])[np.arange(cout) % 3]
    base = m1[0, 0, 0] + offset - 1.0
    return w, shape, x1, base


def test_certified_pointwise_on_and_next_to_thresholds(monkeypatch):
    """Busy pointwise steps (certified float32 GEMM, fire_busy) then sparse ones (the fused gather on membranes
    that still carry float32 error) with thresholds on the exact membranes: the dense float64 engine's spikes."""
    rng = np.random.RandomState(5)
    w, shape, x1, base = _adversarial_pointwise(rng)
    cout = w.shape[-1]
    layers = {}
    for engine in ('dense', 'compiled'):
        layer = SpikingLayer(w, Geometry(1, 'SAME', shape), EXACT.neuron(NEGATIVE_SPIKE, np.ones(cout), np.zeros(cout)),
                            input_bound=1)
        layer.theta[:] = 1.0
        layer.base[:] = base  # the thresholds themselves (the rule would shift a base by the rounding offset)
        layer.engine = engine
        layer.reset(2)
        layers[engine] = layer
    assert nb.fusable(layers['compiled']) == 'pointwise' and layers['compiled'].backend.certificate is not None
    before = dict(nb.stats)
    steps = [x1] + [((rng.rand(2, *shape) < 0.05) * rng.choice([-1, 1], size=(2,) + shape)).astype(np.int8)
                    for _ in range(4)]
    for t, x in enumerate(steps):
        s_d = layers['dense'].step(x)
        out, _, _ = layers['compiled'].step_events(x)
        np.testing.assert_array_equal(_dense_spikes(out, s_d.shape), s_d, err_msg='step %d' % t)
        np.testing.assert_array_equal(layers['compiled'].count, layers['dense'].count)
    assert nb.stats['flagged'] > before['flagged']  # the ties were recomputed in float64
    m32 = np.einsum('nhwc,co->nhwo', x1.astype(np.float32), w[0, 0].astype(np.float32)).astype(np.float64)
    m64 = np.einsum('nhwc,co->nhwo', x1.astype(np.float64), w[0, 0])
    assert ((m32 > base + 1.0) != (m64 > base + 1.0)).any()  # plain float32 would have got some wrong


def test_thresholds_from_counts_are_the_stored_thresholds():
    """fire_row computes the next thresholds from the counts; the reference neuron stores them: the same
    spikes and counts step after step, membranes placed exactly on thresholds included (> up, <= down)."""
    rng = np.random.RandomState(7)
    c = 32
    theta, base = rng.rand(c) + 0.5, rng.randn(c)
    neuron = EXACT.neuron(NEGATIVE_SPIKE, theta, base)
    m = np.zeros((6, c))
    count_ref, count = np.zeros((6, c), np.int32), np.zeros((6, c), np.int32)
    state = neuron.init_state(m.shape)
    for step in range(12):
        m += rng.randn(6, c) * 2
        lo_tie = base + np.maximum(count_ref, 1) * theta  # exactly on the down-threshold (<=: spikes)
        hi_tie = base + (count_ref + 1) * theta           # exactly on the up-threshold (>: does not)
        m[0] = np.where(count_ref[0] > 0, lo_tie[0], m[0])
        m[1] = hi_tie[1]
        up, down = neuron.update(m, count_ref, state, None)
        out = np.empty((6, c), np.int8)
        for r in range(6):
            k, sig = kern.fire_row(m[r], count[r], neuron.base, neuron.theta, out[r])
            assert (k, sig) == (int(up[r].sum() + down[r].sum()), int(up[r].sum() - down[r].sum()))
        np.testing.assert_array_equal(out, up.astype(np.int8) - down.astype(np.int8))
        np.testing.assert_array_equal(count, count_ref)


def test_fused_sops_are_the_kernels_sops():
    arch, x, params = _mobilenet(0.25, 32, 1, 3)
    net = SpikingNetwork.from_params(arch, params, 1, engine='compiled')
    net.simulate(x, 2)
    rng = np.random.RandomState(0)
    for layer in net.layers[1:4]:
        spikes = ((rng.rand(len(x), *layer.in_shape) < 0.2) * rng.choice([-1, 1], size=(len(x),) + layer.in_shape))
        spikes = spikes.astype(np.int8)
        assert layer.sops(spikes) == sops_events(spikes, layer.fanout)
        assert layer.sops(Events.from_dense(spikes)) == sops_events(spikes, layer.fanout)
    counts = fused.pixel_counts(np.array([[0, -1, 1, 0], [0, 0, 0, 0], [3, -4, 0, 1]], np.int8))
    np.testing.assert_array_equal(counts, [2, 0, 8])


def test_a_compiled_layer_keeps_no_thresholds_but_reads_them_from_its_counts():
    """The compiled backend stores no thresholds for the exact rule; the layer's state computes them from the
    counts when read, so a dense step after compiled ones (or any reader) sees the stored rule's values."""
    rng = np.random.RandomState(11)
    shape, cout = (6, 6, 12), 20
    w = rng.randn(1, 1, 12, cout)
    layers = {}
    for engine in ('dense', 'compiled'):
        layer = SpikingLayer(w, Geometry(1, 'SAME', shape), EXACT.neuron(NEGATIVE_SPIKE, np.full(cout, 0.8),
                                                                                        np.full(cout, 0.1)))
        layer.engine = engine
        layer.reset(2)
        layers[engine] = layer
    assert not isinstance(layers['compiled'].state, dict)
    for t in range(6):
        x = ((rng.rand(2, *shape) < 0.3) * rng.choice([-1, 1], size=(2,) + shape)).astype(np.int8)
        s_d = layers['dense'].step(x)
        s_c = layers['compiled'].step(x) if t % 2 else _dense_spikes(layers['compiled'].step_events(x)[0], s_d.shape)
        np.testing.assert_array_equal(s_c, s_d)
        for key in ('hi', 'lo'):
            np.testing.assert_array_equal(layers['compiled'].state[key], layers['dense'].state[key])
