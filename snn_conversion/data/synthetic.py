"""Generated data sets of the real size and file format, where the real data is absent.

What a training epoch costs depends on how many images it reads, of which shape, from which format -- not on what
the images show -- so ``reproduce.py --measure`` times a row on these when its data set is not on the machine, and
says so.  Each writer produces the files a real download (or ``preprocessing_N_MNIST.py``) would: MNIST-like idx.gz
files, the CIFAR-10 / CIFAR-100 python pickles, the N-MNIST frame files; the sizes are the real sets'
(:data:`SIZES`) unless asked for fewer.  The content is seeded noise with a faint class pattern.
"""

from __future__ import absolute_import, division, print_function

import gzip
import os
import pickle
import struct

import numpy as np

from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import atomic_savez_compressed, atomic_write
from snn_conversion.data.locate import DATASETS, IDX_FILES
from snn_conversion.data.nmnist import DIVISOR

__all__ = ['SIZES', 'PARTS', 'write_synthetic', 'generated_sizes']

# (training, test) images of the real sets
SIZES = {'mnist': (60000, 10000), 'fashion_mnist': (60000, 10000), 'cifar10': (50000, 10000),
         'cifar100': (50000, 10000), 'n_mnist': (60000, 10000), 'n_mnist_2p': (60000, 10000),
         'imagenet': (1281167, 50000)}
# the sets too large to generate whole: a part of them by default, (training, validation) in the real proportion
# (two steps of the MobileNet row's 5 x 200 images; a timing projects the whole epoch from it)
PARTS = {'imagenet': (2000, 78)}
IMAGENET_SIZE = (500, 375)  # a typical ImageNet photograph's width and height
_CLASSES = {'cifar100': 100}


def _images(rng, n, shape, classes, high):
    """``n`` uint8/uint16-range images of ``shape`` with labels: noise plus a faint pattern per class."""
    labels = rng.randint(0, classes, n)
    patterns = rng.randint(0, high, (classes,) + tuple(shape))
    images = (patterns[labels] // 4 + rng.randint(0, high, (n,) + tuple(shape)) * 3 // 4)
    return images, labels


def _idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack('>HBB', 0, 0x08, array.ndim) + struct.pack('>' + 'I' * array.ndim, *array.shape)
    atomic_write(path, 'wb', lambda f: f.write(gzip.compress(header + array.tobytes(), compresslevel=1)))


def _write_idx(folder, rng, sizes):
    for split, n in zip(('train', 'test'), sizes):
        images, labels = _images(rng, n, (28, 28), 10, 256)
        _idx(os.path.join(folder, IDX_FILES[split][0]), images)
        _idx(os.path.join(folder, IDX_FILES[split][1]), labels)


def _write_cifar(folder, rng, sizes, classes):
    key = 'labels' if classes == 10 else 'fine_labels'
    n_train, n_test = sizes
    if classes == 10:
        names = ['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']
        counts = [n_train // 5] * 4 + [n_train - 4 * (n_train // 5), n_test]
    else:
        names, counts = ['train', 'test'], [n_train, n_test]
    for name, n in zip(names, counts):
        images, labels = _images(rng, n, (3072,), classes, 256)
        batch = {'data': images.astype(np.uint8), key: labels.tolist(), 'batch_label': 'generated'}
        atomic_write(os.path.join(folder, name), 'wb', lambda f, b=batch: pickle.dump(b, f, protocol=2))


def _write_frames(folder, rng, sizes, channels, files):
    for fname, n in zip(files, sizes):
        counts, labels = _images(rng, n, (34, 34, channels), 10, 40)
        atomic_savez_compressed(os.path.join(folder, fname), counts=counts.astype(np.uint16),
                                labels=labels.astype(np.int64), divisor=np.int64(DIVISOR),
                                files=np.array(['generated/%05d.bin' % i for i in range(n)]))


def _write_imagenet(folder, rng, sizes):
    """JPEG photographs of ImageNet's typical size in its folder layout (1,000 classes: the network's classifier),
    converted by the workspace's own tool into ``folder``."""
    from PIL import Image

    from snn_conversion.data.imagenet import convert

    images = folder + '.jpeg'
    wnids = ['n%08d' % i for i in range(1000)]
    for split, n in zip(('train', 'val'), sizes):
        for i in range(n):
            wnid = wnids[i % len(wnids)]
            path = os.path.join(images, split, wnid, '%s_%d.JPEG' % (wnid, i))
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path))
            small = rng.randint(0, 256, (24, 32, 3)).astype(np.uint8)  # smooth content: photograph-sized files
            Image.fromarray(small).resize(IMAGENET_SIZE, Image.BILINEAR).save(path, format='JPEG', quality=90)
    for wnid in wnids:  # every class has its training folder, as in the real set
        if not os.path.isdir(os.path.join(images, 'train', wnid)):
            os.makedirs(os.path.join(images, 'train', wnid))
    convert(images, folder, train_shards=max(1, sizes[0] // 1250), val_shards=1, workers=1, progress=False)


def generated_sizes(dataset):
    """(training, test) images :func:`write_synthetic` writes by default: the real set's, or :data:`PARTS`."""
    return PARTS.get(dataset, SIZES[dataset])


def write_synthetic(dataset, base, sizes=None, seed=0):
    """Write generated data set ``dataset`` under ``base`` (in its first search subfolder, as a download would);
    returns that folder.  ``sizes``: (training, test) images, default :func:`generated_sizes`."""
    if dataset not in SIZES:
        raise UserError('no generated stand-in for %s (its epochs are timed on the real data only)' % dataset)
    spec = DATASETS[dataset]
    folder = os.path.join(base, spec['subdirs'][0])
    if not os.path.isdir(folder):
        os.makedirs(folder)
    rng = np.random.RandomState(seed)
    sizes = tuple(sizes or generated_sizes(dataset))
    if spec['kind'] == 'tfrecord':
        _write_imagenet(folder, rng, sizes)
    elif spec['kind'] == 'idx':
        _write_idx(folder, rng, sizes)
    elif spec['kind'] in ('cifar10', 'cifar100'):
        _write_cifar(folder, rng, sizes, _CLASSES.get(dataset, 10))
    else:
        _write_frames(folder, rng, sizes, spec['raw_shape'][-1], spec['files'])
    return folder
