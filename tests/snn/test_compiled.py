"""The compiled backend (engine='compiled'): its gather kernel against the scipy one, and certified float32
against adversarial thresholds (its logs against engine='dense' on every family: tests/snn/test_backends.py)."""

import numpy as np
import pytest

from spiking_utils import SpikingNetwork, random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.snn import backends
from snn_conversion.snn.kernels import Events, conv2d_nhwc, event_increments
from snn_conversion.snn.layers import Geometry, SpikingLayer
from snn_conversion.snn.rules import EXACT, NEGATIVE_SPIKE

if not backends.available('compiled'):
    pytest.skip('numba is not installed', allow_module_level=True)
from snn_conversion.snn.backends import numba_backend as nb  # noqa: E402


@pytest.mark.parametrize('stride,padding,shape,kernel', [(1, 'SAME', (9, 9, 5), 3), (2, 'SAME', (9, 9, 5), 3),
                                                         (1, 'VALID', (8, 8, 4), 5), (2, 'VALID', (9, 7, 3), 2),
                                                         (1, 'VALID', (4, 4, 6), 4)])  # a dense layer
def test_gather_kernel_equals_the_sparse_product(stride, padding, shape, kernel):
    rng = np.random.RandomState(kernel + stride)
    w = rng.randn(kernel, kernel, shape[2], 7)
    layer = SpikingLayer(w, Geometry(stride, padding, shape), EXACT.neuron(NEGATIVE_SPIKE, np.ones(7), np.zeros(7)))
    for density in (0.01, 0.2, 0.9):
        x = ((rng.rand(3, *shape) < density) * rng.choice([-2, -1, 1, 3], size=(3,) + shape)).astype(np.int8)
        ev = Events.from_dense(x)
        rows, delta = nb.gather_increments(ev, w, stride, layer.pads, shape, layer.out_shape, 3)
        rows_ref, delta_ref = event_increments(ev, w, stride, layer.pads, layer.out_shape)
        np.testing.assert_array_equal(rows, rows_ref)
        np.testing.assert_allclose(delta, delta_ref, rtol=1e-12, atol=1e-12)
        # and every increment is the dense convolution's
        full = conv2d_nhwc(x.astype(np.float64), w, stride, layer.pads).reshape(-1, 7)
        np.testing.assert_allclose(delta, full[rows], rtol=1e-12, atol=1e-12)
        assert not np.delete(full, rows, axis=0).any()


def test_certificate_bounds_the_float32_error():
    """|fl32(W32 * C) - W * C| <= beta for every neuron, over counts of various sizes and densities."""
    rng = np.random.RandomState(0)
    for shape, kernel, cout, stride in (((12, 12, 40), 3, 24, 1), ((8, 8, 600), 3, 8, 2), ((5, 5, 30), 5, 10, 1)):
        w = rng.randn(kernel, kernel, shape[2], cout) * rng.lognormal(size=cout)
        layer = SpikingLayer(w, Geometry(stride, 'SAME' if kernel == 3 else 'VALID', shape),
                            EXACT.neuron(NEGATIVE_SPIKE, np.ones(cout), np.zeros(cout)), input_bound=1)
        for density, top in ((0.05, 1), (0.4, 1), (0.9, 7)):
            cert = nb.Certificate(layer).start(4)
            c = (rng.rand(4, *shape) < density) * rng.randint(-top, top + 1, size=(4,) + shape)
            cert.add_dense(c.astype(np.float32))
            m32 = cert.membrane32().astype(np.float64)
            exact = conv2d_nhwc(c.astype(np.float64), layer.w, stride, layer.pads).reshape(m32.shape)
            beta = np.minimum(cert.bound_l1[None, :], cert.bound_l2[None, :] * cert.s_row[:, None]) + cert.tiny
            assert (np.abs(m32 - exact) <= beta).all()
            assert (np.abs(m32 - exact) > 0).any()  # float32 does err: the bound is doing work
            rows = np.arange(0, m32.shape[0], 7)
            np.testing.assert_allclose(cert.exact_membrane(rows), exact[rows], rtol=1e-13, atol=1e-12)


def _adversarial_layer(rng, cout=48):
    """A layer whose float64 sums are exact (31-bit dyadic weights; float32 must round them) and a two-step
    input (a busy one, then one that lowers some membranes) with its exact membranes at both steps."""
    shape = (6, 6, 8)
    w = rng.randint(-2 ** 30, 2 ** 30, size=(3, 3, 8, cout)) * 2.0 ** -30
    layer = SpikingLayer(w, Geometry(1, 'SAME', shape), EXACT.neuron(NEGATIVE_SPIKE, np.ones(cout), np.zeros(cout)),
                        input_bound=1)
    x1 = np.zeros((2,) + shape, np.int8)
    x1[..., :4] = 1                     # spatially uniform: every interior neuron of a channel has one membrane
    x1[1, ..., 4] = -1
    x2 = np.zeros_like(x1)
    x2[..., 0] = -1
    m1 = conv2d_nhwc(x1.astype(np.float64), layer.w, 1, layer.pads)
    m2 = m1 + conv2d_nhwc(x2.astype(np.float64), layer.w, 1, layer.pads)
    return layer, x1, x2, m1, m2


def test_certified_float32_on_and_next_to_thresholds():
    """Thresholds placed exactly on the membranes (ties: up needs m > hi, down m <= lo) and 2^-30 to either
    side, at the first step (up-thresholds) and the second (down-thresholds after a spike): the compiled
    engine's spikes are the dense float64 engine's, and plain float32 would have got some of them wrong."""
    rng = np.random.RandomState(1)
    layer, x1, x2, m1, m2 = _adversarial_layer(rng)
    cout = m1.shape[-1]
    tie1, tie2 = m1[0, 2, 2], m2[0, 2, 2]   # an interior neuron of image 0, per channel
    offset = np.array([0.0, -2.0 ** -30, 2.0 ** -30])[np.arange(cout) % 3]
    # channels 0..23: up-tie at step 1 (hi = base + theta = m1 + offset); 24..47: down-tie at step 2
    base = np.where(np.arange(cout) < cout // 2, tie1 + offset - 1.0, tie2 + offset - 1.0)
    up_tie_second = np.arange(cout) >= cout // 2
    assert (tie1[up_tie_second] > tie2[up_tie_second] + 2.0 ** -29).mean() > 0.3  # many of them spike at step 1
    spikes = {}
    for engine in ('dense', 'compiled'):
        layer.engine = engine
        layer.theta[:] = 1.0
        layer.base[:] = base
        layer.reset(2)
        if engine == 'dense':
            s = [layer.step(x1), layer.step(x2)]
        else:
            s = []
            for x in (x1, x2):
                out, _, _ = layer.step_events(x)
                s.append(np.zeros(layer.m.shape, np.int8) if out is None else
                         out.to_dense(layer.m.shape) if isinstance(out, Events) else out)
        spikes[engine] = (s, layer.count.copy())
    for a, b in zip(spikes['dense'][0], spikes['compiled'][0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(spikes['dense'][1], spikes['compiled'][1])
    assert spikes['dense'][0][0][0, 2, 2][np.arange(cout) % 3 == 1][: cout // 6].all()  # just below: spike
    # the premise: plain float32 would decide some of these neurons differently
    m32 = conv2d_nhwc(x1.astype(np.float32), layer.w.astype(np.float32), 1, layer.pads).astype(np.float64)
    hi = base + 1.0
    assert ((m32 > hi) != (m1 > hi)).any()


def test_compiled_engine_counts_flagged_neurons():
    rng = np.random.RandomState(2)
    layer, x1, x2, m1, _ = _adversarial_layer(rng)
    layer.base[:] = m1[0, 2, 2] - 1.0  # every channel tied at step 1
    layer.engine = 'compiled'
    layer.reset(2)
    before = dict(nb.stats)
    layer.step_events(x1)
    assert nb.stats['flagged'] - before['flagged'] >= m1.shape[-1]  # at least the tied interior neurons
    assert nb.stats['examined'] - before['examined'] == layer.m.size


def test_engine_choice():
    assert backends.default_engine() == 'compiled'
    arch = architectures.get('lenet_fashionmnist')
    params = random_calibrated_params(arch, np.random.rand(4, 28, 28, 1).astype(np.float32), np.random.RandomState(0))
    assert SpikingNetwork.from_params(arch, params, 1).engine == 'compiled'
    with pytest.raises(ValueError, match='engine must be one of'):
        SpikingNetwork.from_params(arch, params, 1, engine='gpu')
