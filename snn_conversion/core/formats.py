"""The files of a simulation's log folder, written and read here alone (the simulator, the table runner and the
figure scripts all go through this module).

* the **log files** (``accuracy.txt``, ``spike_num.txt``, ...): one line per (batch, step), batches outer, in the
  authors' number formats -- integers, except the counters a family writes as floats (``repr`` of a float64);
* ``progress.json``: the batches complete on disk, each log file's size at that point and the running totals
  (what ``--resume`` continues from, and what the figure scripts check the files against);
* ``run.json``: a finished run -- time steps, images, neurons, per-layer spikes, checkpoint digest, provenance.
"""

from __future__ import absolute_import, division, print_function

import os

import numpy as np

from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import atomic_write_json, read_json_object

__all__ = ['LOG_FILES', 'ALL_LOG_FILES', 'PROGRESS_FILE', 'RUN_JSON', 'PROGRESS_TOTALS', 'format_lines',
           'read_column', 'read_columns', 'per_step', 'read_run_json', 'write_run_json', 'read_progress',
           'write_progress', 'ProgressError', 'DamagedRunJson']

LOG_FILES = ('accuracy.txt', 'spike_num.txt', 'spike_collect.txt', 'sop_num.txt')
ALL_LOG_FILES = LOG_FILES + ('abs_spike.txt', 'sum_spike.txt')  # the all-integer family adds per-step ones
PROGRESS_FILE = 'progress.json'
RUN_JSON = 'run.json'
# progress.json's per-step totals and the log file each sums ('correct' sums accuracy.txt)
PROGRESS_TOTALS = (('correct', 'accuracy.txt'), ('spike_num', 'spike_num.txt'), ('spike_collect', 'spike_collect.txt'),
                   ('sop_num', 'sop_num.txt'))


class DamagedRunJson(UserError):
    """A ``run.json`` that cannot be read: ``path`` and ``reason`` let a caller say what to do about it."""

    def __init__(self, path, reason):
        super(DamagedRunJson, self).__init__('%s is damaged (%s): simulate again into an empty folder'
                                             % (path, reason))
        self.path, self.reason = path, reason


class ProgressError(ValueError):
    """A ``progress.json`` that cannot be read or lacks a field (each caller words what follows from it)."""


def format_lines(columns, files, float_logs):
    """The lines of one batch: ``columns`` maps a log file's name to its T per-step values; the files of
    ``float_logs`` are written as Python floats, the others as integers."""
    return {name: [repr(float(v)) for v in columns[name]] if name in float_logs else ['%d' % v for v in columns[name]]
            for name in files}


def read_column(path, kind=None):
    """A log file's numbers (float64, one per line); a one-line UserError when it cannot be read or parsed."""
    try:
        with open(path) as f:
            text = f.read().split()
    except IOError as e:
        raise UserError('cannot read %s (%s)' % (path, e.strerror or e))
    try:
        return np.array([float(v) for v in text], dtype=np.float64)
    except ValueError:
        raise UserError('%s is not a %s log: every line must be a number'
                        % (path, kind or os.path.basename(path)[:-4]))


def per_step(column, time_steps, path='the log'):
    """A column as [batches, T]; a one-line UserError when its length is not a multiple of T."""
    if len(column) % time_steps:
        raise UserError('%s holds %d lines, not a multiple of T=%d' % (path, len(column), time_steps))
    return column.reshape(-1, time_steps)


def read_columns(log_dir, files, time_steps):
    """{file: [batches, T] float64} of a log folder's ``files``."""
    return {name: per_step(read_column(os.path.join(log_dir, name)), time_steps, os.path.join(log_dir, name))
            for name in files}


def read_run_json(log_dir):
    """A log folder's ``run.json`` (a dict), None when it has none; a one-line UserError when it is damaged."""
    path = os.path.join(log_dir, RUN_JSON)
    try:
        return read_json_object(path)
    except (OSError, ValueError) as e:
        raise DamagedRunJson(path, e)


def write_run_json(log_dir, info):
    atomic_write_json(os.path.join(log_dir, RUN_JSON), info)


def read_progress(log_dir):
    """A log folder's ``progress.json`` -- {key, done, sizes, totals} -- or None when it has none; a
    :class:`ProgressError` when it is damaged."""
    try:
        rec = read_json_object(os.path.join(log_dir, PROGRESS_FILE))
        if rec is None:
            return None
        out = dict(key=rec['key'], done=int(rec['done']), sizes=rec['sizes'], totals=rec['totals'])
        if not isinstance(out['key'], dict) or not isinstance(out['sizes'], dict) or \
                not isinstance(out['totals'], dict):
            raise TypeError('key, sizes and totals must be objects')
        return out
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ProgressError('%s: %s' % (type(e).__name__, e))


def write_progress(log_dir, key, done, sizes, totals):
    atomic_write_json(os.path.join(log_dir, PROGRESS_FILE), dict(key=key, done=done, sizes=sizes, totals=totals))
