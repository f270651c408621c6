"""Run a table row by row: train -> inference -> simulate -> record.

Every step is the workspace script a user would type (``Quant_*.py`` / ``FP32_*.py`` / ``Spiking_*.py``, run
in a child process from the workspace folder), so the record carries real command lines and nothing here
imports TensorFlow.  A row's record (``<workspace>/records/<row>.json``) is rewritten atomically after every
epoch and every step; the scripts' own output goes to ``<workspace>/records/<row>.log``.

Resuming is the scripts' own: training continues from the checkpoint and its training state
(``--resume True``), the simulation from its ``progress.json`` (``--resume``).  A finished row (checkpoint at
the budget, ANN and SNN measured on that very checkpoint) is skipped; a row killed at any point is taken up
where its files say it stopped, and its record is replaced, never duplicated.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import os
import time

import numpy as np


from snn_conversion.reproduce.context import AGAIN, ROOT
from snn_conversion.reproduce.data import table_data
from snn_conversion.reproduce.oracle import float64_ann_correct
from snn_conversion.reproduce.training import TrainingStart, checkpoint_epoch, export_run
from snn_conversion.reproduce.resume import ResumeSlot, pretrained_file, resume_file
from snn_conversion.reproduce.summary import summarize_logs, summary_line
from snn_conversion.core.machine import machine_description
from snn_conversion.reproduce.scripts import ann_result, parse_ann_line, quote_argv, run_script
from snn_conversion.reproduce.tables import chosen_rows, get_table
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import load_checkpoint
from snn_conversion.core.fileio import atomic_write, file_sha256
from snn_conversion.core.formats import ProgressError, read_progress
from snn_conversion.core.errors import UserError
from snn_conversion.core.lock import RunLock
from snn_conversion.core.provenance import git_revision, now_utc
from snn_conversion.core.records import VERSION as RECORD_VERSION, AnnResult, AuthorsLog, Paper, Pretrained, Record

__all__ = ['run_table', 'RowRun', 'run_recorded', 'export_table', 'weights_digest']

# what a run trained again from epoch 0 (``--restart``) keeps of its earlier one (``earlier_run`` in the record)
EARLIER_RUN = ('ann', 'ann_float64', 'snn', 'checkpoint_sha256', 'checkpoint', 'finished', 'git_revision',
               'train_seconds', 'epochs_done', 'curve', 'resume', 'pretrained', 'earlier_run')


def weights_digest(path):
    """SHA-256 of a checkpoint's parameters alone (dtype, shape and bytes of each array, in order): equal for two
    trainings that gave the same weights, whatever their files' metadata (dates, commands) say."""
    h = hashlib.sha256()
    for array in load_checkpoint(path)[0]:
        array = np.ascontiguousarray(array)
        h.update(('%s%s' % (array.dtype.str, array.shape)).encode())
        h.update(array.tobytes())
    return h.hexdigest()


def run_recorded(owner, run, step, argv, on_line, what, save=True):
    """Run a workspace script of ``run``'s row (see :func:`.scripts.run_script`), keeping its command line in
    the commands of ``owner.record`` under ``step`` and its output in ``owner.log_file`` (``owner``: the row's run,
    or a run of its own such as a repeat, with ``record``, ``save()`` and ``log_file``); ``save`` False: the command
    is written with the record's next change (a training's: once it has started, see :class:`TrainingStart`)."""
    shown = 'cd %s && python %s' % (run.row.workspace, quote_argv(argv))
    owner.record.set_command(step, shown)
    if save:
        owner.save()
    run.echo('  $ ' + shown)
    run_script(run.python, run.workspace, argv, owner.log_file, on_line, what)


class RowRun(object):
    """One row being brought to its budget; ``record`` is written after every change."""

    # test images of the inference, the float64 ANN and the simulation (None: all), extra training flags: a
    # smoke run's limits (:mod:`.smoke`)
    num_test, extra_train_flags = None, ()
    # train from epoch 0 where the record claims epochs that no checkpoint here and no shipped resume state holds
    # (``--restart``, see :class:`~.training.TrainingStart`)
    restart = False

    def __init__(self, ctx, table, row, data_dir, out=None):
        """``ctx``: the :class:`~.context.RunContext` (the row's checkpoint, logs and record go to
        ``<ctx.root>/<workspace>/``, or ``out``; the scripts are always this repository's); ``data_dir``: the
        scripts' --data_dir (see :func:`~.data.table_data`)."""
        self.ctx, self.table, self.row, self.data_dir = ctx, table, row, data_dir
        self.python, self.threads, self.root, self.echo = ctx.python, ctx.threads, ctx.root, ctx.echo
        self.arch = architectures.get(row.arch)
        self.workspace = os.path.join(ROOT, row.workspace)
        self.out = out or ctx.out(row)
        self.record_file = os.path.join(self.out, 'records', row.id + '.json')
        self.model_file = os.path.join(self.out, row.id + '.npz')
        self.log_file = os.path.join(self.out, 'records', row.id + '.log')
        self.record = self._on_disk() or Record()
        self.record.update(
            version=RECORD_VERSION, table=table.name, seed=table.seed, row=row.id, workspace=row.workspace,
            architecture=row.arch, network=self.arch.string, label=row.label, k=row.k, B=row.B,
            budget_epochs=row.epochs, learning_rate=row.learning_rate, batch_size=row.batch_size,
            paper=Paper(ann=row.paper[0], snn=row.paper[1], steps=row.paper[2]), note=row.note,
            machine=machine_description())
        if row.authors_log:
            self.record.update(authors_log=AuthorsLog(snn=row.authors_log[0], steps=row.authors_log[1]))
        if table.subset is not None:
            self.record.update(subset=table.subset.label)
        self.record.update_missing(curve=[], commands={})
        self.slot = ResumeSlot(self.model_file, resume_file(self.out, row.id), self.out, self.record_file,
                               row.id, ctx.echo, row.overall_epoch)

    # -- bookkeeping -------------------------------------------------------------------------------------------
    def _on_disk(self):
        return self.ctx.records.read(self.record_file, dict(row=self.row.id), AGAIN)

    def save(self, **fields):
        self.slot.keep_later(self.record, self._on_disk())
        self.ctx.records.save(self.record_file, self.record, **fields)

    def _script(self, kind):
        return '%s_%s.py' % (kind, self.row.script)

    def _base_flags(self):
        flags = [] if self.row.full_precision else ['--k', str(self.row.k)]
        if self.row.B is not None:
            flags += ['--B', str(self.row.B)]
        if self.data_dir:  # relative to the workspace the script runs in: the record names no machine's paths
            flags += ['--data_dir', os.path.relpath(self.data_dir, self.workspace)]
        here = self.out == self.workspace  # the workspace's own files: the seeds' relative names
        return flags + ['--model_file', os.path.basename(self.model_file) if here else self.model_file]

    def run_script(self, argv, log_file, on_line, what):
        """A workspace script of this row without a record (its output to ``log_file``)."""
        run_script(self.python, self.workspace, argv, log_file, on_line, what)

    def run_step(self, step, argv, on_line=None):
        run_recorded(self, self, step, argv, on_line, '%s of %s' % (step, self.row.id), save=step != 'train')

    # -- steps -------------------------------------------------------------------------------------------------
    @classmethod
    def make(cls, ctx, table, row, restart=False):
        """The run of ``row``, its scripts given the data set found under the context's ``data_root`` (see
        :func:`table_data`)."""
        run = cls(ctx, table, row, table_data(ctx, table, row))
        run.restart = restart
        return run

    def lock(self):
        """One runner per row at a time (a second one fails at once, naming the first, before it writes
        anything)."""
        return RunLock(self.record_file[:-len('.json')] + '.lock', 'the row %s' % self.row.id, quiet=True)

    def checkpoint_epoch(self):
        return checkpoint_epoch(self.model_file, self.row)

    def shown_path(self, model_file):
        """``model_file`` as the command line names it: relative to the workspace when the run writes there."""
        return os.path.relpath(model_file, self.workspace) if self.out == self.workspace else model_file

    def ann_argv(self, mode, model_file=None):
        """The ANN script's command for ``mode`` (training / inference) with the row's flags; ``model_file``:
        another checkpoint than the row's (a timing run's, a repeat's)."""
        kind = 'FP32' if self.row.full_precision else 'Quant'
        argv = [self._script(kind)] + self._base_flags() + list(self.row.train_flags)
        if model_file:
            argv[argv.index('--model_file') + 1] = model_file
        return argv + ['--mode', mode]

    def _test_limit(self):
        return [] if self.num_test is None else ['--num_test', str(self.num_test)]

    def inference_argv(self, model_file=None):
        return self.ann_argv('inference', model_file) + ['--threads', str(self.threads)] + self._test_limit()

    def simulate_argv(self, model_file=None, log_dir=None):
        """The Spiking script's command with the row's flags; ``model_file`` / ``log_dir``: other than the row's."""
        argv = [self._script('Spiking')] + self._base_flags() + list(self.row.sim_flags)
        if model_file:
            argv[argv.index('--model_file') + 1] = model_file
        if log_dir:
            argv += ['--log_dir', log_dir]
        return argv + (['--time_steps', str(self.row.time_steps)] if self.row.time_steps else []) + self._test_limit()

    def train_argv(self, epochs, model_file=None, observe=True, learning_rate=None):
        """The training command (see :meth:`ann_argv`) of ``epochs`` at ``learning_rate`` (default: the first
        phase's), observing the test accuracy unless ``observe`` is False."""
        argv = self.ann_argv('training', model_file) + [
            '--epochs', str(epochs), '--learning_rate', '%g' % (learning_rate or self.row.learning_rate),
            '--batch_size', str(self.row.batch_size), '--threads', str(self.threads)]
        return (argv + (['--observe_test', 'True'] if observe else []) + self._test_limit()
                + list(self.extra_train_flags))

    def resume_file(self):
        return self.slot.path

    def import_resume(self):
        """Unpack the row's shipped resume state in place of its missing checkpoint; returns its epoch (0: none)."""
        return self.slot.unpack(self.record)

    def export_resume(self):
        """Pack the row's checkpoint and training state into :meth:`resume_file` when it is part-trained (the
        record keeps its epoch and sha256); returns the epoch exported, or None (not started, or trained)."""
        return export_run(self, self.row, self.model_file)

    def train(self):
        start = self._start = TrainingStart.plan(self, self.row, self.model_file, self.row.id, EARLIER_RUN,
                                                 shipped=self.pretrained_file())
        if start.done >= self.row.epochs:
            if self.record.status in (None, 'training'):
                self.save(epochs_done=start.done, status='trained')
            return False
        start.train(lambda phase: self.train_argv(phase.epochs, learning_rate=phase.learning_rate),
                    lambda argv, on_line: self.run_step('train', argv, on_line))
        self.save(epochs_done=self.checkpoint_epoch())
        if self.checkpoint_epoch() >= self.row.epochs and self.slot.drop(self.record):
            self.save()
        return True

    def inference(self, digest):
        if self.record.ann and self.record.ann.checkpoint_sha256 == digest:
            return
        found = []
        t0 = time.time()
        self.run_step('inference', self.inference_argv(),
                  lambda line: found.append(parse_ann_line(line)))
        self.save(ann=ann_result(found, time.time() - t0, digest, 'inference of %s' % self.row.id, self.log_file),
                  status='inferred')

    def log_dir(self):
        tag = self.arch.log_tag(self.row.k, self.row.B, self.row.sim_flag_true('--use_ternary'),
                                self.row.sim_flag_true('--use_int'))
        return os.path.join(self.out, 'figs', tag + self.row.suffix)

    def simulate(self, digest):
        if self.row.full_precision:
            return
        if self.record.snn is not None and self.record.snn.checkpoint_sha256 == digest:
            return
        log_dir = self.log_dir()
        default = self.out == self.workspace and not self.row.suffix  # the script's own log folder: the seeds' names
        argv = self.simulate_argv(log_dir=None if default else self.shown_path(log_dir))
        try:
            progress = read_progress(log_dir)
            same = progress is not None and progress['key'].get('checkpoint_sha256') == digest
        except ProgressError:
            same = False
        # an interrupted simulation of this very checkpoint is resumed; the logs of an earlier checkpoint of the
        # row are replaced (the record names the new one)
        argv += ['--resume'] if same else ['--overwrite', 'True']
        t0 = time.time()
        self.run_step('simulate', argv)
        snn = summarize_logs(log_dir, self.record.ann.correct, digest, time.time() - t0)
        self.save(snn=snn.replace(log_dir=os.path.relpath(log_dir, self.root)), status='simulated')

    def reference(self, digest):
        """Record the float64 quantized ANN's correct test images (the SNN's exact reference; see
        :mod:`.oracle`), once per checkpoint."""
        done = self.record.ann_float64
        if self.row.full_precision or (done is not None and done.checkpoint_sha256 == digest):
            return
        t0 = time.time()
        correct, n = float64_ann_correct(self.row, self.model_file, self.data_dir, num_test=self.num_test)
        self.save(ann_float64=AnnResult(correct=correct, n=n, accuracy=round(100.0 * correct / n, 4),
                                        seconds=round(time.time() - t0, 1), checkpoint_sha256=digest))

    def pretrained_file(self):
        return pretrained_file(self.out, self.row.id)

    def finished(self):
        """The record is complete and describes the checkpoint on disk (the training's, or the shipped one)."""
        digest = self.record.checkpoint_sha256
        return self.record.done and any(
            os.path.isfile(path) and file_sha256(path) == digest for path in (self.model_file, self.pretrained_file()))

    def ship(self, digest):
        """Put the final checkpoint in ``<workspace>/pretrained/<row>.npz`` (kept in git: the file the README's
        'use a shipped network' commands and ``--verify`` start from), once; its sha256 is the record's."""
        path = self.pretrained_file()
        if not (os.path.isfile(path) and file_sha256(path) == digest):
            if not (os.path.isfile(self.model_file) and file_sha256(self.model_file) == digest):
                return
            with open(self.model_file, 'rb') as f:
                data = f.read()
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path))
            atomic_write(path, 'wb', lambda out: out.write(data))
        shipped = Pretrained(file=os.path.relpath(path, self.out), sha256=digest, bytes=os.path.getsize(path),
                             weights_sha256=weights_digest(path))
        if self.record.pretrained != shipped:
            self.save(pretrained=shipped)

    def run(self):
        self.echo('== %s / %s (%s)' % (self.table.name, self.row.id, self.row.label))
        if self.finished():
            self.reference(self.record.checkpoint_sha256)  # a row finished before the float64 ANN was recorded
            self.ship(self.record.checkpoint_sha256)
            self.echo('%s: finished earlier  %s' % (self.row.id, summary_line(self.record)))
            return self.record
        trained = self.train()
        if self.checkpoint_epoch() < self.row.epochs:
            raise UserError('%s: the checkpoint stops at epoch %d of %d' % (self.row.id, self.checkpoint_epoch(),
                                                                          self.row.epochs))
        digest = file_sha256(self.model_file)
        if trained or self.record.checkpoint_sha256 != digest:
            self.save(checkpoint_sha256=digest, checkpoint=os.path.relpath(self.model_file, self.root))
        self.inference(digest)
        self.simulate(digest)
        self.reference(digest)
        if not self.record.done:
            self.save(status='done', finished=now_utc(), git_revision=git_revision())
        self.ship(digest)
        self.echo('%s: done  %s' % (self.row.id, summary_line(self.record)))
        return self.record


def run_table(ctx, name, rows=None, restart=False):
    """Bring every row of table ``name`` (a :class:`~.tables.Table` or its name; or those rows named in ``rows``)
    to its budget in the run context ``ctx``; returns the records.  ``restart``: see :class:`TrainingStart`."""
    table = get_table(name)
    chosen = chosen_rows(table, rows)
    dirs = {}
    for r in chosen:  # every data set is found (or refused) before anything runs
        key = (r.workspace, architectures.get(r.arch).dataset)
        if key not in dirs:
            dirs[key] = table_data(ctx, table, r)
    out = []
    for r in chosen:
        run = RowRun(ctx, table, r, dirs[(r.workspace, architectures.get(r.arch).dataset)])
        run.restart = restart
        with run.lock():
            out.append(run.run())
    return out


def export_table(ctx, name, rows=None):
    """:meth:`RowRun.export_resume` for every part-trained row of table ``name`` (or of ``rows``): the state to
    commit when work pauses, so a fresh clone continues the runs; returns {row id: epoch exported}."""
    table = get_table(name)
    out = {}
    for r in chosen_rows(table, rows):
        epoch = RowRun(ctx, table, r, None).export_resume()
        if epoch is not None:
            out[r.id] = epoch
    return out
