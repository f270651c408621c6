"""The training input pipelines (``tf.data``): the authors' augmentation, deterministic given the seed.

One interface for every data set: an input builds its batch tensors ``x`` / ``y`` in the current graph, knows its
``steps`` per epoch, and :meth:`start` feeds one epoch (seeded order, seeded augmentation); the training loop
(:meth:`snn_conversion.ann.trainer.Trainer.run_epoch`) runs the training op ``steps`` times.

* :class:`TrainInput` -- a training set held as numpy arrays (MNIST-like sets, CIFAR);
* :class:`ImageNetTrainInput` -- streamed TFRecords (ImageNet; one worker's share of a cluster).

The authors fed CIFAR through TensorFlow queue runners (random 24x24 crop,
random left-right flip, random brightness with max delta 63, random contrast in
[0.2, 1.8], per-image standardization; SPEC section 2).  Here the same steps run in a
``tf.data`` map whose random numbers are *stateless*, drawn from
``(seed, epoch, position in the epoch, op)``: the batches are the same whatever
the number of parallel map calls, and two runs with the same ``--seed`` see the
same images in the same order.  The epoch's order is a seeded permutation made
by numpy (as for the MNIST-like sets, which have no augmentation).

Evaluation does not go through here: :func:`tensorlayer_patches.datasets.eval_inputs`
(central crop + standardization) feeds both the ANN and the spiking simulator.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

import tensorlayer_patches
from snn_conversion.core.errors import UserError
from snn_conversion.data.locate import DATASETS

__all__ = ['TrainInput', 'ImageNetTrainInput', 'epoch_order', 'epoch_seed', 'augment']

BRIGHTNESS_MAX_DELTA = 63.0
CONTRAST_RANGE = (0.2, 1.8)


def epoch_seed(seed, epoch):
    """The integer that, with the position in the epoch, seeds every random op of that epoch."""
    return (int(seed) * 100003 + int(epoch)) % (2 ** 31)


def epoch_order(seed, epoch, n):
    """The epoch's order of the ``n`` training examples (a seeded permutation)."""
    return np.random.RandomState(epoch_seed(seed, epoch)).permutation(n)


def plain_map(tf, fn):
    """``fn`` for ``Dataset.map`` as written: not rewritten by autograph (the map functions here are straight-line
    TensorFlow code, their one branch an explicit ``tf.cond``; converting them cost ~1 s of each training's start)."""
    return tf.autograph.experimental.do_not_convert(fn)


def augment(tf, image, seed_pair, crop):
    """Random crop to ``crop``x``crop``, flip, brightness, contrast, standardization (stateless, per example;
    the image's size may be dynamic, e.g. ImageNet after resizing)."""

    def uniform(op, **kw):
        return tf.random.stateless_uniform([], seed=seed_pair + tf.constant([0, op], tf.int64), **kw)

    shape = tf.shape(image)
    top = uniform(1, minval=0, maxval=shape[0] - crop + 1, dtype=tf.int32)
    left = uniform(2, minval=0, maxval=shape[1] - crop + 1, dtype=tf.int32)
    image = tf.image.crop_to_bounding_box(image, top, left, crop, crop)
    image = tf.cond(uniform(3) < 0.5, lambda: tf.reverse(image, [1]), lambda: image)
    image = image + uniform(4, minval=-BRIGHTNESS_MAX_DELTA, maxval=BRIGHTNESS_MAX_DELTA)
    image = tf.image.adjust_contrast(image, uniform(5, minval=CONTRAST_RANGE[0], maxval=CONTRAST_RANGE[1]))
    return tf.image.per_image_standardization(image)


class TrainInput(object):
    """Batches of one training epoch of ``dataset``'s training set ``data`` = (images, labels) (built in the
    current graph).

    ``x`` / ``y``: the batch tensors the training network is built on.  Start an epoch with :meth:`start`, then
    run the training op ``steps`` times.  Every example is seen once per epoch; the last batch may be smaller.
    ``drop_last``: instead, ``floor(n / batch_size)`` full batches of the same epoch order, the last partial batch
    left out, as TensorLayer's ``tl.iterate.minibatches`` does in the authors' loop (the first
    ``steps * batch_size`` examples of the order are trained on).
    """

    unit = 'batch'  # what the progress bar counts

    def __init__(self, dataset, batch_size, data, parallel_calls=2, drop_last=False):
        tf = tensorlayer_patches.quiet_tensorflow()
        self.data = data
        n = len(data[1])
        self.steps = n // batch_size if drop_last else -(-n // batch_size)
        self.used = self.steps * batch_size if drop_last else n  # the examples of an epoch's order trained on
        if drop_last and self.steps < 1:
            raise UserError('%d training images are fewer than one batch of %d: with --drop_last True an epoch '
                            'would train on none of them' % (n, batch_size))
        spec = DATASETS[dataset]
        self.crop = spec['crop']
        self.images = tf.placeholder(tf.float32, (None,) + tuple(spec['raw_shape']), name='epoch_images')
        self.labels = tf.placeholder(tf.int64, (None,), name='epoch_labels')
        self.seed = tf.placeholder(tf.int64, (), name='epoch_seed')
        positions = tf.range(tf.shape(self.labels, out_type=tf.int64)[0], dtype=tf.int64)
        ds = tf.data.Dataset.from_tensor_slices((self.images, self.labels, positions))
        if self.crop is None:
            ds = ds.map(plain_map(tf, lambda img, lab, pos: (img, lab)))
        else:
            seed = self.seed
            ds = ds.map(plain_map(tf, lambda img, lab, pos: (augment(tf, img, tf.stack([seed, pos * 8]), self.crop),
                                                             lab)), num_parallel_calls=parallel_calls)
        ds = ds.batch(batch_size).prefetch(2)
        self.iterator = tf.compat.v1.data.make_initializable_iterator(ds)
        self.x, self.y = self.iterator.get_next()
        shape = (None,) + ((self.crop, self.crop, spec['raw_shape'][2]) if self.crop else tuple(spec['raw_shape']))
        self.x.set_shape(shape)
        self.y.set_shape((None,))

    def start(self, sess, seed, epoch):
        """Feed epoch ``epoch`` of the training set: seeded order, seeded augmentation."""
        x, y = self.data
        order = epoch_order(seed, epoch, len(x))[:self.used]  # drop_last: the last partial batch left out
        sess.run(self.iterator.initializer, {self.images: x[order], self.labels: y[order],
                                             self.seed: epoch_seed(seed, epoch)})


class ImageNetTrainInput(object):
    """One epoch of training batches for one worker (see :func:`snn_conversion.data.imagenet`), re-started
    each epoch with that epoch's seeded shard order, shuffle and augmentation."""

    unit = 'step'

    def __init__(self, folder, image_size, batch_size, num_workers=1, worker_index=0, limit=None):
        """``limit``: an epoch of that many of the (shuffled) training images only (``--num_train``)."""
        from snn_conversion.data.imagenet import decode_example, resize_shorter, resize_side, shard_files

        tf = tensorlayer_patches.quiet_tensorflow()
        self.files, meta = shard_files(folder, 'train')
        count = meta['splits']['train']['count']
        if limit is not None:
            count = min(count, int(limit))
        self.steps = count // (batch_size * num_workers)
        if self.steps < 1:
            raise UserError('%d training images are fewer than one batch of %d for each of %d worker(s)'
                            % (count, batch_size, num_workers))
        self.files_ph = tf.placeholder(tf.string, (None,), name='epoch_files')
        self.seed_ph = tf.placeholder(tf.int64, (), name='epoch_seed')
        n = self.steps * batch_size
        ds = tf.data.TFRecordDataset(self.files_ph)
        ds = ds.shuffle(min(count, 10000), seed=self.seed_ph, reshuffle_each_iteration=False)
        ds = ds.shard(num_workers, worker_index).take(n)
        seed = self.seed_ph

        def prepare(record, pos):
            image, label = decode_example(tf, record)
            image = resize_shorter(tf, image, resize_side(image_size))
            pair = tf.stack([seed, (pos * num_workers + worker_index) * 8])
            return augment(tf, image, pair, image_size), label

        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.range(n))).map(plain_map(tf, prepare), num_parallel_calls=4)
        ds = ds.batch(batch_size, drop_remainder=True).prefetch(2)
        self.iterator = tf.compat.v1.data.make_initializable_iterator(ds)
        self.x, self.y = self.iterator.get_next()
        self.x.set_shape((batch_size, image_size, image_size, 3))
        self.y.set_shape((batch_size,))

    def start(self, sess, seed, epoch):
        s = epoch_seed(seed, epoch)
        order = np.random.RandomState(s).permutation(len(self.files))
        sess.run(self.iterator.initializer, {self.files_ph: [self.files[i] for i in order], self.seed_ph: s})
