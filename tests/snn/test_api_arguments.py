"""The Python API refuses bad arguments (issue 35 item 7): ``SpikingNetwork.simulate`` / ``encode`` / ``from_checkpoint``
answer a bad ``x``, ``time_steps`` or ``B`` with one line naming the argument -- never a silent wrong result or a
low-level numpy error.  Inputs must lie in the range of the network's data-set preprocessing, which the registry
describes once per architecture (``Architecture.input_range``)."""
import math

import numpy as np
import pytest

from spiking_utils import SpikingNetwork, random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.core.architectures import Architecture, ConvBlock
from snn_conversion.core.checkpoint import CheckpointError, object_array, save_checkpoint
from snn_conversion.data.datasets import per_image_standardization


@pytest.fixture(scope='module')
def mlp():
    """mlp_fashionmnist (28x28 -> 400 -> 400) with random calibrated parameters, and its inputs."""
    rng = np.random.RandomState(0)
    x = rng.rand(4, 28, 28, 1).astype(np.float32)
    params = random_calibrated_params('mlp_fashionmnist', x, rng, k=1)
    return SpikingNetwork.from_params('mlp_fashionmnist', params, 1), x, params


@pytest.fixture
def tiny_cifar():
    """A small registered CIFAR-10 network (6x6x3 input): its inputs are per-image standardized."""
    arch = architectures.register(Architecture(
        name='tiny_cifar_api', dataset='cifar10', input_shape=(6, 6, 3), n_classes=3,
        blocks=[ConvBlock(8, 3), ConvBlock(5, 4)], family='negative', string='8C3-5',
        defaults=dict(k=1, time_steps=40, epochs=1, batch_size=4, learning_rate=1e-3, sim_batch_size=4)))
    try:
        yield arch
    finally:
        architectures.unregister(arch.name)


def _one_line(excinfo):
    text = str(excinfo.value)
    assert '\n' not in text
    return text


# ----------------------------------------------------------------------------- x

@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_nan_or_inf_input_is_refused(mlp, bad):
    net, x, _ = mlp
    x = x.copy()
    x[1, 3, 4, 0] = bad
    for call in (lambda: net.simulate(x, 5), lambda: net.encode(x)):
        with pytest.raises(ValueError) as e:
            call()
        text = _one_line(e)
        assert text.startswith('x ') and ('NaN' in text or 'Inf' in text), text


def test_raw_pixels_are_refused_saying_what_range_was_expected(mlp):
    net, x, _ = mlp
    raw = np.floor(x * 256.0)  # 0..255: the pixels before the data set's / 256
    with pytest.raises(ValueError) as e:
        net.simulate(raw, 5)
    text = _one_line(e)
    assert text.startswith('x ') and '255' in text and '[0, 1]' in text and 'fashion_mnist' in text, text


@pytest.mark.parametrize('scale', [1e30, -1.0, 1.5])
def test_inputs_outside_the_preprocessed_range_are_refused(mlp, scale):
    net, x, _ = mlp
    with pytest.raises(ValueError, match=r'^x has values in \[') as e:
        net.simulate(x * scale, 5)
    _one_line(e)


def test_preprocessed_inputs_pass(mlp):
    net, x, _ = mlp
    edges = np.zeros_like(x)
    edges[0] = 255.0 / 256.0  # the largest pixel / 256
    edges[1] = 1.0            # pixels / 255: accepted too
    assert net.simulate(np.concatenate([x, edges]), 3).logits.shape == (3, 8, 10)
    assert net.simulate(x.astype(np.float64).tolist(), 2).logits.shape == (2, 4, 10)  # nested lists are arrays


def test_standardized_inputs_with_negative_and_large_values_pass(tiny_cifar):
    """CIFAR's per-image standardization: signed values, several units large for an image with one bright
    pixel (the extreme: sqrt(H W C - 1)); raw pixels are refused."""
    rng = np.random.RandomState(1)
    raw = rng.randint(0, 256, (4,) + tiny_cifar.input_shape).astype(np.float32)
    raw[0] = 0.0
    raw[0, 2, 3, 1] = 255.0  # one bright pixel on black: the largest standardized value there is
    x = per_image_standardization(raw)
    assert x.min() < -1.0 and x.max() == pytest.approx(math.sqrt(6 * 6 * 3 - 1), rel=1e-6)
    params = random_calibrated_params(tiny_cifar, x, rng, k=1)
    net = SpikingNetwork.from_params(tiny_cifar, params, 1)
    assert net.simulate(x, 40).logits.shape == (40, 4, 3)
    with pytest.raises(ValueError, match=r'^x has values in \[0, 255\]') as e:
        net.simulate(raw, 40)
    assert 'per-image standardized' in _one_line(e)


def test_every_registered_network_has_its_data_sets_range():
    """One source of truth: each registered network's range holds every value its data set's preprocessing
    gives (the extreme standardized image included), and refuses raw 0-255 pixels where they cannot occur."""
    for name in architectures.names() + [architectures.mobilenet(0.25, 64, 20).name]:
        arch = architectures.get(name)
        r = arch.input_range
        assert r is not None and r.low <= 0.0 < r.high and r.what, name
        if arch.dataset in ('mnist', 'fashion_mnist'):
            assert (r.low, r.high) == (0.0, 1.0), name
        elif arch.dataset.startswith('n_mnist'):
            assert (r.low, r.high) == (0.0, 65535.0 / 32.0), name  # uint16 event counts / 32
        else:
            one_bright = np.zeros((1,) + arch.input_shape, np.float32)
            one_bright[0, 0, 0, 0] = 255.0
            z = per_image_standardization(one_bright)
            assert r.low <= z.min() and z.max() <= r.high, name
            assert r.high < 1.01 * math.sqrt(np.prod(arch.input_shape) - 1), name
    assert architectures.get('cnn1_cifar10').input_range.high < 255.0  # raw CIFAR pixels are out of range


def test_an_architecture_outside_the_registry_declares_its_range_or_has_none():
    arch = Architecture(name='adhoc', dataset='mnist', input_shape=(1, 1, 2), n_classes=2, blocks=[ConvBlock(2, 1)],
                        family='negative', string='2', defaults=dict(k=1, time_steps=4))
    assert arch.input_range is None
    bounded = Architecture(name='adhoc2', dataset='mnist', input_shape=(1, 1, 2), n_classes=2,
                           blocks=[ConvBlock(2, 1)], family='negative', string='2',
                           defaults=dict(k=1, time_steps=4), input_range=(-2, 2))
    assert (bounded.input_range.low, bounded.input_range.high) == (-2.0, 2.0)


def test_empty_batch_is_refused(mlp):
    net, x, _ = mlp
    with pytest.raises(ValueError, match=r'^x .*empty') as e:
        net.simulate(x[:0], 5)
    _one_line(e)


@pytest.mark.parametrize('shape', [(28, 28, 1), (4, 28, 28), (4, 28, 28, 2), (4, 1, 28, 28, 1), ()])
def test_wrong_shape_or_rank_is_refused(mlp, shape):
    net, _, _ = mlp
    with pytest.raises(ValueError, match=r'^x has shape') as e:
        net.simulate(np.zeros(shape, np.float32), 5)
    assert '(N, 28, 28, 1)' in _one_line(e)


@pytest.mark.parametrize('bad', ['pixels', None, [[1, 2], [3]]])
def test_non_numeric_input_is_refused(mlp, bad):
    net, _, _ = mlp
    with pytest.raises(ValueError, match=r'^x ') as e:
        net.simulate(bad, 5)
    _one_line(e)


# ----------------------------------------------------------------------------- time_steps

@pytest.mark.parametrize('bad', [2.5, 10.0, '10', None, True, False, 0, -3, np.float64(3), [3]])
def test_time_steps_must_be_an_integer_of_at_least_one(mlp, bad):
    net, x, _ = mlp
    with pytest.raises(ValueError, match=r'^time_steps ') as e:
        net.simulate(x, bad)
    _one_line(e)


@pytest.mark.parametrize('steps', [1, 3, np.int64(3), np.int32(2), np.uint8(2)])
def test_numpy_integer_time_steps_are_fine(mlp, steps):
    net, x, _ = mlp
    assert net.simulate(x, steps).logits.shape == (int(steps), 4, 10)


# ----------------------------------------------------------------------------- B

def _checkpoint(tmp_path, name, with_meta=True, k=1):
    rng = np.random.RandomState(2)
    arch = architectures.get(name)
    x = rng.rand(2, *arch.input_shape).astype(np.float32)
    params = random_calibrated_params(arch, x, rng, k=k)
    path = str(tmp_path / ('%s.npz' % name))
    if with_meta:
        save_checkpoint(path, params, architecture=name, k=k, weight_quant=arch.weight_quant.stored)
    else:  # the authors' files: params only
        np.savez(path, params=object_array(params))
    return path


@pytest.mark.parametrize('name,k', [('mlp_fashionmnist', 1), ('lenet_mnist_int', 0)])
@pytest.mark.parametrize('with_meta', [True, False])
def test_from_checkpoint_refuses_a_B_the_family_has_none_of(tmp_path, name, k, with_meta):
    path = _checkpoint(tmp_path, name, with_meta, k)
    with pytest.raises(CheckpointError, match=r'\bB\b') as e:
        SpikingNetwork.from_checkpoint(path, name, B=4)
    _one_line(e)
    assert SpikingNetwork.from_checkpoint(path, name).B is None  # without B it converts


def test_from_params_refuses_a_B_the_family_has_none_of(mlp):
    _, _, params = mlp
    with pytest.raises(CheckpointError, match=r'\bB\b'):
        SpikingNetwork.from_params('mlp_fashionmnist', params, 1, B=4)


@pytest.mark.parametrize('k', [2.5, 1.0, '1', True, None, -1])
def test_k_is_an_integer_never_truncated(mlp, k):
    _, _, params = mlp
    with pytest.raises(CheckpointError, match=r'^k must be an integer >= 0, got'):
        SpikingNetwork.from_params('mlp_fashionmnist', params, k)


@pytest.mark.parametrize('B', [2.5, 2.0, '2', True, 0])
def test_B_is_an_integer_never_truncated(B):
    arch = architectures.get('lenet_mnist_sg')
    params = [np.zeros(shape, np.float32) for _, shape in arch.param_shapes()]
    with pytest.raises(CheckpointError, match=r'needs B, an integer >= 1, got'):
        SpikingNetwork.from_params(arch, params, 1, B=B)


@pytest.mark.parametrize('workers', [2.5, '2', True, 0, -1, None])
def test_workers_is_an_integer_of_at_least_one(mlp, workers):
    net = mlp[0]
    with pytest.raises(ValueError, match=r'^workers must be an integer >= 1, got'):
        net.set_workers(workers)
    assert net.workers == 1
