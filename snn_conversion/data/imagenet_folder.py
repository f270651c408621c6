"""Where the converted ImageNet is (searched as every data set) and which MobileNet its classes make: the search
side of :mod:`snn_conversion.data.imagenet` (which reads and writes the TFRecords and searches nothing)."""

from __future__ import absolute_import, division, print_function

from snn_conversion.core import architectures
from snn_conversion.core.errors import UserError
from snn_conversion.data.imagenet import EvalSplit, num_classes
from snn_conversion.data.locate import DatasetError, find_dataset_dir

__all__ = ['find_imagenet', 'eval_split', 'mobilenet_from_flags', 'mobilenet_arch']


def find_imagenet(data_dir=None):
    """The folder of the converted ImageNet (holding meta.json), searched as every dataset."""
    return find_dataset_dir('imagenet', ('test',), data_dir)


def eval_split(image_size, data_dir=None, num=None, split='validation'):
    """:class:`EvalSplit` of the converted ImageNet found as every dataset (``--data_dir`` first)."""
    return EvalSplit(find_imagenet(data_dir), split, image_size, num)


def mobilenet_from_flags(known, argv):
    """The MobileNet variant that the pre-parsed ``--width_multiplier/--image_size/--num_classes`` choose (the
    classes: the converted data set's when not given, found through ``--data_dir``; none looked up for
    ``--help`` in ``argv``)."""
    folder = None
    if known.num_classes is None and '-h' not in argv and '--help' not in argv:
        try:
            folder = find_imagenet(known.data_dir)
        except DatasetError:
            folder = None  # loading the data reports it
    return mobilenet_arch(known, folder)


def mobilenet_arch(a, folder=None):
    """The registered MobileNet of the parsed MobileNet flags (:func:`snn_conversion.core.architectures.add_mobilenet_flags`);
    the classes from the data set's meta.json when ``--num_classes`` is not given."""
    n = a.num_classes
    if n is None:
        n = num_classes(folder) if folder else architectures.MOBILENET_DEFAULTS['n_classes']
    try:
        return architectures.mobilenet(a.width_multiplier, a.image_size, n)
    except ValueError as e:
        raise UserError(str(e))
