"""The CIFAR python pickles (``cifar-10-batches-py``: five training batches and a test batch; ``cifar-100-python``:
``train`` and ``test`` with fine labels), raw 0-255 float32 NHWC; the test set serves as validation."""

from __future__ import absolute_import, division, print_function

import os
import pickle
import tarfile

import numpy as np

from snn_conversion.core.fileio import atomic_write
from snn_conversion.data.kinds.base import DatasetError, Kind, download, generated_images, register_kind

__all__ = ['CifarKind']


def _unpickle(path):
    try:
        with open(path, 'rb') as f:
            return pickle.load(f, encoding='latin1')
    except Exception as e:  # corrupt pickle: many exception types are possible
        raise DatasetError('%s is not a readable CIFAR python pickle (%s: %s)' % (path, type(e).__name__, e))


def _arrays(path, label_key):
    d = _unpickle(path)
    if not isinstance(d, dict) or 'data' not in d or label_key not in d:
        raise DatasetError('%s is not a CIFAR batch (no %r/%r entries)' % (path, 'data', label_key))
    data = np.asarray(d['data'], dtype=np.uint8)
    labels = np.asarray(d[label_key], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DatasetError('%s: data %s / labels %s are not CIFAR-shaped (N x 3072)' % (path, data.shape, labels.shape))
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32), labels


class CifarKind(Kind):
    """``classes`` 10: the five training batches; 100: one training file, fine labels."""

    def __init__(self, name, classes):
        self.name, self.classes = name, classes
        self.label_key = 'labels' if classes == 10 else 'fine_labels'

    def _files(self):
        """(training file names, test file name)."""
        if self.classes == 10:
            return ['data_batch_%d' % i for i in range(1, 6)], 'test_batch'
        return ['train'], 'test'

    def required_files(self, spec, splits):
        train, test = self._files()
        return (train if any(s != 'test' for s in splits) else []) + ([test] if 'test' in splits else [])

    def load(self, name, spec, folder, splits):
        train, test = self._files()
        out = {}
        if 'train' in splits:
            parts = [_arrays(os.path.join(folder, f), self.label_key) for f in train]
            out['train'] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        if 'test' in splits or 'val' in splits:
            out['test'] = _arrays(os.path.join(folder, test), self.label_key)
            out['val'] = out['test']
        return out

    def fetch(self, name, spec, target_dir):
        archive = os.path.join(target_dir, os.path.basename(spec['url']))
        if not os.path.isfile(archive):
            download(spec['url'], archive)
        with tarfile.open(archive) as tar:
            tar.extractall(target_dir)
        return os.path.join(target_dir, spec['subdirs'][0])

    def write_synthetic(self, spec, folder, rng, sizes):
        train, test = self._files()
        n_train, n_test = sizes
        counts = [n_train // len(train)] * (len(train) - 1) + [n_train - (len(train) - 1) * (n_train // len(train))]
        for fname, n in zip(train + [test], counts + [n_test]):
            images, labels = generated_images(rng, n, (3072,), self.classes, 256)
            batch = {'data': images.astype(np.uint8), self.label_key: labels.tolist(), 'batch_label': 'generated'}
            atomic_write(os.path.join(folder, fname), 'wb', lambda f, b=batch: pickle.dump(b, f, protocol=2))


register_kind(CifarKind('cifar10', 10))
register_kind(CifarKind('cifar100', 100))
