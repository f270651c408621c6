"""Dataset loaders on tiny generated files in the real formats, their search order and their error paths."""
import gzip
import os
import pickle

import numpy as np
import pytest

from conftest import make_mnist_like, write_idx
from snn_conversion.data import datasets, locate
from snn_conversion.data.datasets import DatasetError, load_dataset


def test_idx_loader_shapes_scaling_and_split(tmp_path):
    d = make_mnist_like(str(tmp_path / 'f'), n_train=120, n_test=30)
    data = load_dataset('fashion_mnist', data_dir=d)
    x, y = data['test']
    assert x.shape == (30, 28, 28, 1) and x.dtype == np.float32 and y.shape == (30,)
    assert x.max() < 1.0 and x.min() >= 0.0  # pixels / 256 like TensorLayer
    assert len(data['train'][0]) + len(data['val'][0]) == 120
    raw = datasets.read_idx(os.path.join(d, 't10k-images-idx3-ubyte.gz'))
    np.testing.assert_array_equal(x[..., 0], raw / np.float32(256))


def test_test_split_alone_needs_only_test_files(tmp_path):
    d = str(tmp_path / 'only_test')
    os.makedirs(d)
    write_idx(os.path.join(d, 't10k-images-idx3-ubyte.gz'), np.zeros((3, 28, 28)))
    write_idx(os.path.join(d, 't10k-labels-idx1-ubyte.gz'), np.arange(3))
    x, y = load_dataset('mnist', splits=('test',), data_dir=d)['test']
    assert x.shape == (3, 28, 28, 1) and list(y) == [0, 1, 2]
    with pytest.raises(DatasetError, match='train-images-idx3-ubyte.gz'):
        load_dataset('mnist', splits=('train',), data_dir=d)


def test_missing_files_list_every_place_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv('SNN_DATA_DIR', str(tmp_path / 'env'))
    monkeypatch.setattr(locate, 'DEBIAN_ROOT', str(tmp_path / 'debian'))
    with pytest.raises(DatasetError) as e:
        load_dataset('fashion_mnist')
    msg = str(e.value)
    assert '\n' not in msg and '--download' in msg
    order = [str(tmp_path / 'env'), str(tmp_path / 'data'), str(tmp_path / 'debian')]
    positions = [msg.index(p) for p in order]
    assert positions == sorted(positions)
    # an explicit --data_dir is the only place looked: missing, or without the files, it is an error
    with pytest.raises(DatasetError, match='--data_dir %s does not exist' % (tmp_path / 'flag')):
        load_dataset('fashion_mnist', data_dir=str(tmp_path / 'flag'))
    os.makedirs(str(tmp_path / 'flag'))
    with pytest.raises(DatasetError) as e:
        load_dataset('fashion_mnist', data_dir=str(tmp_path / 'flag'))
    assert str(tmp_path / 'flag') in str(e.value) and str(tmp_path / 'env') not in str(e.value)


def test_search_order_flag_beats_environment(tmp_path, monkeypatch):
    a = make_mnist_like(str(tmp_path / 'a'), 20, 5, seed=1)
    b = make_mnist_like(str(tmp_path / 'b'), 20, 7, seed=2)
    monkeypatch.setenv('SNN_DATA_DIR', b)
    assert len(load_dataset('mnist', splits=('test',))['test'][0]) == 7
    assert len(load_dataset('mnist', splits=('test',), data_dir=a)['test'][0]) == 5
    # a sub-folder named after the data set is found too
    os.rename(a, str(tmp_path / 'root'))
    os.makedirs(str(tmp_path / 'base'))
    os.rename(str(tmp_path / 'root'), str(tmp_path / 'base' / 'fashion_mnist'))
    assert datasets.find_dataset_dir('fashion_mnist', ('test',), str(tmp_path / 'base')).endswith('fashion_mnist')


@pytest.mark.parametrize('damage,match', [
    ('truncate', 'truncated'),
    ('magic', 'bad idx magic'),
    ('not_gzip', 'not a readable gzip'),
])
def test_corrupt_idx_files(tmp_path, damage, match):
    d = make_mnist_like(str(tmp_path / 'f'), 20, 5)
    p = os.path.join(d, 't10k-images-idx3-ubyte.gz')
    raw = gzip.open(p).read()
    if damage == 'truncate':
        raw = raw[:-100]
    elif damage == 'magic':
        raw = b'\x00\x00\x0d\x03' + raw[4:]
    if damage == 'not_gzip':
        open(p, 'wb').write(b'plain bytes')
    else:
        with gzip.open(p, 'wb') as f:
            f.write(raw)
    with pytest.raises(DatasetError, match=match):
        load_dataset('fashion_mnist', splits=('test',), data_dir=d)


def _cifar_batch(path, n, label_key, seed):
    rng = np.random.RandomState(seed)
    d = {'data': rng.randint(0, 256, (n, 3072)).astype(np.uint8), label_key: list(rng.randint(0, 10, n))}
    with open(path, 'wb') as f:
        pickle.dump(d, f)
    return d


def test_cifar10_and_cifar100_pickles(tmp_path):
    c10 = tmp_path / 'cifar-10-batches-py'
    c10.mkdir()
    for i in range(1, 6):
        _cifar_batch(str(c10 / ('data_batch_%d' % i)), 4, 'labels', i)
    ref = _cifar_batch(str(c10 / 'test_batch'), 3, 'labels', 9)
    data = load_dataset('cifar10', splits=('train', 'test'), data_dir=str(tmp_path))
    assert data['train'][0].shape == (20, 32, 32, 3)
    x = data['test'][0]
    assert x.shape == (3, 32, 32, 3) and x.max() > 1  # raw 0-255
    np.testing.assert_array_equal(x[0, :, :, 0].ravel(), ref['data'][0, :1024])  # channel-major rows -> NHWC
    c100 = tmp_path / 'cifar-100-python'
    c100.mkdir()
    _cifar_batch(str(c100 / 'train'), 5, 'fine_labels', 1)
    _cifar_batch(str(c100 / 'test'), 2, 'fine_labels', 2)
    assert load_dataset('cifar100', splits=('test',), data_dir=str(tmp_path))['test'][0].shape == (2, 32, 32, 3)
    open(str(c100 / 'test'), 'wb').write(b'garbage')
    with pytest.raises(DatasetError, match='not a readable CIFAR python pickle'):
        load_dataset('cifar100', splits=('test',), data_dir=str(tmp_path))


def test_real_mnist_test_set(shared):
    x, y = load_dataset('mnist', splits=('test',), data_dir=os.path.join(shared, 'data', 'mnist'))['test']
    assert x.shape == (10000, 28, 28, 1) and np.bincount(y).tolist()[:3] == [980, 1135, 1032]
