"""Flag groups shared by several command lines, defined once."""

from __future__ import absolute_import, division, print_function

from snn_conversion.core import architectures

from snn_conversion.core.errors import UserError, add_resume_flag

__all__ = ['add_mobilenet_flags', 'add_training_flags', 'add_seed_and_debug_flags', 'check_at_least',
           'check_positive']


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


def check_positive(flag, value):
    """Refuse, in one line, a value that is not > 0 (e.g. a learning rate)."""
    if not value > 0:
        raise UserError('%s must be > 0, got %g' % (flag, value))


def add_training_flags(p, defaults, epochs_help, batch_help=None):
    """--resume, --learning_rate, --mode, --epochs, --batch_size of the ANN command lines."""
    add_resume_flag(p, 'True: continue from the checkpoint and its training state')
    p.add_argument('--learning_rate', type=float, default=defaults['learning_rate'], help='Adam learning rate')
    p.add_argument('--mode', choices=('training', 'inference'), default='training')
    p.add_argument('--epochs', type=int, default=defaults['epochs'], help=epochs_help)
    p.add_argument('--batch_size', type=int, default=defaults['batch_size'], help=batch_help)


def add_seed_and_debug_flags(p, seed_help):
    """--seed and --debug, the last flags of every command line."""
    p.add_argument('--seed', type=int, default=0, help=seed_help)
    p.add_argument('--debug', action='store_true', help='show Python tracebacks')
