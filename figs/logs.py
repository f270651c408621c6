"""Reading SNN log folders (ours and the authors' published ones) and the statistics the figures plot.

A log folder holds ``accuracy.txt``, ``spike_num.txt``, ``sop_num.txt`` and
(negative-spike family) ``spike_collect.txt``: one line per (batch, t), batches
outer.  Our folders also hold ``run.json`` (time steps, images, neurons, ...);
for the authors' folders the time steps are inferred from where the cumulative
counters restart (or given with ``--time_steps``), the image count defaults to
10,000 (every test set here), and the neuron count comes from ``--arch``.

A folder without run.json is read only when its files fit together (else one
line naming the folder and what does not fit; see :func:`check_authors_log`):

* every file has as many lines, at least one;
* every line is a finite whole number; accuracy, spike_num and sop_num are not
  negative, and spike_collect (net spikes) is at most spike_num (all spikes) in
  size on the same line;
* T: ``--time_steps`` when given, else the spacing of the restarts (drops) of
  the cumulative counters spike_num and sop_num, which must restart every T
  lines exactly, T >= 2 (:func:`infer_time_steps`); never guessed;
* spike_num and sop_num never fall inside a batch of T lines;
* the batches fit the images: n_lines / T batches of at most (images - 1) //
  (batches - 1) images each (all images for one batch), so no accuracy line
  counts more correct predictions than a batch holds, and no step more than
  the images.
"""

from __future__ import absolute_import, division, print_function

import math
import os

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.families import FAMILIES
from snn_conversion.core.formats import (PROGRESS_FILE, PROGRESS_TOTALS, ProgressError, read_column,
                                         read_progress, read_run_json)
from snn_conversion.core.errors import ArgumentParser, UserError, run_cli
from snn_conversion.core.flags import IMAGES, TIME_STEPS

__all__ = ['LogRun', 'check_against_run_json', 'check_authors_log', 'check_against_progress', 'read_log_dir',
           'infer_time_steps', 'restart_lines', 'find_log_dirs', 'figure_cli', 'save_figure']

DEFAULT_IMAGES = 10000


LOG_COLUMNS = ('accuracy', 'spike_num', 'sop_num', 'spike_collect')  # spike_collect: negative-spike family only
CUMULATIVE = ('spike_num', 'sop_num')  # grow within a batch, restart at the next one
NON_NEGATIVE = ('accuracy', 'spike_num', 'sop_num')  # spike_collect counts net spikes: (+1) - (-1)


def restart_lines(*cumulative):
    """The (0-based) lines where a cumulative counter falls: where a new batch begins."""
    starts = set()
    for column in cumulative:
        starts.update((np.flatnonzero(np.diff(np.asarray(column, dtype=np.float64)) < 0) + 1).tolist())
    return sorted(starts)


def infer_time_steps(*cumulative):
    """The time steps T of a log without run.json from its cumulative counters (spike_num, sop_num; the same
    length): the spacing of the lines where they restart (a new batch begins), which must be every T lines
    exactly -- T = the whole file when they never restart (one batch).  None when T cannot be told: fewer than
    two lines, restarts at every line (one line per batch: give T), or restarts not evenly spaced."""
    n = len(cumulative[0])
    if n < 2:
        return None
    starts = restart_lines(*cumulative)
    t = n
    for s in starts:
        t = math.gcd(t, s)
    if t < 2 or starts != list(range(t, n, t)):
        return None
    return t


def _shown(value):
    """A log value as the message shows it: whole numbers without '.0', nan and inf as such."""
    return '%d' % value if np.isfinite(value) and value == np.floor(value) else repr(float(value))


def _check_finite(path, cols):
    for name in LOG_COLUMNS:
        if name in cols:
            bad = np.flatnonzero(~np.isfinite(cols[name]))
            if bad.size:
                raise UserError('%s/%s.txt line %d holds %s: a log holds finite numbers only (a damaged or '
                                'hand-edited file)' % (path, name, bad[0] + 1, _shown(cols[name][bad[0]])))


def _lines(indices, limit=6):
    shown = ', '.join('%d' % (i + 1) for i in indices[:limit])
    return shown + (', ...' if len(indices) > limit else '')


def check_authors_log(path, cols, time_steps, num_images):
    """Refuse a log folder without run.json (the authors' format) whose files do not fit together, in one line
    naming the folder and what does not fit (see the module's rules); returns T (``time_steps`` when given, else
    inferred).  ``cols``: {name: float64 column}, all the same length, every value finite."""
    for name in LOG_COLUMNS:
        if name not in cols:
            continue
        v = cols[name]
        bad = np.flatnonzero(v != np.floor(v))
        if bad.size:
            raise UserError('%s/%s.txt line %d holds %s: counts are whole numbers (a damaged or hand-edited file)'
                            % (path, name, bad[0] + 1, _shown(v[bad[0]])))
        if name in NON_NEGATIVE:
            bad = np.flatnonzero(v < 0)
            if bad.size:
                raise UserError('%s/%s.txt line %d holds %s: a count cannot be negative (a damaged or '
                                'hand-edited file)' % (path, name, bad[0] + 1, _shown(v[bad[0]])))
    if 'spike_collect' in cols:
        bad = np.flatnonzero(np.abs(cols['spike_collect']) > cols['spike_num'])
        if bad.size:
            i = bad[0]
            raise UserError('%s/spike_collect.txt line %d holds %s net spikes, more than the %s spikes of '
                            'spike_num.txt on that line: the files do not belong together'
                            % (path, i + 1, _shown(cols['spike_collect'][i]), _shown(cols['spike_num'][i])))
    n = len(cols['accuracy'])
    if time_steps:
        t = int(time_steps)
        if n % t:
            raise UserError('%s: %d lines is not a multiple of T=%d time steps' % (path, n, t))
        for name in CUMULATIVE:
            inside = [s for s in restart_lines(cols[name]) if s % t]
            if inside:
                raise UserError('%s/%s.txt falls at line %d, inside a batch of T=%d lines (a cumulative counter '
                                'restarts only where a batch begins): not a log of T=%d time steps'
                                % (path, name, inside[0] + 1, t, t))
    else:
        t = infer_time_steps(*(cols[name] for name in CUMULATIVE))
        if t is None:
            starts = restart_lines(*(cols[name] for name in CUMULATIVE))
            if n < 2:
                why = 'one line per file'
            elif starts == list(range(1, n)):
                why = 'the counters of spike_num.txt and sop_num.txt restart at every line (one line per batch?)'
            else:
                why = ('the counters of spike_num.txt and sop_num.txt restart at lines %s of %d: not every T lines '
                       'for one T > 1' % (_lines(starts), n))
            raise UserError('%s: cannot tell T from the log files (%s); pass --time_steps (1 for logs of one line '
                            'per batch, as the authors\' scatter-and-gather ones)' % (path, why))
    batches = n // t
    if batches > num_images:
        raise UserError('%s: %d lines make %d batches of T=%d steps, more than the %d images: wrong T or '
                        '--num_images' % (path, n, batches, t, num_images))
    per_batch = num_images if batches == 1 else (num_images - 1) // (batches - 1)
    bad = np.flatnonzero(cols['accuracy'] > per_batch)
    if bad.size:
        i = bad[0]
        raise UserError('%s/accuracy.txt line %d holds %s correct predictions, more than a batch holds (%d batches '
                        'of T=%d steps for %d images: at most %d images each): wrong T or --num_images'
                        % (path, i + 1, _shown(cols['accuracy'][i]), batches, t, num_images, per_batch))
    return t


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
        for name in LOG_COLUMNS:
            p = os.path.join(path, name + '.txt')
            if os.path.isfile(p):
                cols[name] = read_column(p, name)
            elif name != 'spike_collect':
                raise UserError('%s has no %s.txt: not an SNN log folder' % (path, name))
        lengths = {len(v) for v in cols.values()}
        if lengths == {0}:
            raise UserError('%s: its log files are empty (no batch logged)' % path)
        if len(lengths) != 1:
            raise UserError('%s: its log files differ in length (%s): mixed or partial runs'
                            % (path, ', '.join('%s.txt %d lines' % (k, len(v)) for k, v in sorted(cols.items()))))
        _check_finite(path, cols)
        n_lines = lengths.pop()
        self.num_images = int(num_images or info.get('num_images') or DEFAULT_IMAGES)
        if info:
            t = time_steps or info.get('time_steps') or infer_time_steps(*(cols[k] for k in CUMULATIVE))
            if not t:
                raise UserError('%s: cannot tell T (run.json has no time_steps, and the counters do not restart '
                                'every T lines); pass --time_steps' % path)
            if n_lines % t:
                raise UserError('%s: %d lines is not a multiple of T=%d time steps' % (path, n_lines, t))
        else:
            t = check_authors_log(path, cols, time_steps, self.num_images)
        self.time_steps = int(t)
        self.n_batches = n_lines // self.time_steps
        if info:
            check_against_run_json(path, info, sorted(cols), n_lines)
        check_against_progress(path, cols, self.time_steps)
        self.cols = {key: v.reshape(self.n_batches, self.time_steps) for key, v in cols.items()}
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
