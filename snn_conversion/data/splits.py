"""How a data set's validation and test splits stand to its training split.

``python -m snn_conversion.data.splits fashion_mnist`` prints, for the validation and the test images, the
Euclidean distance (pixels in [0, 1)) of each image to its nearest training image and the accuracy of that
nearest neighbour's label.  A validation split drawn from the training files that holds near-copies of training
images would show smaller distances and a higher 1-nearest-neighbour accuracy than the test split: a network
that memorises its training images would then score higher on validation than on test for that reason alone.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.core.errors import ArgumentParser, run_cli
from snn_conversion.core.flags import add_data_dir_flag
from snn_conversion.data.datasets import load_dataset

__all__ = ['nearest_neighbours', 'describe', 'main']


def nearest_neighbours(reference, queries, chunk=500):
    """(distance, index) of each query's nearest image in ``reference`` (Euclidean over all pixels; chosen by
    float32 products, the distance to it computed in float64; ties go to the lowest index)."""
    ref = reference.reshape(len(reference), -1).astype(np.float32)
    ref_sq = (ref.astype(np.float64) ** 2).sum(1)
    q = queries.reshape(len(queries), -1).astype(np.float32)
    dist, index = np.empty(len(q)), np.empty(len(q), np.int64)
    for i in range(0, len(q), chunk):
        block = q[i:i + chunk]
        d2 = (block.astype(np.float64) ** 2).sum(1)[:, None] + ref_sq[None, :] - 2.0 * (block @ ref.T)
        index[i:i + chunk] = d2.argmin(1)
        # the expansion above cancels badly near 0: the distance to the chosen image is taken directly
        diff = block.astype(np.float64) - ref[index[i:i + chunk]]
        dist[i:i + chunk] = np.sqrt((diff ** 2).sum(1))
    return dist, index


def describe(data, splits=('val', 'test'), near=(1.0, 2.0, 3.0)):
    """One line per split: median distance to the nearest training image, the share of images closer than
    each of ``near``, and the 1-nearest-neighbour accuracy."""
    x_train, y_train = data['train']
    lines = []
    for split in splits:
        x, y = data[split]
        dist, index = nearest_neighbours(x_train, x)
        shares = ', '.join('< %g: %.2f %%' % (c, 100.0 * np.mean(dist < c)) for c in near)
        lines.append('%-5s %5d images: nearest training image at median distance %.3f (%s); its label is right for '
                     '%.2f %%' % (split, len(x), float(np.median(dist)), shares,
                                  100.0 * np.mean(y_train[index] == y)))
    return lines


def main(argv=None):
    p = ArgumentParser(description='Distances of the validation and test images to their nearest training image, '
                                   'and the nearest neighbour\'s label accuracy.')
    p.add_argument('name', choices=('mnist', 'fashion_mnist', 'cifar10', 'cifar100'))
    add_data_dir_flag(p)
    a = p.parse_args(argv)
    data = load_dataset(a.name, data_dir=a.data_dir)
    print('%s: training split %d images' % (a.name, len(data['train'][0])))
    for line in describe(data):
        print(line)
    return 0


if __name__ == '__main__':
    raise SystemExit(run_cli(main))
