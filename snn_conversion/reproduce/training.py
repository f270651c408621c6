"""A training run's bookkeeping: where it continues from, what its record may claim, and its shipped state.

Shared by a table row's run (:class:`~.runner.RowRun`) and a repeat's (:class:`~.repeat.RepeatRun`): both train
with the row's workspace script, keep a learning curve in their record, and ship a resume state while
part-trained.  :class:`TrainingStart` is the one rule for a run that cannot continue what its record claims (a
one-line refusal, or ``--restart``); :func:`export_run` packs the shipped state.
"""

from __future__ import absolute_import, division, print_function

import os
import zipfile

import numpy as np

from snn_conversion.core.checkpoint import load_checkpoint, state_numbers, train_state_path
from snn_conversion.core.errors import UserError
from snn_conversion.reproduce.scripts import parse_epoch_line

__all__ = ['state_epoch', 'checkpoint_epoch', 'add_curve_point', 'curve_seconds', 'TrainingStart', 'export_run']


def state_epoch(model_file, row=None):
    """The epochs of a checkpoint's training state (0 without a readable one); with ``row``, of the row's whole
    budget (see :meth:`~.tables.Row.overall_epoch`)."""
    try:
        with np.load(train_state_path(model_file)) as z:
            epoch, learning_rate = state_numbers(z)[:2]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return 0
    return row.overall_epoch(epoch, learning_rate) if row is not None and epoch else epoch


def checkpoint_epoch(path, row=None):
    """The epochs a checkpoint holds (0 when there is none); with ``row``, of the row's whole budget (a row trained
    in phases: the epochs of the phases before the checkpoint's, plus its own)."""
    if not os.path.isfile(path):
        return 0
    meta = load_checkpoint(path)[1]
    epoch = int(meta.get('epoch') or 0)
    if row is None or not epoch:
        return epoch
    return row.overall_epoch(epoch, meta.get('learning_rate') or row.learning_rate)


def add_curve_point(curve, point):
    """The learning curve (:class:`~snn_conversion.core.records.CurvePoint` s) with ``point`` in its place,
    replacing an earlier one of that epoch."""
    return sorted([c for c in curve if c.epoch != point.epoch] + [point], key=lambda c: c.epoch)


def curve_seconds(curve):
    """Training seconds of a learning curve."""
    return round(sum(c.seconds for c in curve), 1)


class TrainingStart(object):
    """Where a training run continues from, and the record's changes that wait until it really starts.

    A run continues from its checkpoint here, else from its shipped resume state (unpacked).  A record that claims
    trained epochs that neither holds is refused in one line naming what is missing, unless the run was told to
    ``restart`` (then the record's numbers move to ``earlier_run``).  Nothing in the record changes before the
    training has finished its first epoch (:meth:`begin`): a training that fails to start (another run holds the
    checkpoint, a wrong flag) leaves the record as it was."""

    def __init__(self, owner, row, what, done, saved, earlier=None):
        self.owner, self.row, self.what, self.done, self.saved, self.earlier = owner, row, what, done, saved, earlier
        self._begun = False
        self.offset = 0  # the epochs of the phases before the one training now

    @classmethod
    def plan(cls, owner, row, model_file, what, earlier_keys, shipped=None):
        """The start of ``owner``'s training of ``row`` (``owner``: a run with ``record``, ``slot``, ``save``,
        ``restart``, ``record_file`` and ``echo``); ``shipped``: the run's shipped final checkpoint (a finished
        row's)."""
        record, slot = owner.record, owner.slot
        if slot.repair(record):
            owner.save()
        done = checkpoint_epoch(model_file, row) or slot.unpack(record)
        # the training state can be one epoch ahead of the checkpoint (the checkpoint's write failed; the training
        # writes it again when it resumes)
        saved = max(done, state_epoch(model_file, row))
        claimed = record.trained_epochs
        orphan = shipped if shipped and os.path.isfile(shipped) and not os.path.isfile(owner.record_file) else None
        if (claimed and not saved) or orphan:
            if not owner.restart:
                raise UserError(_missing_message(what, record, claimed, model_file, slot, owner.record_file, orphan))
            owner.echo('%s: --restart: training from epoch 0%s' % (
                what, ' (the record keeps the %d epochs of its earlier run as earlier_run)' % claimed
                if claimed else ''))
            return cls(owner, row, what, 0, 0, record.keep(earlier_keys))
        if owner.restart and claimed:
            owner.echo('%s: nothing to restart: continuing from epoch %d' % (what, done))
        return cls(owner, row, what, done, saved)

    def train(self, argv_of, run_step):
        """Run the row's phases still to train: ``run_step(argv, on_line)`` for each, its command
        ``argv_of(phase)`` (``--resume True`` added where saved files go on: the phase's own epochs, or the phase
        before it)."""
        resume = bool(self.saved)
        phases = self.row.phases
        for before, phase in self.row.phases_left(self.done):
            self.offset = before
            self.owner.echo('%s: training %d -> %d epochs%s' % (
                self.what, max(self.done, before), before + phase.epochs, '' if len(phases) == 1 else
                ' (phase %d of %d: %g)' % (phases.index(phase) + 1, len(phases), phase.learning_rate)))
            run_step(argv_of(phase) + (['--resume', 'True'] if resume else []), self.on_line)
            resume = True
        self.begin()  # a training that printed no epoch (none was left) stands on its files all the same

    def on_line(self, line):
        """A line of the training's output: an epoch line goes into the record's curve (the epoch counted over
        the whole budget), the device line (where TensorFlow trains, and its version) into ``device``."""
        if line.startswith('device: '):  # the training script's device and TensorFlow build (recorded with its epochs)
            self.owner.record.update(device=line[len('device: '):].strip())
            return
        point = parse_epoch_line(line)
        if not point:
            return
        self.begin()
        point = point._replace(epoch=self.offset + point.epoch)
        curve = add_curve_point(self.owner.record.curve, point)
        self.owner.save(curve=curve, epochs_done=point.epoch, status='training', train_seconds=curve_seconds(curve))
        self.owner.echo('%s: epoch %d/%d  %.0fs  val acc %.2f%%%s'
                        % (self.what, point.epoch, self.row.epochs, point.seconds, point.val_acc,
                           '' if point.test_acc is None else '  test acc %.2f%%' % point.test_acc))

    def begin(self):
        """The training has started: the record claims only what its files stand on (points past them -- a lost
        checkpoint, a run elsewhere -- would be mixed with the new run's), and a restarted run's numbers are kept
        as ``earlier_run``."""
        if self._begun:
            return
        self._begun = True
        record = self.owner.record
        if self.earlier:
            record.drop(*self.earlier.present())
            record.update(earlier_run=self.earlier)
        curve = [c for c in record.curve if c.epoch <= self.saved]
        self.owner.save(curve=curve, epochs_done=self.done, status='training', train_seconds=curve_seconds(curve))


def _missing_message(what, record, claimed, model_file, slot, record_file, orphan):
    """One line: what a run's record claims, what is missing, and the two ways on."""
    restart = ('or add --restart to train from epoch 0 (the record keeps its numbers as earlier_run)')
    if orphan:
        return ('%s: %s is shipped but its record %s is missing: restore the record from git (git checkout -- %s), '
                'or add --restart to train the row again (the shipped checkpoint is replaced when it finishes)'
                % (what, orphan, record_file, os.path.relpath(record_file)))
    entry = record.resume
    if entry:
        missing = ('its shipped resume state %s (epoch %d) is missing: restore it from git (git checkout -- %s), '
                   % (slot.path, entry.epoch, os.path.relpath(slot.path)))
    elif record.done:
        missing = ('its finished checkpoint is neither here (%s) nor shipped: ' % model_file)
    else:
        missing = ('no checkpoint %s is here and no resume state was shipped for them: copy the checkpoint and its '
                   'training state from the machine that trained them, ' % model_file)
    return '%s: its record claims %d trained epochs, but %s%s' % (what, claimed, missing, restart)


def export_run(owner, row, model_file):
    """Pack ``owner``'s part-trained checkpoint of ``row`` into its shipped resume state, the bundle and the record
    changing together (:meth:`.resume.ResumeSlot.export`); returns the epoch exported, or None (not started, or
    trained)."""
    if owner.slot.repair(owner.record):
        owner.save()
    if not 0 < checkpoint_epoch(model_file, row) < row.epochs:
        return None
    return owner.slot.export(owner.record, owner.save).epoch
