import gzip
import os
import struct
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


@pytest.fixture
def shared():
    """../shared (real data and the authors' logs); tests using it skip when it is absent (a user's clone)."""
    if not os.path.isdir(SHARED):
        pytest.skip('../shared is absent (it only exists beside the CI / developer checkout)')
    return SHARED


def write_idx(path, array):
    """Write a uint8 array as a gzip-compressed idx file (the MNIST format)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack('>HBB', 0, 0x08, array.ndim) + struct.pack('>' + 'I' * array.ndim, *array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.tobytes())


def make_mnist_like(folder, n_train=600, n_test=100, seed=0):
    """A tiny learnable data set in the real idx.gz layout: class c lights up a class-specific pattern."""
    rng = np.random.RandomState(seed)
    patterns = rng.rand(10, 28, 28) > 0.7
    os.makedirs(folder, exist_ok=True)
    for split, n in (('train', n_train), ('t10k', n_test)):
        labels = rng.randint(0, 10, n).astype(np.uint8)
        images = (patterns[labels] * rng.randint(120, 256, (n, 28, 28))
                  + rng.randint(0, 60, (n, 28, 28))).clip(0, 255).astype(np.uint8)
        write_idx(os.path.join(folder, '%s-images-idx3-ubyte.gz' % split), images)
        write_idx(os.path.join(folder, '%s-labels-idx1-ubyte.gz' % split), labels)
    return folder


@pytest.fixture
def tiny_fashion(tmp_path):
    return make_mnist_like(str(tmp_path / 'fashion'))
