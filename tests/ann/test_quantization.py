"""The authors' TensorLayer additions: activation quantizer, ternary / k-bit weights, straight-through gradients."""
import numpy as np
import pytest

import tensorlayer_patches

tf = tensorlayer_patches.quiet_tensorflow()
from tensorlayer_patches import quantization as q  # noqa: E402


def _run(fn, *values):
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.float32, np.shape(v)) for v in values]
        out = fn(*phs)
        grads = tf.gradients(tf.reduce_sum(out), phs)
        with tf.Session(graph=g) as s:
            return s.run([out, grads], dict(zip(phs, values)))


@pytest.mark.parametrize('k', [0, 1, 2])
def test_activation_quantizer_values(k):
    x = np.array([0.0, 0.1, 0.24, 0.26, 0.49, 0.5, 0.74, 1.3, 2.0, 7.77], np.float32)
    out, _ = _run(lambda t: q.quantize_active(t, k), x)
    expected = np.floor(x * 2 ** k + 1e-5 + 0.5) / 2 ** k  # round half up (the +1e-5 offset breaks ties upwards)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)
    assert set(np.round(out * 2 ** k, 5)) <= set(np.arange(0, 100.0))  # integer levels of 2^-k


def test_quantizer_tie_goes_up_and_clip_with_B():
    out, _ = _run(lambda t: q.quantize_active(t, 1), np.array([0.25, 0.75], np.float32))
    np.testing.assert_allclose(out, [0.5, 1.0])  # tf.round alone would round 0.5 -> 0 (banker's rounding)
    out, _ = _run(lambda t: q.quantize_active(t, 1, B=2), np.array([-5.0, 0.3, 1.9, 2.2, 9.0], np.float32))
    np.testing.assert_allclose(out, [-2.0, 0.5, 2.0, 2.0, 2.0])


def test_straight_through_gradient():
    x = np.linspace(-1, 3, 17).astype(np.float32)
    _, (g,) = _run(lambda t: q.quantize_active(t, 1), x)
    np.testing.assert_allclose(g, np.ones_like(x))  # Round differentiated as identity
    _, (g,) = _run(lambda t: q.quantize_active(t, 1, B=2), x)
    np.testing.assert_allclose(g, ((x >= -2) & (x <= 2)).astype(np.float32))


def test_ternarization_twn():
    rng = np.random.RandomState(0)
    w = rng.randn(5, 5, 4, 8).astype(np.float32)
    out, (g,) = _run(q.ternarize, w)
    delta = 0.7 * np.mean(np.abs(w))
    np.testing.assert_array_equal(out, np.where(w > delta, 1, np.where(w < -delta, -1, 0)))
    assert set(np.unique(out)) == {-1.0, 0.0, 1.0}
    assert np.all(g != 0)  # gradient passes straight through the Sign ops
    again, _ = _run(q.ternarize, out)  # idempotent: a saved ternary tensor reloads unchanged
    np.testing.assert_array_equal(again, out)


@pytest.mark.parametrize('bits', [1, 2, 4])
def test_k_bit_weights(bits):
    w = np.random.RandomState(1).randn(64).astype(np.float32)
    out, (g,) = _run(lambda t: q.quantize_weight(t, bits), w)
    assert len(np.unique(out)) <= 2 ** bits
    if bits > 1:
        levels = (out + 1) / 2 * (2 ** bits - 1)
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-5)
    assert np.all(np.isfinite(g))


def test_patched_tensorlayer_exposes_the_fork_layers():
    tl = tensorlayer_patches.load()
    assert tl.__version__ == '1.11.1'
    for name in ('Quant_Layer', 'Quant_Conv2d', 'Quant_DenseLayer'):
        assert hasattr(tl.layers, name)
    assert tensorlayer_patches.layers is tl.layers
