"""MNIST-like data sets: gzip-compressed idx files (MNIST, Fashion-MNIST), pixels / 256, TensorLayer's
50,000 / 10,000 split of the training images."""

from __future__ import absolute_import, division, print_function

import gzip
import os
import struct

import numpy as np

from snn_conversion.core.fileio import atomic_write
from snn_conversion.data.kinds.base import DatasetError, Kind, download, generated_images, register_kind, split_val

__all__ = ['IDX_FILES', 'read_idx', 'IdxKind']

IDX_FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}


def _read_gz(path):
    try:
        with gzip.open(path, 'rb') as f:
            return f.read()
    except (OSError, EOFError, IOError) as e:
        raise DatasetError('%s is not a readable gzip file (%s); delete it and fetch it again' % (path, e))


def read_idx(path):
    """Read one gzip-compressed idx file (images or labels) into a uint8 array."""
    raw = _read_gz(path)
    if len(raw) < 8:
        raise DatasetError('%s is too short to be an idx file' % path)
    zero, dtype, ndim = struct.unpack('>HBB', raw[:4])
    if zero != 0 or dtype != 0x08 or ndim not in (1, 3):
        raise DatasetError('%s has a bad idx magic number (expected unsigned-byte data with 1 or 3 dimensions)' % path)
    dims = struct.unpack('>' + 'I' * ndim, raw[4:4 + 4 * ndim])
    count = int(np.prod(dims))
    body = raw[4 + 4 * ndim:]
    if len(body) != count:
        raise DatasetError('%s is truncated or padded: header says %d values, file holds %d' % (path, count, len(body)))
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _load_split(folder, split):
    img_f, lab_f = IDX_FILES[split]
    x = read_idx(os.path.join(folder, img_f))
    y = read_idx(os.path.join(folder, lab_f))
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DatasetError('%s: images %s and labels %s do not match' % (folder, x.shape, y.shape))
    x = (x.astype(np.float32) / np.float32(256.0)).reshape(-1, x.shape[1], x.shape[2], 1)
    return x, y.astype(np.int64)


def _write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack('>HBB', 0, 0x08, array.ndim) + struct.pack('>' + 'I' * array.ndim, *array.shape)
    atomic_write(path, 'wb', lambda f: f.write(gzip.compress(header + array.tobytes(), compresslevel=1)))


class IdxKind(Kind):
    name = 'idx'

    def required_files(self, spec, splits):
        return [f for s in splits for f in IDX_FILES['test' if s == 'test' else 'train']]

    def load(self, name, spec, folder, splits):
        out = {}
        if 'test' in splits:
            out['test'] = _load_split(folder, 'test')
        if 'train' in splits or 'val' in splits:
            out['train'], out['val'] = split_val(*_load_split(folder, 'train'))
        return out

    def fetch(self, name, spec, target_dir):
        dest = os.path.join(target_dir, spec['subdirs'][0])
        if not os.path.isdir(dest):
            os.makedirs(dest)
        for f in IDX_FILES['train'] + IDX_FILES['test']:
            if not os.path.isfile(os.path.join(dest, f)):
                download(spec['url'] + f, os.path.join(dest, f))
        return dest

    def write_synthetic(self, spec, folder, rng, sizes):
        for split, n in zip(('train', 'test'), sizes):
            images, labels = generated_images(rng, n, spec['raw_shape'][:2], 10, 256)
            _write_idx(os.path.join(folder, IDX_FILES[split][0]), images)
            _write_idx(os.path.join(folder, IDX_FILES[split][1]), labels)


register_kind(IdxKind())
