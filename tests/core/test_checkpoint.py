"""Checkpoint npz: our layout with metadata, the authors' params-only layout, TensorLayer's patched save/load."""
import os

import numpy as np
import pytest

from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import CheckpointError, check_params, load_checkpoint, save_checkpoint
import spiking_utils


def _params(arch_name='mlp_fashionmnist', seed=0):
    arch = architectures.get(arch_name)
    rng = np.random.RandomState(seed)
    return [rng.rand(*shape).astype(np.float32) + 0.5 for _, shape in arch.param_shapes()]


def test_round_trip_with_metadata(tmp_path):
    p = str(tmp_path / 'm.npz')
    params = _params()
    save_checkpoint(p, params, architecture='mlp_fashionmnist', k=1, dataset='fashion_mnist', ann_accuracy=0.8879,
                    weight_quant='none', epoch=3, learning_rate=1e-4)
    loaded, meta = load_checkpoint(p)
    assert len(loaded) == len(params)
    for a, b in zip(loaded, params):
        np.testing.assert_array_equal(a, b)
    assert meta['architecture'] == 'mlp_fashionmnist' and meta['k'] == 1 and meta['B'] is None
    assert meta['ann_accuracy'] == pytest.approx(0.8879) and meta['epoch'] == 3
    assert meta['date'] and meta['git_revision'] and meta['format']
    assert not [f for f in os.listdir(str(tmp_path)) if 'tmp' in f]  # atomic write left no temporary file


def test_authors_layout_params_only(tmp_path):
    """np.savez(name, params=[...]) as TensorLayer's save_npz wrote it, without metadata."""
    p = str(tmp_path / 'authors.npz')
    params = _params()
    obj = np.empty(len(params), dtype=object)
    for i, a in enumerate(params):
        obj[i] = a
    np.savez(p, params=obj)
    loaded, meta = load_checkpoint(p)
    assert all(v is None for v in meta.values())
    check_params(architectures.get('mlp_fashionmnist'), loaded)
    net = spiking_utils.SpikingNetwork.from_checkpoint(p, 'mlp_fashionmnist', k=1)
    assert net.k == 1


def test_equal_shapes_are_not_stacked(tmp_path):
    p = str(tmp_path / 'same.npz')
    save_checkpoint(p, [np.ones(3), np.zeros(3)])
    loaded, _ = load_checkpoint(p)
    assert [a.shape for a in loaded] == [(3,), (3,)]


@pytest.mark.parametrize('content,match', [
    (None, 'not found'),
    (b'this is not a zip file', 'not a readable .npz'),
    ('truncate', 'not a readable .npz'),
])
def test_bad_files_are_refused(tmp_path, content, match):
    p = str(tmp_path / 'bad.npz')
    if content == 'truncate':
        save_checkpoint(p, _params())
        data = open(p, 'rb').read()
        open(p, 'wb').write(data[:len(data) // 2])
    elif content is not None:
        open(p, 'wb').write(content)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(p)


def test_wrong_architecture_named_layer_by_layer(tmp_path):
    p = str(tmp_path / 'lenet.npz')
    save_checkpoint(p, _params('lenet_fashionmnist'), k=1)
    with pytest.raises(CheckpointError, match='holds 26 arrays but mlp_fashionmnist needs 11'):
        spiking_utils.SpikingNetwork.from_checkpoint(p, 'mlp_fashionmnist', k=1)
    params = _params()
    params[5] = np.zeros((1, 1, 400, 300), np.float32)
    with pytest.raises(CheckpointError, match=r'params\[5\] \(block 2 W\) has shape \(1, 1, 400, 300\)'):
        check_params(architectures.get('mlp_fashionmnist'), params)


def test_metadata_mismatch_refused(tmp_path):
    p = str(tmp_path / 'm.npz')
    save_checkpoint(p, _params(), architecture='mlp_fashionmnist', k=1)
    with pytest.raises(CheckpointError, match='trained with k=1 but k=2'):
        spiking_utils.SpikingNetwork.from_checkpoint(p, 'mlp_fashionmnist', k=2)
    with pytest.raises(CheckpointError, match='trained as mlp_fashionmnist, not lenet_fashionmnist'):
        spiking_utils.SpikingNetwork.from_checkpoint(p, 'lenet_fashionmnist', k=1)
    save_checkpoint(p, _params(), architecture='mlp_fashionmnist', k=None)
    with pytest.raises(CheckpointError, match='full-precision'):
        spiking_utils.SpikingNetwork.from_checkpoint(p, 'mlp_fashionmnist')


def test_nan_and_zero_gamma_refused():
    params = _params()
    params[2][7] = np.nan
    with pytest.raises(CheckpointError, match=r'params\[2\] \(block 1 BN gamma\) contains NaN'):
        spiking_utils.SpikingNetwork.from_params('mlp_fashionmnist', params, 1)
    params = _params()
    params[7][3] = 0.0
    with pytest.raises(spiking_utils.ConversionError, match='gamma is 0 for channel'):
        spiking_utils.SpikingNetwork.from_params('mlp_fashionmnist', params, 1)


def test_tensorlayer_save_and_load_npz_patched(tmp_path):
    tl = __import__('tensorlayer_patches').load()
    import tensorflow as tf
    g = tf.Graph()
    with g.as_default():
        a = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
        b = tf.Variable(np.ones(2, np.float32))  # ragged with a: stock save_npz fails on such lists
        c = tf.Variable(np.zeros(2, np.float32))
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            tl.files.save_npz([a, b, c], name=str(tmp_path / 'tl.npz'), sess=s)
    loaded = tl.files.load_npz(name=str(tmp_path / 'tl.npz'))  # stock load_npz fails on numpy >= 1.16.3
    assert [x.shape for x in loaded] == [(2, 3), (2,), (2,)]
