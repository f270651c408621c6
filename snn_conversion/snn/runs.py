"""Test-set runs: batches through the network, logs written batch by batch, resumable, shardable.

After each batch the log files are appended and ``progress.json`` records the batches done; ``--resume``
continues after the last complete one with byte-identical files; ``--shard I/N`` runs one contiguous slice and
:func:`merge_shards` joins the slices into the files of an unsharded run; ``run.json`` describes a finished run.
"""

from __future__ import absolute_import, division, print_function

import collections
import hashlib
import json
import os

import numpy as np

from snn_conversion.core.blas import kernel_report
from snn_conversion.core.errors import StopRequest, UserError, ensure_writable_dir
from snn_conversion.core.fileio import atomic_write_text, file_sha256
from snn_conversion.core.formats import (ALL_LOG_FILES, PROGRESS_FILE, PROGRESS_TOTALS, RUN_JSON, DamagedRunJson,
                                         ProgressError, read_columns, read_progress, read_run_json, write_progress,
                                         write_run_json)
from snn_conversion.core.lock import RunLock
from snn_conversion.core.provenance import provenance
from snn_conversion.core.progress import progress_bar
from snn_conversion.snn.logs import format_log_lines, write_logs

__all__ = ['run_test_set', 'RunOptions', 'merge_shards', 'shard_batches', 'parse_shard', 'shard_dir', 'run_key',
           'first_matching_step', 'write_run_info', 'layer_info', 'log_dir_lock', 'PROGRESS_FILE', 'LOCK_FILE']


LOCK_FILE = '.lock'
TOTALS = tuple(name for name, _ in PROGRESS_TOTALS)


class Progress(object):
    """The batches of a run whose log lines are complete on disk, and what they add up to.

    After each batch the log files are appended (and flushed), then ``progress.json`` -- the number of complete
    batches, each log file's size at that point and the running totals -- is replaced atomically.  A run killed
    at any moment therefore resumes exactly after its last complete batch: the files are cut back to the
    recorded sizes (dropping a partial batch) and the totals reloaded, so the finished files are byte-identical
    to those of an uninterrupted run.
    """

    def __init__(self, log_dir, key, files, time_steps, n_layers):
        self.log_dir, self.key, self.files = log_dir, key, list(files)
        self.done = 0
        self.totals = {name: np.zeros(time_steps, dtype=np.int64) for name in TOTALS}
        self.layer_spikes = np.zeros(n_layers, dtype=np.int64)  # None: unknown (resumed from a run without them)
        self.steps_run = self.unconverged = self.n = 0

    def start_fresh(self):
        for stale in (os.path.join(self.log_dir, PROGRESS_FILE), os.path.join(self.log_dir, RUN_JSON)):
            if os.path.exists(stale):
                os.remove(stale)
        for name in self.files:
            open(os.path.join(self.log_dir, name), 'w').close()
        self.save()

    def same_run_recorded(self, overwrite):
        """Before a run without ``--resume``: True when the folder holds batches of this very run (same key: it is
        continued, or found complete); False when it holds nothing, or another run's logs and ``overwrite``; else
        a one-line refusal naming what differs (nothing is replaced without being asked)."""
        try:
            rec = read_progress(self.log_dir)
        except ProgressError:
            return False
        if rec is None or rec['done'] <= 0:
            return False
        key, done = rec['key'], rec['done']
        mine = json.loads(json.dumps(self.key))
        if key == mine:
            return True
        if overwrite:
            return False
        diff = sorted(k for k in set(key) | set(mine) if key.get(k) != mine.get(k))
        raise UserError('%s holds the logs of another run (%d batches; another %s); replace them with --overwrite '
                        'True, or use another --log_dir' % (self.log_dir, done, ', '.join(diff)))

    def resume(self):
        """Continue the recorded run; False (nothing recorded) means start afresh."""
        try:
            rec = read_progress(self.log_dir)
        except ProgressError as e:
            raise UserError('%s is unreadable (%s); run without --resume to start over'
                            % (os.path.join(self.log_dir, PROGRESS_FILE), e))
        if rec is None:
            return False
        key, done, sizes, totals = rec['key'], rec['done'], rec['sizes'], rec['totals']
        if done == 0:
            return False  # nothing was completed: starting afresh is the same
        diff = sorted(k for k in set(key) | set(self.key) if key.get(k) != self.key.get(k))
        if diff:
            raise UserError('%s holds a run with another %s; run without --resume (or use another --log_dir) to '
                            'start over' % (self.log_dir, ', '.join(diff)))
        for name in self.files:
            path = os.path.join(self.log_dir, name)
            size = os.path.getsize(path) if os.path.isfile(path) else -1
            if size < sizes[name]:
                raise UserError('%s is shorter than its %d complete batches (damaged); run without --resume to '
                                'start over' % (path, done))
            with open(path, 'r+') as f:  # drop the lines of a batch that was cut short
                f.truncate(sizes[name])
        run_json = os.path.join(self.log_dir, RUN_JSON)
        if os.path.exists(run_json):
            os.remove(run_json)
        self.done = done
        for name in TOTALS:
            self.totals[name][:] = totals[name]
        recorded = totals.get('layer_spikes')  # progress records written before 2026-12-04 lack them
        if recorded is None or len(recorded) != len(self.layer_spikes):
            self.layer_spikes = None
        else:
            self.layer_spikes[:] = recorded
        self.steps_run, self.unconverged, self.n = totals['steps_run'], totals['unconverged'], totals['n']
        return True

    def add(self, trace, labels, lines):
        self.totals['correct'] += trace.correct(labels)
        for name in TOTALS[1:]:
            self.totals[name] += getattr(trace, name)
        if self.layer_spikes is not None:
            self.layer_spikes += trace.layer_spikes
        self.steps_run = max(self.steps_run, trace.steps_run)
        self.unconverged += 0 if trace.converged else 1
        self.n += len(labels)
        self.done += 1
        if self.log_dir is not None:
            write_logs(self.log_dir, lines)
            self.save()

    def save(self):
        totals = {name: [int(v) for v in self.totals[name]] for name in TOTALS}
        totals.update(steps_run=int(self.steps_run), unconverged=int(self.unconverged), n=int(self.n))
        if self.layer_spikes is not None:
            totals['layer_spikes'] = [int(v) for v in self.layer_spikes]
        sizes = {name: os.path.getsize(os.path.join(self.log_dir, name)) for name in self.files}
        write_progress(self.log_dir, self.key, self.done, sizes, totals)


def run_key(net, x, y, time_steps, batch_size, shard=None, **extra):
    """What a resumed simulation must share with the run it continues (compared field by field)."""
    labels = np.asarray(y) if isinstance(y, np.ndarray) else None
    key = dict(architecture=net.arch.name, k=net.k, B=net.B, use_ternary=net.use_ternary, use_int=net.use_int,
               rule=net.rule.name, noise_ratio=net.noise_ratio, seed=net.seed, time_steps=int(time_steps),
               batch_size=int(batch_size), num_images=len(x), shard=None if shard is None else '%d/%d' % shard,
               labels_sha1=None if labels is None else hashlib.sha1(labels.astype(np.int64).tobytes()).hexdigest())
    key.update(extra)
    return key


def shard_batches(n_images, batch_size, shard=None):
    """Batch indices of ``shard`` = (i, n), 1-based: the i-th of n contiguous, batch-aligned slices."""
    n_batches = -(-n_images // batch_size)
    if shard is None:
        return range(n_batches)
    i, n = shard
    if not (n >= 1 and 1 <= i <= n):
        raise UserError('--shard must be I/N with 1 <= I <= N, got %s/%s' % (i, n))
    return range((i - 1) * n_batches // n, i * n_batches // n)


def parse_shard(text):
    """'I/N' -> (I, N), refusing anything else with a one-line error."""
    try:
        i, n = (int(v) for v in text.split('/'))
    except ValueError:
        raise UserError('--shard must look like I/N (e.g. 2/4), got %r' % text)
    shard_batches(n, 1, (i, n))  # validates
    return i, n


def shard_dir(log_dir, shard):
    return os.path.join(log_dir, 'shard-%d-of-%d' % shard)


def log_dir_lock(log_dir):
    """The lock a simulation (or a merge) holds on its log folder for its whole life: one writer per folder."""
    return RunLock(os.path.join(log_dir, LOCK_FILE), 'the log folder %s' % log_dir)


class RunOptions(collections.namedtuple('RunOptions', 'progress shard resume key lock overwrite')):
    """How :func:`run_test_set` runs: ``progress`` (a progress bar), ``shard`` (i, n), ``resume``, ``key`` (extra
    fields a resumed run must share), ``lock`` (hold the log folder's lock), ``overwrite``."""

    __slots__ = ()

    def __new__(cls, progress=True, shard=None, resume=False, key=None, lock=True, overwrite=False):
        return super(RunOptions, cls).__new__(cls, bool(progress), shard, bool(resume), dict(key or {}), bool(lock),
                                              bool(overwrite))


def run_test_set(net, x, y, time_steps, batch_size, log_dir=None, **options):
    """Simulate the (streamed) test set batch by batch; optionally write the log files.  ``options``: the fields
    of :class:`RunOptions`.

    ``shard`` = (i, n) simulates only the i-th of n contiguous batch-aligned slices; :func:`merge_shards`
    concatenates the shards' logs into files identical to an unsharded run.  Every batch's random draws
    (scatter-and-gather noise) are seeded by (seed, batch index), so sharding does not change them.

    With ``log_dir``, the logs are written batch by batch with a progress record (:class:`Progress`);
    ``resume=True`` continues a killed run after its last complete batch, giving files byte-identical to an
    uninterrupted run.  ``key``: extra fields the resumed run must share (e.g. the checkpoint's digest).

    Returns a dict: ``correct`` [T] (total correct at each step), ``n`` (images),
    ``spike_num``/``spike_collect``/``sop_num`` [T] summed over batches, ``layer_spikes`` [layers] (|spikes| of
    each hidden layer over the whole run; None when resumed from a progress record that lacks them),
    ``steps_run`` (max over batches), ``unconverged`` (batches still active at T), ``batches`` (range),
    ``resumed_batches`` (complete batches found on disk).

    ``lock``: hold :func:`log_dir_lock` while running (False: the caller holds it already).  Without ``resume``,
    a folder holding this very run is continued (or found complete), and another run's logs are replaced only
    with ``overwrite`` (:meth:`Progress.same_run_recorded`).
    """
    opts = RunOptions(**options)
    if log_dir is not None and opts.lock:
        ensure_writable_dir(log_dir, 'logs')
        with log_dir_lock(log_dir):
            return run_test_set(net, x, y, time_steps, batch_size, log_dir, **dict(opts._asdict(), lock=False))
    batches = shard_batches(len(x), batch_size, opts.shard)
    state = Progress(log_dir, run_key(net, x, y, time_steps, batch_size, opts.shard, **opts.key), net.log_files,
                     time_steps, len(net.layers))
    resumed = _start(state, log_dir, opts, len(batches))
    _simulate_batches(net, (x, y, batch_size), time_steps, log_dir, state, batches, resumed, opts.progress)
    total = dict(state.totals)
    total.update(n=state.n, steps_run=state.steps_run, unconverged=state.unconverged, batches=batches,
                 resumed_batches=resumed, layer_spikes=state.layer_spikes)
    return total


def _start(state, log_dir, opts, n_batches):
    """Batches already complete in ``log_dir`` that this run continues after (0: it starts afresh)."""
    if log_dir is None:
        return 0
    ensure_writable_dir(log_dir, 'logs')
    resume = opts.resume or state.same_run_recorded(opts.overwrite)
    if resume and state.resume():
        print('resuming %s: %d of %d batches already complete' % (log_dir, state.done, n_batches))
        return state.done
    if resume:
        print('nothing to resume in %s: starting from the first batch' % log_dir)
    state.start_fresh()
    return 0


def _simulate_batches(net, data, time_steps, log_dir, state, batches, resumed, progress):
    """Simulate ``batches[resumed:]`` of ``data`` = (inputs, labels, batch size) in order, each added to
    ``state`` (and its log lines); the first Ctrl-C stops after the current batch with every finished one logged."""
    x, y, batch_size = data
    todo = batches[resumed:]
    it = todo
    if progress:
        it = progress_bar(todo, desc='SNN %s %s' % (net.arch.name, net.config_tag), unit='batch',
                          initial=resumed, total=len(batches))
    try:
        with StopRequest('stopping after this batch; the batches done stay logged (Ctrl-C again: at once)') as stop:
            for b in it:
                xb, yb = x[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]
                net.reseed(b)
                trace = net.simulate(xb, time_steps)
                lines = format_log_lines(trace, yb, net.log_files, net.family) if log_dir is not None else None
                state.add(trace, yb, lines)
                if stop.requested:
                    raise KeyboardInterrupt()
    except KeyboardInterrupt:
        if progress:
            it.close()
        if log_dir is None:
            raise
        raise KeyboardInterrupt('%d of %d batches logged in %s; continue with --resume'
                                % (state.done, len(batches), log_dir))


def merge_shards(log_dir):
    """Concatenate ``log_dir/shard-I-of-N/*.txt`` (all N present and finished) into ``log_dir``.

    The result is byte-identical to an unsharded run's logs; returns the merged ``run.json`` dict.
    """
    names = sorted(d for d in (os.listdir(log_dir) if os.path.isdir(log_dir) else []) if d.startswith('shard-'))
    if not names:
        raise UserError('no shard-I-of-N folders in %s: run with --shard I/N first' % log_dir)
    counts = {int(d.rsplit('-', 1)[1]) for d in names}
    if len(counts) != 1:
        raise UserError('%s mixes shard counts %s; remove the stale shard folders' % (log_dir, sorted(counts)))
    n = counts.pop()
    infos = []
    for i in range(1, n + 1):
        d = shard_dir(log_dir, (i, n))
        try:
            info = read_run_json(d)
        except DamagedRunJson as e:
            raise UserError('%s is damaged (%s): simulate shard %d/%d again (without --resume)'
                            % (e.path, e.reason, i, n))
        if info is None:
            raise UserError('shard %d/%d is missing or unfinished (no %s)' % (i, n, os.path.join(d, RUN_JSON)))
        infos.append(info)
    keys = ('architecture', 'k', 'B', 'use_ternary', 'use_int', 'time_steps', 'batch_size', 'checkpoint',
            'checkpoint_sha256', 'rule', 'noise_ratio', 'seed')
    for info in infos[1:]:
        diff = [key for key in keys if info.get(key) != infos[0].get(key)]
        if diff:
            raise UserError('shards of %s disagree on %s: they are not parts of one run' % (log_dir, ', '.join(diff)))
    files = [f for f in ALL_LOG_FILES if os.path.isfile(os.path.join(shard_dir(log_dir, (1, n)), f))]
    for name in files:
        parts = []
        for i in range(1, n + 1):
            with open(os.path.join(shard_dir(log_dir, (i, n)), name)) as f:
                parts.append(f.read())
        atomic_write_text(os.path.join(log_dir, name), ''.join(parts))
    merged = dict(infos[0])
    merged.pop('shard', None)
    merged['num_images'] = sum(info['num_images'] for info in infos)
    merged['steps_run'] = max(info['steps_run'] for info in infos)
    per_layer = [info.get('layer_spikes') for info in infos]
    if any(v is None for v in per_layer) or len({len(v) for v in per_layer}) != 1:
        for key in ('layer_spikes', 'layer_labels', 'counted_from'):  # a shard run before the counter existed
            merged.pop(key, None)
    else:
        merged['layer_spikes'] = [int(v) for v in np.sum(per_layer, axis=0)]
    correct = read_columns(log_dir, ['accuracy.txt'], merged['time_steps'])['accuracy.txt'].sum(axis=0)
    merged['snn_accuracy'] = float(100.0 * correct[-1] / merged['num_images'])
    merged['merged_from'] = n
    merged['shard_runs'] = [{key: info.get(key) for key in ('shard', 'command', 'host', 'date', 'git_revision',
                                                            'blas')}
                            for info in infos]
    if len({info.get('blas') for info in infos}) > 1:
        merged['blas'] = 'differs between the shards (shard_runs)'
    merged.update(provenance())
    write_run_json(log_dir, merged)
    return merged


def first_matching_step(correct, target_correct):
    """1-based first step whose correct count equals ``target_correct`` and stays equal; None if never."""
    correct = np.asarray(correct)
    ok = correct == target_correct
    if not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    return 1 if bad.size == 0 else int(bad[-1]) + 2


# ----------------------------------------------------------------------------- command line


def layer_info(net, layer_spikes):
    """run.json's per-layer fields: the |spikes| each hidden block fired over the run, the blocks' names and the
    first one the family's counters include; nothing when the counts are unknown."""
    if layer_spikes is None:
        return {}
    return dict(layer_spikes=[int(v) for v in layer_spikes], layer_labels=net.arch.block_labels(),
                counted_from=int(net.counted_from))


def write_run_info(log_dir, net, time_steps, batch_size, n_images, model_file, **extra):
    """``run.json`` beside the logs of ``net``'s run (its architecture, k and rule): what the figure scripts
    need, and the run's provenance (command line, package versions, git revision, host, date, BLAS kernels)."""
    arch, k, rule = net.arch, net.k, net.rule.name

    info = dict(architecture=arch.name, network=arch.string, dataset=arch.dataset, family=arch.family, k=int(k),
                label='k=%d' % k + (', B=%d' % extra['B'] if extra.get('B') is not None else '')
                + (', integer' if extra.get('use_int') else ''),
                time_steps=int(time_steps), batch_size=int(batch_size), num_images=int(n_images),
                neurons=int(arch.n_neurons), neurons_per_layer=arch.neurons_per_layer(), ann_macs=int(arch.ann_macs()),
                checkpoint=os.path.abspath(model_file), rule=rule)
    if extra.get('checkpoint_sha256') is None:
        extra['checkpoint_sha256'] = file_sha256(model_file)
    info.update(provenance(), blas=kernel_report())  # the kernels this process ran (never in the logs)
    info.update(extra)
    write_run_json(log_dir, info)
