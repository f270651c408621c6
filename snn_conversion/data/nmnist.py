"""N-MNIST events -> the frame dataset the ANN trains on (``N_MNIST/preprocessing_N_MNIST.py``).

The original N-MNIST release (Orchard et al. 2015) holds one binary file per
sample, ``Train|Test/<digit>/<id>.bin``, a sequence of 40-bit big-endian
records: byte 0 the x address, byte 1 the y address (0..33 on the 34x34
sensor), bit 23 the polarity (1 = ON, 0 = OFF) and bits 22..0 the timestamp in
microseconds.

The authors' frames (the default, ``polarity='on'``): the ON events of a sample
counted per pixel into one 34x34 channel; the network sees the count / 32
(the division happens when the dataset is loaded, so the files hold exact
integer counts).  ``polarity='both'`` keeps ON and OFF counts as two channels
(34x34x2), the common two-polarity variant.

Output (``--out_dir``, default ``./data/n_mnist``): ``train.npz`` and
``test.npz`` (``train_2p.npz`` / ``test_2p.npz`` for two polarities), each with
``counts`` (uint16, N x 34 x 34 x C), ``labels`` (int64), ``divisor`` (32) and
``files`` (the source paths, relative to ``--data_dir``).  Samples are taken in
the order of their numbers (MNIST's order), so the output is deterministic; each file is written to a
temporary name and renamed when complete.
"""

from __future__ import absolute_import, division, print_function

import os
import sys

import numpy as np

from snn_conversion.data.kinds.frames import DIVISOR
from snn_conversion.data.locate import DATASETS, DatasetError
from snn_conversion.core.errors import ArgumentParser, UserError, run_cli
from snn_conversion.core.flags import add_data_dir_flag, PROCESSES
from snn_conversion.core.fileio import atomic_savez_compressed

__all__ = ['SENSOR', 'DIVISOR', 'read_events', 'events_to_frame', 'list_samples', 'convert', 'main']

SENSOR = 34
SPLITS = (('Train', 'train'), ('Test', 'test'))


def read_events(path):
    """Decode one ``.bin`` sample: (x, y, polarity, timestamp_us) as int arrays; DatasetError if malformed."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except (IOError, OSError) as e:
        raise DatasetError('cannot read N-MNIST event file %s (%s)' % (path, e))
    if raw.size % 5:
        raise DatasetError('%s is not an N-MNIST event file: %d bytes is not a whole number of 40-bit events'
                           % (path, raw.size))
    rec = raw.reshape(-1, 5).astype(np.int64)
    x, y = rec[:, 0], rec[:, 1]
    if rec.size and (x.max() >= SENSOR or y.max() >= SENSOR):
        raise DatasetError('%s is not an N-MNIST event file: addresses up to (%d, %d) on a %dx%d sensor'
                           % (path, x.max(), y.max(), SENSOR, SENSOR))
    pol = rec[:, 2] >> 7
    ts = ((rec[:, 2] & 0x7F) << 16) | (rec[:, 3] << 8) | rec[:, 4]
    return x, y, pol, ts


def events_to_frame(x, y, pol, polarity='on'):
    """Event counts per pixel, (34, 34, 1) of ON events or (34, 34, 2) of (ON, OFF) events, uint16."""
    if polarity == 'on':
        keep = pol == 1
        frame = np.zeros((SENSOR, SENSOR, 1), dtype=np.int64)
        np.add.at(frame, (y[keep], x[keep], 0), 1)
    elif polarity == 'both':
        frame = np.zeros((SENSOR, SENSOR, 2), dtype=np.int64)
        np.add.at(frame, (y, x, 1 - pol), 1)  # channel 0: ON, 1: OFF
    else:
        raise ValueError("polarity must be 'on' or 'both', got %r" % (polarity,))
    if frame.max(initial=0) > np.iinfo(np.uint16).max:
        raise DatasetError('a pixel counts more than 65535 events')
    return frame.astype(np.uint16)


def _sample_key(item):
    rel, label = item
    stem = os.path.splitext(os.path.basename(rel))[0]
    return (0, int(stem), label) if stem.isdigit() else (1, stem, label)


def list_samples(data_dir, split):
    """(relative path, label) of ``data_dir/<split>/<digit>/*.bin`` in sample-number order (the file names are
    MNIST indices, so the classes come interleaved as in MNIST, not sorted by digit: the last samples of the
    training set make a validation split of every class); DatasetError when the layout is absent."""
    root = os.path.join(data_dir, split)
    if not os.path.isdir(root):
        raise DatasetError('%s not found: --data_dir must hold the N-MNIST folders Train/ and Test/ '
                           '(each with 0/ .. 9/ of *.bin event files)' % root)
    out = []
    for digit in sorted(os.listdir(root)):
        folder = os.path.join(root, digit)
        if not os.path.isdir(folder):
            continue
        if not (len(digit) == 1 and digit.isdigit()):
            raise DatasetError('%s: unexpected folder %r (expected the digit folders 0 .. 9)' % (root, digit))
        names = sorted(f for f in os.listdir(folder) if f.endswith('.bin'))
        out += [(os.path.join(split, digit, f), int(digit)) for f in names]
    if not out:
        raise DatasetError('%s holds no <digit>/*.bin event files' % root)
    return sorted(out, key=_sample_key)


def _frame_of(args):
    path, polarity = args
    return events_to_frame(*read_events(path)[:3], polarity=polarity)


def convert(data_dir, out_dir, polarity='on', workers=1, progress=True):
    """Convert ``data_dir/{Train,Test}`` into the frame files of ``out_dir``; returns {split: (path, n)}."""
    from tqdm import tqdm

    name = 'n_mnist' if polarity == 'on' else 'n_mnist_2p'
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise UserError('cannot create --out_dir %s (%s)' % (out_dir, e))
    done = {}
    for (split, key), fname in zip(SPLITS, DATASETS[name]['files']):
        samples = list_samples(data_dir, split)
        jobs = [(os.path.join(data_dir, rel), polarity) for rel, _ in samples]
        bar = dict(total=len(jobs), desc='%s %s' % (split, polarity), unit='file', file=sys.stderr,
                   disable=not progress, mininterval=0.5 if sys.stderr.isatty() else 30)
        frames = []
        with tqdm(**bar) as pbar:  # closed (its line ended) before an error message is printed
            if workers > 1:
                from multiprocessing import Pool
                with Pool(workers) as pool:
                    for frame in pool.imap(_frame_of, jobs, chunksize=64):
                        frames.append(frame)
                        pbar.update()
            else:
                for job in jobs:
                    frames.append(_frame_of(job))
                    pbar.update()
        counts = np.stack(frames)
        labels = np.array([lab for _, lab in samples], dtype=np.int64)
        path = os.path.join(out_dir, fname)
        atomic_savez_compressed(path, counts=counts, labels=labels, divisor=np.int64(DIVISOR),
                                files=np.array([rel for rel, _ in samples]))
        done[key] = (path, len(samples))
        print('%s: %d samples, %s frames 34x34x%d (counts; the network sees counts / %d) -> %s'
              % (split, len(samples), polarity, counts.shape[-1], DIVISOR, path))
    return done


def main(argv=None, script_file=None):
    """Command line of ``preprocessing_N_MNIST.py``."""
    return run_cli(lambda args: _cli(args, script_file), argv)


def _cli(argv, script_file):

    here = os.path.dirname(os.path.abspath(script_file)) if script_file else os.getcwd()
    p = ArgumentParser(description='Turn the original N-MNIST event files (Train|Test/<digit>/*.bin) into '
                                            'the 34x34 frame dataset the ANNs train on.')
    add_data_dir_flag(p, 'folder holding Train/ and Test/ (default: %(default)s)', default=os.path.join(here, 'data'))
    p.add_argument('--out_dir', default=os.path.join(here, 'data', 'n_mnist'),
                   help='where train.npz / test.npz go (default: %(default)s, where the scripts look)')
    p.add_argument('--polarity', choices=('on', 'both'), default='on',
                   help="'on': ON-event counts in one channel (the authors'); 'both': ON and OFF channels")
    p.add_argument('--workers', type=PROCESSES, default=1, help='reader processes (default 1)')
    a = p.parse_args(argv)
    if a.workers < 1:
        raise UserError('--workers must be >= 1, got %d' % a.workers)
    return convert(a.data_dir, a.out_dir, a.polarity, a.workers)
