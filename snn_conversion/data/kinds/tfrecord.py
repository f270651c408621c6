"""ImageNet: TFRecord shards, ``meta.json`` and ``synsets.txt`` written by ``tfrecord_imagenet.py``
(:mod:`snn_conversion.data.imagenet`), streamed by the network's input pipeline, never loaded whole; the test set
is the validation split, read by index (:class:`~snn_conversion.data.imagenet.EvalSplit`)."""

from __future__ import absolute_import, division, print_function

import os

import numpy as np

from snn_conversion.data.kinds.base import DatasetError, Kind, register_kind

__all__ = ['TFRecordKind', 'PHOTO_SIZE']

PHOTO_SIZE = (500, 375)  # a typical ImageNet photograph's width and height (generated stand-ins)


class TFRecordKind(Kind):
    name = 'tfrecord'
    streamed = True

    def required_files(self, spec, splits):
        return list(spec['files'])

    def load(self, name, spec, folder, splits):
        raise DatasetError('%s is streamed from its TFRecords (snn_conversion.data.imagenet), not loaded whole' % name)

    def how_to_get(self, name, spec):
        return ('or convert the ImageNet images (train/<wnid>/*.JPEG, val/...) with: python tfrecord_imagenet.py '
                '--data_dir <ImageNet folder> --out_dir data/imagenet')

    def made_by(self, name, spec):
        return 'ImageNet_MobileNet/tfrecord_imagenet.py makes them from the ImageNet images (ImageNet_MobileNet/README.md)'

    def test_inputs(self, folder, num_test, input_shape):
        from snn_conversion.data.imagenet import EvalSplit

        split = EvalSplit(folder, 'validation', input_shape[0], num_test)
        return split.images, split.labels

    def write_synthetic(self, spec, folder, rng, sizes):
        """JPEG photographs of ImageNet's typical size in its folder layout (1,000 classes: the network's
        classifier), converted by the workspace's own tool into ``folder``."""
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
                Image.fromarray(small).resize(PHOTO_SIZE, Image.BILINEAR).save(path, format='JPEG', quality=90)
        for wnid in wnids:  # every class has its training folder, as in the real set
            if not os.path.isdir(os.path.join(images, 'train', wnid)):
                os.makedirs(os.path.join(images, 'train', wnid))
        convert(images, folder, train_shards=max(1, sizes[0] // 1250), val_shards=1, workers=1, progress=False)


register_kind(TFRecordKind())
