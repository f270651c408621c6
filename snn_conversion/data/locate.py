"""Where the files of a data set are: the data sets (each of a kind, :mod:`snn_conversion.data.kinds`) and the
search for their folders.

The ``--data_dir`` flag (``data_dir=`` argument) when it is given -- and then nowhere else, so a mistyped
folder is an error, never a silent switch to other data -- otherwise, in order (the first folder that has them
wins): ``$SNN_DATA_DIR``, ``./data`` (relative to the current directory, i.e. the workspace), the Debian dataset
folder (``/usr/share/datasets/<name>``, e.g. from the package ``dataset-fashion-mnist``).  Inside each of these
folders the files may sit directly or in the data set's sub-folder (``fashion_mnist/``, ``fashion-mnist/``,
``mnist/``, ``cifar-10-batches-py/``, ``cifar-100-python/``, ``n_mnist/``).  A data set that is not found gives
one line naming every place looked and how to get it.
"""

from __future__ import absolute_import, division, print_function

import os

from snn_conversion.data.kinds import get_kind
from snn_conversion.data.kinds.base import DatasetError
from snn_conversion.data.kinds.idx import IDX_FILES

__all__ = ['DatasetError', 'DATASETS', 'DEBIAN_ROOT', 'candidate_dirs', 'find_dataset_dir', 'required_files',
           'IDX_FILES', 'register_dataset']


DEBIAN_ROOT = '/usr/share/datasets'


# raw_shape: (H, W, C) of the loaded images; crop: the side of the central crop / random crop the networks see;
# test_split: what the test set is called (default 'test'); eval_batch: images per evaluation batch (default 1000).
DATASETS = {
    'mnist': dict(kind='idx', subdirs=('mnist', 'MNIST'), debian='mnist', raw_shape=(28, 28, 1), crop=None,
                  url='https://storage.googleapis.com/cvdf-datasets/mnist/'),
    'fashion_mnist': dict(kind='idx', subdirs=('fashion_mnist', 'fashion-mnist', 'FashionMNIST'),
                          debian='fashion-mnist', raw_shape=(28, 28, 1), crop=None,
                          url='http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'),
    'cifar10': dict(kind='cifar10', subdirs=('cifar-10-batches-py', 'cifar10'), debian='cifar-10',
                    raw_shape=(32, 32, 3), crop=24, url='https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'),
    'cifar100': dict(kind='cifar100', subdirs=('cifar-100-python', 'cifar100'), debian='cifar-100',
                     raw_shape=(32, 32, 3), crop=24,
                     url='https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'),
    # N-MNIST frames: made from the original event files by preprocessing_N_MNIST.py (never downloaded as such).
    'n_mnist': dict(kind='frames', subdirs=('n_mnist', 'N_MNIST'), debian='n-mnist', raw_shape=(34, 34, 1),
                    crop=None, files=('train.npz', 'test.npz'), url=None),
    'n_mnist_2p': dict(kind='frames', subdirs=('n_mnist', 'N_MNIST'), debian='n-mnist', raw_shape=(34, 34, 2),
                       crop=None, files=('train_2p.npz', 'test_2p.npz'), url=None),
    # ImageNet: TFRecord shards written by tfrecord_imagenet.py (snn_conversion.data.imagenet), streamed, never
    # loaded whole; the input size is the network's.
    'imagenet': dict(kind='tfrecord', subdirs=('imagenet', 'ImageNet', 'imagenet_tfrecord'), debian='imagenet',
                     raw_shape=None, crop=None, files=('meta.json',), url=None, test_split='validation',
                     eval_batch=100),
}


def required_files(name, splits):
    """The files a folder must hold for data set ``name``'s ``splits`` (its kind's answer)."""
    return get_kind(DATASETS[name]).required_files(DATASETS[name], splits)


def register_dataset(name, **spec):
    """Add a data set of a registered kind (``spec``: kind, subdirs, debian, raw_shape, crop, url, ...); returns
    its entry.  A new file format is a kind of its own (:mod:`snn_conversion.data.kinds`)."""
    spec.setdefault('crop', None)
    spec.setdefault('url', None)
    spec.setdefault('debian', name)
    get_kind(spec)  # a known kind
    DATASETS[name] = spec
    return spec


def candidate_dirs(name, data_dir=None):
    """Folders searched for dataset ``name``, in order (see the module docstring)."""
    spec = DATASETS[name]
    bases = []
    if data_dir:
        bases.append(data_dir)
    else:
        if os.environ.get('SNN_DATA_DIR'):
            bases.append(os.environ['SNN_DATA_DIR'])
        bases.append(os.path.join(os.getcwd(), 'data'))
    out = []
    for base in bases:
        out.append(base)
        out.extend(os.path.join(base, sub) for sub in spec['subdirs'])
    if not data_dir:
        out.append(os.path.join(DEBIAN_ROOT, spec['debian']))
    seen, uniq = set(), []
    for d in out:
        key = os.path.abspath(d)
        if key not in seen:
            seen.add(key)
            uniq.append(d)
    return uniq


def find_dataset_dir(name, splits=('train', 'test'), data_dir=None):
    """The first candidate folder holding every file the splits need, else a one-line DatasetError."""
    if name not in DATASETS:
        raise DatasetError('unknown dataset %r (known: %s)' % (name, ', '.join(sorted(DATASETS))))
    need = required_files(name, splits)
    if data_dir and not os.path.isdir(data_dir):
        raise DatasetError('--data_dir %s does not exist (it should hold the %s files %s)'
                           % (data_dir, name, ', '.join(need)))
    looked = candidate_dirs(name, data_dir)
    for d in looked:
        if all(os.path.isfile(os.path.join(d, f)) for f in need):
            return d
    hint = ''
    if name == 'fashion_mnist':
        hint = ' (Debian: apt-get install dataset-fashion-mnist)'
    raise DatasetError('%s files %s not found; looked in: %s. Put them in one of these folders, pass --data_dir, '
                       '%s%s' % (name, ', '.join(need), ', '.join(looked),
                                 get_kind(DATASETS[name]).how_to_get(name, DATASETS[name]), hint))
