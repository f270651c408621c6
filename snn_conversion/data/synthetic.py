"""Generated data sets of the real size and file format, where the real data is absent.

What a training epoch costs depends on how many images it reads, of which shape, from which format -- not on what
the images show -- so ``reproduce.py --measure`` times a row on these when its data set is not on the machine, and
says so.  Each writer produces the files a real download (or ``preprocessing_N_MNIST.py``) would: MNIST-like idx.gz
files, the CIFAR-10 / CIFAR-100 python pickles, the N-MNIST frame files; the sizes are the real sets'
(:data:`SIZES`) unless asked for fewer.  The content is seeded noise with a faint class pattern.
"""

from __future__ import absolute_import, division, print_function

import os

import numpy as np

from snn_conversion.core.errors import UserError
from snn_conversion.data.kinds import get_kind
from snn_conversion.data.locate import DATASETS

__all__ = ['SIZES', 'PARTS', 'write_synthetic', 'generated_sizes']

# (training, test) images of the real sets
SIZES = {'mnist': (60000, 10000), 'fashion_mnist': (60000, 10000), 'cifar10': (50000, 10000),
         'cifar100': (50000, 10000), 'n_mnist': (60000, 10000), 'n_mnist_2p': (60000, 10000),
         'imagenet': (1281167, 50000)}
# the sets too large to generate whole: a part of them by default, (training, validation) in the real proportion
# (two steps of the MobileNet row's 5 x 200 images; a timing projects the whole epoch from it)
PARTS = {'imagenet': (2000, 78)}


def generated_sizes(dataset):
    """(training, test) images :func:`write_synthetic` writes by default: the real set's, or :data:`PARTS`."""
    return PARTS.get(dataset, SIZES[dataset])


def write_synthetic(dataset, base, sizes=None, seed=0):
    """Write generated data set ``dataset`` under ``base`` (in its first search subfolder, as a download would);
    returns that folder.  ``sizes``: (training, test) images, default :func:`generated_sizes`."""
    if sizes is None and dataset not in SIZES:
        raise UserError('no generated stand-in for %s (its epochs are timed on the real data only)' % dataset)
    spec = DATASETS[dataset]
    folder = os.path.join(base, spec['subdirs'][0])
    if not os.path.isdir(folder):
        os.makedirs(folder)
    rng = np.random.RandomState(seed)
    get_kind(spec).write_synthetic(spec, folder, rng, tuple(sizes or generated_sizes(dataset)))
    return folder
