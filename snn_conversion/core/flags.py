"""Flag groups shared by several command lines, defined once."""

from __future__ import absolute_import, division, print_function

import argparse

from snn_conversion.core.errors import add_resume_flag, float_range, int_range

__all__ = ['add_training_flags', 'add_seed_flag', 'K_LEVEL', 'B_BOUND', 'SEED',
           'EPOCHS', 'BATCH', 'IMAGES', 'TIME_STEPS', 'THREADS', 'PROCESSES', 'LEARNING_RATE', 'RATIO', 'SHARDS',
           'WIDTH', 'IMAGE_SIZE', 'CLASSES', 'GPUS', 'BlockNumbers', 'Names', 'add_data_dir_flag', 'DATA_DIR_HELP']

# The range of every kind of numeric flag, defined once (core.errors.ArgumentParser refuses a numeric flag without
# one).  The upper ends are far beyond any real run and only keep absurd values from reaching the computation.
K_LEVEL = int_range(0, 16)               # activation quantization level k: 2^k + 1 levels per unit
B_BOUND = int_range(1, 1024)             # activation upper bound B (scatter-and-gather)
SEED = int_range(0, 2 ** 31 - 1)         # random seeds (numpy and TensorFlow both take them)
EPOCHS = int_range(1, 10 ** 6)
BATCH = int_range(1, 10 ** 6)            # images per batch (or per GPU tower)
IMAGES = int_range(1, 10 ** 8)           # --num_test, --num_images, --val_images
TIME_STEPS = int_range(1, 10 ** 6)       # simulation steps T (and step counts of benchmarks)
THREADS = int_range(0, 4096)             # CPU threads; 0: all cores
PROCESSES = int_range(1, 1024)           # --workers
LEARNING_RATE = float_range(0, 10, low_open=True)
RATIO = float_range(0, 1)                # --noise_ratio
SHARDS = int_range(1, 10 ** 6)           # TFRecord shards
WIDTH = float_range(0, 8, low_open=True)  # MobileNet width multiplier
IMAGE_SIZE = int_range(1, 4096)          # MobileNet input size in px
CLASSES = int_range(1, 10 ** 6)
GPUS = int_range(1, 1024)


def add_training_flags(p, defaults, epochs_help, batch_help=None):
    """--resume, --learning_rate, --mode, --epochs, --batch_size of the ANN command lines."""
    add_resume_flag(p, 'True: continue from the checkpoint and its training state')
    p.add_argument('--learning_rate', type=LEARNING_RATE, default=defaults['learning_rate'], help='Adam learning rate')
    p.add_argument('--mode', choices=('training', 'inference'), default='training')
    p.add_argument('--epochs', type=EPOCHS, default=defaults['epochs'], help=epochs_help)
    p.add_argument('--batch_size', type=BATCH, default=defaults['batch_size'], help=batch_help)


DATA_DIR_HELP = ('dataset folder (default: the search of docs/usage.md "Data": $SNN_DATA_DIR, ./data, the Debian '
                 'packages)')


def add_data_dir_flag(p, help=DATA_DIR_HELP, **kwargs):
    """--data_dir, the folder a command reads its data set from (``help`` / ``kwargs``: where it means another
    folder, e.g. the raw events or images a converter reads)."""
    kwargs.setdefault('default', None)
    p.add_argument('--data_dir', help=help, **kwargs)


def add_seed_flag(p, seed_help):
    """--seed (then --debug, which every parser adds itself: :class:`~snn_conversion.core.errors.ArgumentParser`)."""
    p.add_argument('--seed', type=SEED, default=0, help=seed_help)


class BlockNumbers(object):
    """A flag's type: 'none' (an empty tuple), or comma-separated hidden block numbers from 1 to ``n`` (a tuple),
    e.g. ``--ternary_blocks 6``."""

    def __init__(self, n):
        self.n = int(n)

    def __call__(self, text):
        if text.strip().lower() == 'none':
            return ()
        try:
            blocks = tuple(int(b) for b in text.split(','))
        except ValueError:
            blocks = ()
        if not blocks or any(not 1 <= b <= self.n for b in blocks):
            raise argparse.ArgumentTypeError('expected "none" or block numbers from 1 to %d such as %d or 1,%d, '
                                             'got %r' % (self.n, self.n, self.n, text))
        return blocks


class Names(object):
    """A flag's type: comma-separated names, none empty, none twice (a list), e.g. ``--rows a,b``; ``what``
    names one of them in the messages."""

    def __init__(self, what):
        self.what = what

    def __call__(self, text):
        names = [part.strip() for part in text.split(',')]
        if not all(names):
            raise argparse.ArgumentTypeError('an empty %s in %r (give them separated by commas)' % (self.what, text))
        twice = sorted(set(n for n in names if names.count(n) > 1))
        if twice:
            raise argparse.ArgumentTypeError('%s named twice in %r' % (', '.join(twice), text))
        return names
