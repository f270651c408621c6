"""N-MNIST frames: ``train.npz`` / ``test.npz`` of uint16 event counts (N, 34, 34, C) and labels, written by
``preprocessing_N_MNIST.py`` from the original event files (never downloaded as such), read as counts / divisor,
split like MNIST."""

from __future__ import absolute_import, division, print_function

import os

import numpy as np

from snn_conversion.core.fileio import atomic_savez_compressed, read_npz
from snn_conversion.data.kinds.base import DatasetError, Kind, generated_images, register_kind, split_val

__all__ = ['FramesKind', 'load_frames', 'DIVISOR']

DIVISOR = 32  # a frame holds event counts / DIVISOR (preprocessing_N_MNIST.py writes it into each file)


def load_frames(path, channels):
    """One N-MNIST frame file: uint16 event counts (N, 34, 34, C) and labels -> (counts / divisor, labels)."""
    try:
        z = read_npz(path)
        counts, labels, divisor = z['counts'], z['labels'], z['divisor']
    except Exception as e:  # not a zip / missing keys / truncated
        raise DatasetError('%s is not an N-MNIST frame file written by preprocessing_N_MNIST.py (%s: %s)'
                           % (path, type(e).__name__, e))
    if counts.ndim != 4 or counts.shape[1:] != (34, 34, channels) or labels.shape != (len(counts),):
        raise DatasetError('%s holds frames %s / labels %s; expected (N, 34, 34, %d) and (N,)'
                           % (path, counts.shape, labels.shape, channels))
    x = (counts.astype(np.float32) / np.float32(divisor)).astype(np.float32)
    return x, labels.astype(np.int64)


class FramesKind(Kind):
    name = 'frames'

    def required_files(self, spec, splits):
        tr, te = spec['files']
        return ([tr] if any(s != 'test' for s in splits) else []) + ([te] if 'test' in splits else [])

    def load(self, name, spec, folder, splits):
        tr, te = spec['files']
        channels = spec['raw_shape'][2]
        out = {}
        if 'test' in splits:
            out['test'] = load_frames(os.path.join(folder, te), channels)
        if 'train' in splits or 'val' in splits:
            out['train'], out['val'] = split_val(*load_frames(os.path.join(folder, tr), channels))
        return out

    def how_to_get(self, name, spec):
        return ('or make them from the original N-MNIST event files with: python preprocessing_N_MNIST.py '
                '--data_dir <folder with Train/ and Test/> --out_dir data/n_mnist%s'
                % (' --polarity both' if spec['raw_shape'][2] == 2 else ''))

    def made_by(self, name, spec):
        return ('make it with N_MNIST/preprocessing_N_MNIST.py from the original N-MNIST event files '
                '(https://www.garrickorchard.com/datasets/n-mnist; N_MNIST/README.md)')

    def write_synthetic(self, spec, folder, rng, sizes):
        for fname, n in zip(spec['files'], sizes):
            counts, labels = generated_images(rng, n, spec['raw_shape'], 10, 40)
            atomic_savez_compressed(os.path.join(folder, fname), counts=counts.astype(np.uint16),
                                    labels=labels.astype(np.int64), divisor=np.int64(DIVISOR),
                                    files=np.array(['generated/%05d.bin' % i for i in range(n)]))


register_kind(FramesKind())
