"""Train a row again with another random seed: how far its result moves from one training run to the next.

The seeds report one training run per row, and so does a table row here (``--seed 0``, the scripts' default).
``python reproduce.py TABLE --rows ROW --repeat S`` trains the row again with ``--seed S`` (initialisation and data
order), observing the test accuracy after every epoch, on a checkpoint of its own
(``<workspace>/repeats/<row>_seed<S>.npz``; resumable like any training), then evaluates it with the row's
inference command.  Only the ANN is repeated: the run-to-run variation of a finished row's accuracy is the
ANN's (its SNN equals it, which the row itself shows).

A repeat's record is a file of its own, ``<workspace>/records/repeats/<row>_seed<S>.json`` (kept in git; the
script output beside it as ``.log``), so that a repeat can run while the row's own record is being written.  Like
a row, a part-trained repeat survives a change of machine: ``--repeat S --export_resume`` packs its state into
``<workspace>/resume/repeats/<row>_seed<S>.npz`` (its sha256 in the repeat's record), which ``--repeat S`` on a
fresh clone unpacks and continues from.

``--variant NAME`` (with ``--repeat S``, seed 0 included) trains the row with a change of its recipe
(:data:`~snn_conversion.reproduce.tables.VARIANTS`): the same, under the name ``<row>_<NAME>_seed<S>``.
"""

from __future__ import absolute_import, division, print_function

import os
import time

from snn_conversion.reproduce.resume import ResumeSlot
from snn_conversion.reproduce.runner import RowRun, run_recorded
from snn_conversion.reproduce.training import TrainingStart, checkpoint_epoch, export_run
from snn_conversion.reproduce.scripts import ann_result, parse_ann_line
from snn_conversion.reproduce.tables import chosen_rows, get_table, get_variant
from snn_conversion.core.errors import UserError
from snn_conversion.core.lock import RunLock
from snn_conversion.core.fileio import file_sha256
from snn_conversion.core.machine import machine_description
from snn_conversion.core.provenance import now_utc
from snn_conversion.core.records import Record, VariantEntry

__all__ = ['repeat_path', 'read_repeats', 'RepeatRun', 'repeat_table', 'export_repeats']

# what to do about a repeat's damaged record once it is deleted (its numbers are lost)
AGAIN = 'run the repeat again (its checkpoint is resumed)'
# what a repeat trained again from epoch 0 (``--restart``) keeps of its earlier run (``earlier_run``)
EARLIER_RUN = ('ann', 'train_seconds', 'epochs_done', 'curve', 'resume', 'finished', 'earlier_run')


def _run_name(row, variant=None):
    """'lenet_mnist_fp32', or with a variant 'lenet_mnist_sg_fp32_ternary6'."""
    return row.id if variant is None else '%s_%s' % (row.id, variant.name)


def repeat_path(store, row, seed, variant=None):
    """Where the record of repeat ``seed`` of ``row`` (with ``variant``) is kept in the
    :class:`~snn_conversion.core.record_store.RecordStore` ``store``."""
    return store.repeat_path(row.workspace, _run_name(row, variant), seed)


def read_repeats(store, row, variant=None):
    """{seed: record} of the row's repeats in ``store`` (with ``variant``: of the row's runs with that change),
    empty when it has none; a damaged record is a one-line error."""
    return dict((seed, store.load(path, dict(row=row.id, repeat_seed=seed), AGAIN))
                for seed, path in store.repeat_paths(row.workspace, _run_name(row, variant)).items())


class RepeatRun(object):
    """One row trained again with random seed ``seed`` (and the change ``variant``, a
    :class:`~snn_conversion.reproduce.tables.Variant`, when given); ``record`` is written after every epoch and
    step."""

    def __init__(self, run, seed, variant=None):
        if seed == 0 and variant is None:
            raise UserError('seed 0 is the row itself (the scripts\' default seed); repeat with another seed')
        if seed < 0:
            raise UserError('--repeat needs a seed >= 0, got %d' % seed)
        self.run, self.seed, self.variant = run, seed, variant
        self.restart, self.echo = run.restart, run.echo
        self.store = run.ctx.records
        self.path = self.record_file = repeat_path(self.store, run.row, seed, variant)
        self.log_file = self.path[:-len('.json')] + '.log'
        name = '%s_seed%d' % (_run_name(run.row, variant), seed)
        self.what = '%s%s, seed %d' % (run.row.id, '' if variant is None else ' (variant %s)' % variant.name, seed)
        self.model_file = os.path.join(run.out, 'repeats', name + '.npz')
        self.slot = ResumeSlot(self.model_file, os.path.join(run.out, 'resume', 'repeats', name + '.npz'), run.out,
                               self.path, self.what, run.echo, run.row.overall_epoch)
        self.record = self._on_disk() or Record()
        self.record.update(row=run.row.id, table=run.table.name, repeat_seed=seed, label=run.row.label,
                           network=run.arch.string, budget_epochs=run.row.epochs, machine=machine_description())
        if variant is not None:
            self.record.update(variant=VariantEntry(name=variant.name, train_flags=' '.join(variant.train_flags),
                                                    change=variant.text))
        self.record.update_missing(curve=[], commands={})

    def _on_disk(self):
        return self.store.read(self.path, dict(row=self.run.row.id, repeat_seed=self.seed), AGAIN)

    def save(self, **fields):
        self.slot.keep_later(self.record, self._on_disk())
        self.store.save(self.path, self.record, **fields)

    def export_resume(self):
        """Pack the repeat's checkpoint and training state (see :class:`.resume.ResumeSlot`) when it is
        part-trained; returns the epoch exported, or None (not started, or trained)."""
        return export_run(self, self.run.row, self.model_file)

    def lock(self):
        """One runner per repeat at a time (a second one fails at once, naming the first, before it writes
        anything)."""
        return RunLock(self.path[:-len('.json')] + '.lock', 'the repeat %s' % self.what, quiet=True)

    def _script(self, step, argv, on_line):
        extra = [] if self.variant is None else list(self.variant.train_flags)
        at = argv.index('--mode')  # the variant's flags beside the row's, before the run's own
        run_recorded(self, self.run, step, argv[:at] + extra + argv[at:], on_line, '%s of %s' % (step, self.what),
                     save=step != 'train')

    def execute(self):
        """Train (or resume) to the row's budget, then evaluate; returns the record."""
        row, run = self.run.row, self.run
        finished = self.record.done and (self.record.epochs_done or 0) >= row.epochs
        if finished and not os.path.isfile(self.model_file):
            # a finished repeat is its record (its checkpoint is not shipped): nothing to train again
            self.run.echo('%s: finished earlier, ANN %.2f%%' % (self.what, self.record.ann.accuracy))
            return self.record
        shown = run.shown_path(self.model_file)
        start = self._start = TrainingStart.plan(self, row, self.model_file, self.what, EARLIER_RUN)
        if start.done < row.epochs:
            if not os.path.isdir(os.path.dirname(self.model_file)):  # (only now: a refused run leaves no folder)
                os.makedirs(os.path.dirname(self.model_file))
            start.train(lambda phase: run.train_argv(phase.epochs, shown, learning_rate=phase.learning_rate)
                        + ['--seed', str(self.seed)], lambda argv, on_line: self._script('train', argv, on_line))
        if checkpoint_epoch(self.model_file, row) >= row.epochs and self.slot.drop(self.record):
            self.save()  # at its budget: no resume state to ship
        digest = file_sha256(self.model_file)
        if self.record.ann is None or self.record.ann.checkpoint_sha256 != digest:
            found = []
            t0 = time.time()
            self._script('inference', run.inference_argv(shown),
                         lambda line: found.append(parse_ann_line(line)))
            self.save(ann=ann_result(found, time.time() - t0, digest, 'inference of %s' % self.what, self.log_file),
                      epochs_done=checkpoint_epoch(self.model_file, row))
        if not self.record.done:
            self.save(status='done', finished=now_utc())
        self.run.echo('%s: done, ANN %.2f%%' % (self.what, self.record.ann.accuracy))
        return self.record


def _rows_of(table, rows, variant):
    """The rows ``rows`` of ``table`` (all when None; with ``variant``, a variant's name: the rows it changes)."""
    variant = get_variant(variant, rows)
    if variant is not None and not rows:
        return [r for r in table.rows if r.id in variant.rows], variant
    return chosen_rows(table, rows), variant


def repeat_table(ctx, name, seed, rows=None, variant=None, restart=False):
    """:meth:`RepeatRun.execute` with random seed ``seed`` (and the change ``variant``, a name of
    :data:`~snn_conversion.reproduce.tables.VARIANTS`) for the rows ``rows`` of table ``name`` (all its rows, or
    the variant's, when None), in the run context ``ctx``; returns the repeats' records.  ``restart``: see
    :class:`~.training.TrainingStart`."""
    table = get_table(name)
    chosen, variant = _rows_of(table, rows, variant)
    if not chosen:
        raise UserError('variant %s changes no row of table %s (it changes %s)'
                        % (variant.name, table.name, ', '.join(variant.rows)))
    out = []
    for r in chosen:
        run = RepeatRun(RowRun.make(ctx, table, r, restart), seed, variant)
        with run.lock():
            out.append(run.execute())
    return out


def export_repeats(ctx, name, seed, rows=None, variant=None):
    """:meth:`RepeatRun.export_resume` of repeat ``seed`` (with the change ``variant``, a name) of the rows of table
    ``name`` (or of ``rows``) that have one part-trained; returns {row id: epoch exported}."""
    table = get_table(name)
    out = {}
    chosen, variant = _rows_of(table, rows, variant)
    for r in chosen:
        if not os.path.isfile(repeat_path(ctx.records, r, seed, variant)):
            continue
        epoch = RepeatRun(RowRun(ctx, table, r, None), seed, variant).export_resume()
        if epoch is not None:
            out[r.id] = epoch
    return out
