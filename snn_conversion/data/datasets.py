"""Offline-first dataset loaders (pure numpy; no TensorFlow import).

Where the files of a dataset are looked for: the ``--data_dir`` flag
(``data_dir=`` argument) when it is given -- and then nowhere else, so a
mistyped folder is an error, never a silent switch to other data -- otherwise,
in order (the first folder that has them wins):

1. the environment variable ``$SNN_DATA_DIR``,
2. ``./data`` (relative to the current directory, i.e. the workspace),
3. the Debian dataset folder (``/usr/share/datasets/<name>``, e.g. from the
   package ``dataset-fashion-mnist``).

Inside each of these folders the files may sit directly or in the dataset's
sub-folder (``fashion_mnist/``, ``fashion-mnist/``, ``mnist/``,
``cifar-10-batches-py/``, ``cifar-100-python/``, ``n_mnist/``).  Nothing is downloaded unless
``download=True`` is passed (``--download`` on the command line).

Returned arrays follow TensorLayer 1.11.1's loaders: MNIST-like images are
float32 in [0, 1) (pixels / 256) shaped (N, 28, 28, 1) and the 60,000 training
images are split into 50,000 train + 10,000 validation; CIFAR images are raw
0-255 float32 NHWC (32x32).  N-MNIST frames (written by
``preprocessing_N_MNIST.py``, see :mod:`snn_conversion.data.nmnist`) are event
counts / 32, float32 (N, 34, 34, 1) -- or (N, 34, 34, 2) for the two-polarity
variant -- split like MNIST.

:func:`eval_inputs` turns a split's raw images into what the network sees at
test time (CIFAR: the central 24x24 crop, per-image standardized; otherwise
unchanged); the ANN's evaluation and the spiking simulator both use it, so
they see bit-identical inputs.  Training-time augmentation is TensorFlow's
(:mod:`snn_conversion.ann.inputs`).
"""

from __future__ import absolute_import, division, print_function

import gzip
import os
import pickle
import struct
import tarfile

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.errors import ArgumentParser
from snn_conversion.core.flags import add_data_dir_flag
from snn_conversion.data import imagenet
from snn_conversion.data.locate import DATASETS, IDX_FILES, DatasetError, find_dataset_dir

__all__ = ['DatasetError', 'load_dataset', 'load_test_inputs', 'eval_inputs', 'per_image_standardization',
           'find_dataset_dir', 'DATASETS', 'fetch', 'choose_network']

# data sets whose networks are chosen by flags of their own, and the data set itself (the classes of a converted
# ImageNet): {dataset: (add the flags to a parser, the architecture of a command line)}
NETWORK_FLAGS = {'imagenet': (architectures.add_mobilenet_flags, imagenet.mobilenet_from_flags)}


def choose_network(name, argv):
    """The architecture a script registered for ``name`` runs given its command line ``argv``, and a function
    adding the flags that chose it to the script's parser: a registered variant (:func:`snn_conversion.core.
    architectures.select_variant`), or, for a data set whose networks its flags parametrize (ImageNet's MobileNet:
    width, input size, classes), the one they choose.  One selection pre-pass over ``argv`` (the script's parser
    reads it once more, with the flags of the network chosen)."""
    pre = ArgumentParser(add_help=False)
    architectures.add_variant_flags(pre, name)
    add_flags, choose = NETWORK_FLAGS.get(architectures.get(name).dataset, (lambda parser: None, None))
    if choose is not None:
        add_flags(pre)
        add_data_dir_flag(pre)
    known, _ = pre.parse_known_args(argv)
    arch = architectures.select_variant(name, known)
    return (arch if choose is None else choose(known, argv)), add_flags


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


def _load_idx_split(d, split):
    img_f, lab_f = IDX_FILES[split]
    x = read_idx(os.path.join(d, img_f))
    y = read_idx(os.path.join(d, lab_f))
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DatasetError('%s: images %s and labels %s do not match' % (d, x.shape, y.shape))
    x = (x.astype(np.float32) / np.float32(256.0)).reshape(-1, x.shape[1], x.shape[2], 1)
    return x, y.astype(np.int64)


def _unpickle(path):
    try:
        with open(path, 'rb') as f:
            return pickle.load(f, encoding='latin1')
    except Exception as e:  # corrupt pickle: many exception types are possible
        raise DatasetError('%s is not a readable CIFAR python pickle (%s: %s)' % (path, type(e).__name__, e))


def _cifar_arrays(path, label_key):
    d = _unpickle(path)
    if not isinstance(d, dict) or 'data' not in d or label_key not in d:
        raise DatasetError('%s is not a CIFAR batch (no %r/%r entries)' % (path, 'data', label_key))
    data = np.asarray(d['data'], dtype=np.uint8)
    labels = np.asarray(d[label_key], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DatasetError('%s: data %s / labels %s are not CIFAR-shaped (N x 3072)' % (path, data.shape, labels.shape))
    x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32)
    return x, labels


def _load_frames(path, channels):
    """One N-MNIST frame file: uint16 event counts (N, 34, 34, C) and labels -> (counts / divisor, labels)."""
    try:
        from snn_conversion.core.fileio import read_npz
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


def _split_val(x, y):
    """TensorLayer's split of a training set: the last 10,000 images (1/6 of smaller sets) for validation."""
    n_val = 10000 if len(x) > 10000 else max(1, len(x) // 6)
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


def load_dataset(name, splits=('train', 'val', 'test'), data_dir=None, download=False):
    """Load ``name`` ('mnist', 'fashion_mnist', 'cifar10', 'cifar100').

    Returns a dict ``{split: (x, y)}`` for the requested splits.  For MNIST-like
    sets 'val' is the last 10,000 training images and 'train' the first 50,000
    (TensorLayer's split); CIFAR sets have no 'val' (it maps to the test set).
    """
    if name not in DATASETS:
        raise DatasetError('unknown dataset %r (known: %s)' % (name, ', '.join(sorted(DATASETS))))
    splits = tuple(splits)
    try:
        d = find_dataset_dir(name, splits, data_dir)
    except DatasetError:
        if not download:
            raise
        d = fetch(name, data_dir or os.path.join(os.getcwd(), 'data'))
    kind = DATASETS[name]['kind']
    if kind == 'tfrecord':
        raise DatasetError('%s is streamed from its TFRecords (snn_conversion.data.imagenet), not loaded whole' % name)
    out = {}
    if kind == 'idx':
        if 'test' in splits:
            out['test'] = _load_idx_split(d, 'test')
        if 'train' in splits or 'val' in splits:
            out['train'], out['val'] = _split_val(*_load_idx_split(d, 'train'))
    elif kind == 'frames':
        tr, te = DATASETS[name]['files']
        channels = DATASETS[name]['raw_shape'][2]
        if 'test' in splits:
            out['test'] = _load_frames(os.path.join(d, te), channels)
        if 'train' in splits or 'val' in splits:
            out['train'], out['val'] = _split_val(*_load_frames(os.path.join(d, tr), channels))
    elif kind == 'cifar10':
        if 'train' in splits:
            parts = [_cifar_arrays(os.path.join(d, 'data_batch_%d' % i), 'labels') for i in range(1, 6)]
            out['train'] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        if 'test' in splits or 'val' in splits:
            out['test'] = _cifar_arrays(os.path.join(d, 'test_batch'), 'labels')
            out['val'] = out['test']
    else:
        if 'train' in splits:
            out['train'] = _cifar_arrays(os.path.join(d, 'train'), 'fine_labels')
        if 'test' in splits or 'val' in splits:
            out['test'] = _cifar_arrays(os.path.join(d, 'test'), 'fine_labels')
            out['val'] = out['test']
    return {s: out[s] for s in splits}


def per_image_standardization(x):
    """``tf.image.per_image_standardization`` of each image of (N, H, W, C): (x - mean) / max(std, 1/sqrt(HWC))."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(len(x), -1)
    mean = flat.mean(axis=1)
    std = np.maximum(flat.std(axis=1), 1.0 / np.sqrt(flat.shape[1]))
    return ((flat - mean[:, None]) / std[:, None]).reshape(x.shape).astype(np.float32)


def eval_inputs(name, x):
    """The test-time network input of raw images ``x`` of dataset ``name``.

    CIFAR: the central crop (``tf.image.resize_image_with_crop_or_pad`` to 24x24), then
    per-image standardization, as the authors' evaluation; other datasets: ``x`` unchanged.
    """
    crop = DATASETS[name]['crop']
    x = np.asarray(x, dtype=np.float32)
    if crop is None:
        return x
    h, w = x.shape[1:3]
    top, left = (h - crop) // 2, (w - crop) // 2
    return per_image_standardization(x[:, top:top + crop, left:left + crop, :])


def load_test_inputs(name, data_dir=None, download=False, num_test=None, input_shape=None):
    """(network inputs, labels) of the test set of ``name``: every test image once, in file order.

    ImageNet (``input_shape`` gives the size): lazy views of the validation records (see
    :class:`snn_conversion.data.imagenet.EvalSplit`), sliced by batch."""
    if DATASETS[name]['kind'] == 'tfrecord':
        split = imagenet.eval_split(input_shape[0], data_dir=data_dir, num=num_test)
        return split.images, split.labels
    x, y = load_dataset(name, splits=('test',), data_dir=data_dir, download=download)['test']
    if num_test is not None:
        x, y = x[:num_test], y[:num_test]
    return eval_inputs(name, x), y


def fetch(name, target_dir):
    """Fetch dataset ``name`` into ``target_dir/<subdir>`` (only ever called when asked to)."""
    from six.moves.urllib.request import urlretrieve  # six ships with TensorFlow's requirements

    spec = DATASETS[name]
    if spec['url'] is None:
        raise DatasetError('%s cannot be downloaded as such: make it with preprocessing_N_MNIST.py from the original '
                           'N-MNIST event files (https://www.garrickorchard.com/datasets/n-mnist)' % name)
    dest = os.path.join(target_dir, spec['subdirs'][0])
    if not os.path.isdir(dest):
        os.makedirs(dest)
    try:
        if spec['kind'] == 'idx':
            for f in IDX_FILES['train'] + IDX_FILES['test']:
                path = os.path.join(dest, f)
                if not os.path.isfile(path):
                    print('downloading %s%s -> %s' % (spec['url'], f, path))
                    urlretrieve(spec['url'] + f, path + '.part')
                    os.replace(path + '.part', path)
            return dest
        archive = os.path.join(target_dir, os.path.basename(spec['url']))
        if not os.path.isfile(archive):
            print('downloading %s -> %s' % (spec['url'], archive))
            urlretrieve(spec['url'], archive + '.part')
            os.replace(archive + '.part', archive)
        with tarfile.open(archive) as tar:
            tar.extractall(target_dir)
        return dest
    except Exception as e:
        raise DatasetError('download of %s failed (%s); fetch %s by hand into %s' % (name, e, spec['url'], dest))


def main(argv=None):
    """``python -m tensorlayer_patches.datasets NAME [--data_dir D] [--download]``: locate (or fetch) a dataset."""
    import sys

    p = ArgumentParser(description=main.__doc__)
    p.add_argument('name', choices=sorted(DATASETS))
    add_data_dir_flag(p)
    p.add_argument('--download', action='store_true', help='download into --data_dir (default ./data) if missing')
    a = p.parse_args(argv)
    try:
        d = find_dataset_dir(a.name, ('train', 'test'), a.data_dir)
    except DatasetError as e:
        if not a.download:
            sys.stderr.write('error: %s\n' % e)
            return 1
        try:
            d = fetch(a.name, a.data_dir or os.path.join(os.getcwd(), 'data'))
        except DatasetError as e2:
            sys.stderr.write('error: %s\n' % e2)
            return 1
    print(d)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
