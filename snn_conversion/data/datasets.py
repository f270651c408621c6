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

import os

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.errors import ArgumentParser
from snn_conversion.core.flags import add_data_dir_flag
from snn_conversion.data import imagenet_folder
from snn_conversion.data.kinds import get_kind
from snn_conversion.data.kinds.idx import read_idx  # noqa: F401  (the idx reader, as before)
from snn_conversion.data.locate import DATASETS, DatasetError, find_dataset_dir

__all__ = ['DatasetError', 'load_dataset', 'load_test_inputs', 'eval_inputs', 'per_image_standardization',
           'find_dataset_dir', 'DATASETS', 'fetch', 'choose_network']

# data sets whose networks are chosen by flags of their own, and the data set itself (the classes of a converted
# ImageNet): {dataset: (add the flags to a parser, the architecture of a command line)}
NETWORK_FLAGS = {'imagenet': (architectures.add_mobilenet_flags, imagenet_folder.mobilenet_from_flags)}


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
    out = get_kind(DATASETS[name]).load(name, DATASETS[name], d, splits)
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
    kind = get_kind(DATASETS[name])
    if kind.streamed:
        return kind.test_inputs(find_dataset_dir(name, ('test',), data_dir), num_test, input_shape)
    x, y = load_dataset(name, splits=('test',), data_dir=data_dir, download=download)['test']
    if num_test is not None:
        x, y = x[:num_test], y[:num_test]
    return eval_inputs(name, x), y


def fetch(name, target_dir):
    """Fetch dataset ``name`` into ``target_dir/<subdir>`` (only ever called when asked to)."""
    spec = DATASETS[name]
    kind = get_kind(spec)
    if spec['url'] is None:
        raise DatasetError('%s cannot be downloaded as such: %s' % (name, kind.made_by(name, spec)))
    dest = os.path.join(target_dir, spec['subdirs'][0])
    if not os.path.isdir(target_dir):
        os.makedirs(target_dir)
    try:
        return kind.fetch(name, spec, target_dir)
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
