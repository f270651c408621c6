"""Flag groups shared by several command lines, defined once."""

from __future__ import absolute_import, division, print_function

from tensorlayer_patches import architectures

from snn_conversion.core.errors import UserError

__all__ = ['add_mobilenet_flags', 'check_at_least']


def add_mobilenet_flags(p):
    """The flags choosing the MobileNet variant (shared by the ANN and SNN scripts)."""
    d = architectures.MOBILENET_DEFAULTS
    p.add_argument('--width_multiplier', type=float, default=d['width'],
                   help='channels x this (TF-slim rule, at least 8; default %(default)s)')
    p.add_argument('--image_size', type=int, default=d['image_size'], help='input size in px (default %(default)s)')
    p.add_argument('--num_classes', type=int, default=None,
                   help='classes (default: those of the converted data set, synsets.txt; else 1000)')


def check_at_least(minimum, *flags):
    """Refuse, in one line, the first of ``flags`` ((name, value) pairs; None: not given) below ``minimum``."""
    for flag, value in flags:
        if value is not None and value < minimum:
            raise UserError('%s must be >= %d, got %d' % (flag, minimum, value))
