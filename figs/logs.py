"""Reading SNN log folders (ours and the authors' published ones) and the statistics the figures plot.

A log folder holds ``accuracy.txt``, ``spike_num.txt``, ``sop_num.txt`` and
(negative-spike family) ``spike_collect.txt``: one line per (batch, t), batches
outer.  Our folders also hold ``run.json`` (time steps, images, neurons, ...);
for the authors' folders the time steps are inferred from where the cumulative
counters restart (or given with ``--time_steps``), the image count defaults to
10,000 (every test set here), and the neuron count comes from ``--arch``.
"""

from __future__ import absolute_import, division, print_function

import os
import sys

import numpy as np

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from snn_conversion.core import architectures  # noqa: E402
from snn_conversion.core.families import FAMILIES  # noqa: E402
from snn_conversion.core.formats import (PROGRESS_FILE, PROGRESS_TOTALS, ProgressError, read_column,  # noqa: E402
                                         read_progress, read_run_json)
from snn_conversion.core.errors import ArgumentParser, UserError, run_cli  # noqa: E402
from snn_conversion.core.flags import IMAGES, TIME_STEPS  # noqa: E402

__all__ = ['LogRun', 'check_against_run_json', 'check_against_progress', 'read_log_dir', 'infer_time_steps', 'find_log_dirs', 'figure_cli', 'save_figure']

DEFAULT_IMAGES = 10000


def infer_time_steps(cumulative):
    """The time steps T of a log: the largest divisor of its length such that the cumulative
    counter never decreases within a block of T lines (it restarts at every batch)."""
    n = len(cumulative)
    drops = np.flatnonzero(np.diff(cumulative) < 0) + 1  # indices where a new batch starts
    for t in sorted((d for d in range(1, n + 1) if n % d == 0), reverse=True):
        if np.all(drops % t == 0):
            return t
    return 1


class LogRun(object):
    """One log folder, reshaped to [batches, T]."""

    def __init__(self, path, label=None, time_steps=None, num_images=None, arch=None):
        self.path = path
        if not os.path.isdir(path):
            raise UserError('log folder %s does not exist' % path)
        info = read_run_json(path)
        if info is None and os.path.isfile(os.path.join(path, PROGRESS_FILE)):
            raise UserError('%s holds an unfinished run (progress.json, no run.json): continue it with --resume '
                            'before plotting it' % path)
        self.info = info = info or {}
        cols = {}
        for name in ('accuracy', 'spike_num', 'sop_num', 'spike_collect'):
            p = os.path.join(path, name + '.txt')
            if os.path.isfile(p):
                cols[name] = read_column(p, name)
            elif name != 'spike_collect':
                raise UserError('%s has no %s.txt: not an SNN log folder' % (path, name))
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1 or 0 in lengths:
            raise UserError('%s: log files have different or zero lengths %s' % (path, sorted(lengths)))
        t = time_steps or info.get('time_steps') or infer_time_steps(cols['spike_num'])
        n_lines = lengths.pop()
        if n_lines % t:
            raise UserError('%s: %d lines is not a multiple of T=%d time steps' % (path, n_lines, t))
        self.time_steps = int(t)
        self.n_batches = n_lines // self.time_steps
        if info:
            check_against_run_json(path, info, sorted(cols), n_lines)
        check_against_progress(path, cols, self.time_steps)
        self.cols = {key: v.reshape(self.n_batches, self.time_steps) for key, v in cols.items()}
        self.num_images = int(num_images or info.get('num_images') or DEFAULT_IMAGES)
        arch_name = arch or info.get('architecture')
        self.arch = architectures.get(arch_name) if arch_name else None
        self.neurons = info.get('neurons') or (self.arch.n_neurons if self.arch else None)
        self.ann_macs = info.get('ann_macs') or (self.arch.ann_macs() if self.arch else None)
        self.label = label or info.get('label') or _default_label(path, info)
        if self.cols['accuracy'].sum(axis=0).max() > self.num_images:
            raise UserError('%s: more correct predictions than %d images; pass --num_images'
                            % (path, self.num_images))

    def _per_image(self, key):
        return self.cols[key].sum(axis=0) / float(self.num_images)

    def accuracy(self):
        """[T] accuracy in percent at each step."""
        return 100.0 * self._per_image('accuracy')

    def spikes_per_image(self):
        return self._per_image('spike_num')

    def signed_spikes_per_image(self):
        return self._per_image('spike_collect') if 'spike_collect' in self.cols else None

    def spikes_per_neuron(self):
        return None if not self.neurons else self.spikes_per_image() / float(self.neurons)

    def sops_per_image(self):
        return self._per_image('sop_num')


def check_against_run_json(path, info, columns, n_lines):
    """Refuse a log folder whose files do not fit its run.json (mixed or partial runs): the family's file set,
    T times the number of batches lines in every file."""
    problems = []
    family = FAMILIES.get(info.get('family'))
    if family is not None:
        missing = [f for f in family.log_files if not os.path.isfile(os.path.join(path, f))]
        if missing:
            problems.append('%s missing' % ', '.join(missing))
    T, n, bs = info.get('time_steps'), info.get('num_images'), info.get('batch_size')
    if T and n and bs:
        batches = info.get('batches')
        n_batches = batches[1] - batches[0] if batches else -(-int(n) // int(bs))
        if n_lines != n_batches * int(T):
            problems.append('%d lines per file where %d batches x T=%d make %d' % (n_lines, n_batches, T,
                                                                                   n_batches * int(T)))
    if problems:
        raise UserError('%s does not fit its run.json (%s): mixed or partial runs; simulate again into an empty '
                        'folder' % (path, '; '.join(problems)))


def check_against_progress(path, columns, time_steps):
    """Refuse a log folder whose files do not add up to the totals its ``progress.json`` recorded batch by batch
    (the file of another run with as many lines put in, a file edited): every file is checked, step by step.
    Folders without a progress record (the authors' logs, merged shards) are not checked here."""
    progress = os.path.join(path, PROGRESS_FILE)
    try:
        rec = read_progress(path)
        if rec is None:
            return
        recorded = {log[:-4]: np.asarray(rec['totals'][key], dtype=np.float64) for key, log in PROGRESS_TOTALS
                    if log[:-4] in columns}
    except (ProgressError, ValueError, KeyError, TypeError) as e:
        raise UserError('%s is damaged (%s): simulate again into an empty folder' % (progress, e))
    for name, values in sorted(recorded.items()):
        sums = columns[name].reshape(-1, time_steps).sum(axis=0)
        if values.shape != sums.shape or not np.array_equal(values, sums):
            raise UserError('%s/%s.txt does not add up to the totals of its progress.json (another run\'s file, or '
                            'an edited one): simulate again into an empty folder' % (path, name))


def _default_label(path, info):
    if 'k' in info:
        return 'k=%d' % info['k']
    return os.path.basename(os.path.normpath(path))


def read_log_dir(spec, **kw):
    """``spec`` is ``DIR`` or ``DIR=LABEL``."""
    path, _, label = spec.partition('=')
    return LogRun(path, label=label or None, **kw)


def save_figure(fig, out):
    """Save ``fig`` as ``out``.png and ``out``.svg; returns the two paths."""
    d = os.path.dirname(os.path.abspath(out))
    try:
        if not os.path.isdir(d):
            os.makedirs(d)
        paths = [out + '.png', out + '.svg']
        fig.savefig(paths[0], dpi=150, bbox_inches='tight')
        fig.savefig(paths[1], bbox_inches='tight')
    except (IOError, OSError) as e:
        raise UserError('cannot write the figure %s (%s)' % (out, e))
    return paths


def find_log_dirs(start):
    """The log folders (holding accuracy.txt) below ``start``/figs, or below ``start`` when it has no figs/
    folder; shard folders are skipped.  Returns (the folder searched, ['DIR=LABEL', ...] sorted), the label
    being the path below that folder (e.g. 'MLP/k1')."""
    root = os.path.join(start, 'figs') if os.path.isdir(os.path.join(start, 'figs')) else start
    found = []
    for d, subdirs, files in os.walk(root):
        subdirs[:] = sorted(s for s in subdirs if not s.startswith('shard-'))
        if 'accuracy.txt' in files:
            found.append(d)
    if not found:
        raise UserError('no SNN log folders (holding accuracy.txt) below %s: run a Spiking_* script first, or give '
                        'the folders as DIR[=LABEL] arguments' % root)
    return root, ['%s=%s' % (d, os.path.relpath(d, root)) for d in found]


def figure_cli(description, default_out, draw, argv=None):
    """Shared command line of the figure scripts: ``draw(runs, args) -> (figure, table_lines)``."""
    def main(args):
        import matplotlib
        matplotlib.use('Agg')
        p = ArgumentParser(description=description)
        p.add_argument('logs', nargs='*', metavar='DIR[=LABEL]',
                       help='SNN log folders (e.g. FashionMNIST/figs/MLP/k1); none: every log folder below ./figs, or '
                            'below . where there is no ./figs (so the script runs bare from a workspace or its figs/, '
                            'as the authors\' did)')
        p.add_argument('--out', default=None,
                       help='output path without extension (default: %s, in the searched folder when the log '
                            'folders are found rather than given)' % default_out)
        p.add_argument('--time_steps', type=TIME_STEPS, default=None, help='T (default: run.json, else inferred)')
        p.add_argument('--num_images', type=IMAGES, default=None, help='images simulated (default: run.json, else 10000)')
        p.add_argument('--arch', default=None, choices=architectures.names(),
                       help='architecture of logs without run.json (neuron and ANN operation counts)')
        p.add_argument('--title', default=None)
        p.add_argument('--debug', action='store_true')
        a = p.parse_args(args)
        specs, out = a.logs, a.out or default_out
        if not specs:
            root, specs = find_log_dirs(os.getcwd())
            out = a.out or os.path.join(root, default_out)
        runs = [read_log_dir(spec, time_steps=a.time_steps, num_images=a.num_images, arch=a.arch) for spec in specs]
        fig, lines = draw(runs, a)
        for line in lines:
            print(line)
        for path in save_figure(fig, out):
            print('wrote %s' % path)
        return 0
    return run_cli(main, argv)
