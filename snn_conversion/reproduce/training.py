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
from snn_conversion.core.records import CurvePoint, trained_epochs

__all__ = ['state_epoch', 'checkpoint_epoch', 'add_curve_point', 'curve_seconds', 'TrainingStart', 'export_run']


def state_epoch(model_file):
    """The epoch of a checkpoint's training state (0 without a readable one)."""
    try:
        with np.load(train_state_path(model_file)) as z:
            return state_numbers(z)[0]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return 0


def checkpoint_epoch(path):
    """The epochs a checkpoint holds (0 when there is none)."""
    return int(load_checkpoint(path)[1].get('epoch') or 0) if os.path.isfile(path) else 0


def add_curve_point(curve, point):
    """The stored learning curve with ``point`` (a CurvePoint) in its place, replacing an earlier one of that
    epoch."""
    return sorted([c for c in curve if CurvePoint.of(c).epoch != point.epoch] + [point.stored()])


def curve_seconds(curve):
    """Training seconds of a stored curve."""
    return round(sum(CurvePoint.of(c).seconds for c in curve), 1)


class TrainingStart(object):
    """Where a training run continues from, and the record's changes that wait until it really starts.

    A run continues from its checkpoint here, else from its shipped resume state (unpacked).  A record that claims
    trained epochs that neither holds is refused in one line naming what is missing, unless the run was told to
    ``restart`` (then the record's numbers move to ``earlier_run``).  Nothing in the record changes before the
    training has finished its first epoch (:meth:`begin`): a training that fails to start (another run holds the
    checkpoint, a wrong flag) leaves the record as it was."""

    def __init__(self, owner, done, saved, earlier=None):
        self.owner, self.done, self.saved, self.earlier = owner, done, saved, earlier
        self._begun = False

    @classmethod
    def plan(cls, owner, model_file, what, earlier_keys, shipped=None):
        """The start of ``owner``'s training (``owner``: a run with ``record``, ``slot``, ``save``, ``restart``,
        ``record_file`` and ``echo``); ``shipped``: the run's shipped final checkpoint (a finished row's)."""
        record, slot = owner.record, owner.slot
        if slot.repair(record):
            owner.save()
        done = checkpoint_epoch(model_file) or slot.unpack(record)
        # the training state can be one epoch ahead of the checkpoint (the checkpoint's write failed; the training
        # writes it again when it resumes)
        saved = max(done, state_epoch(model_file))
        claimed = trained_epochs(record)
        orphan = shipped if shipped and os.path.isfile(shipped) and not os.path.isfile(owner.record_file) else None
        if (claimed and not saved) or orphan:
            if not owner.restart:
                raise UserError(_missing_message(what, record, claimed, model_file, slot, owner.record_file, orphan))
            owner.echo('%s: --restart: training from epoch 0%s' % (
                what, ' (the record keeps the %d epochs of its earlier run as earlier_run)' % claimed
                if claimed else ''))
            return cls(owner, 0, 0, dict((key, record[key]) for key in earlier_keys if key in record))
        if owner.restart and claimed:
            owner.echo('%s: nothing to restart: continuing from epoch %d' % (what, done))
        return cls(owner, done, saved)

    def begin(self):
        """The training has started: the record claims only what its files stand on (points past them -- a lost
        checkpoint, a run elsewhere -- would be mixed with the new run's), and a restarted run's numbers are kept
        as ``earlier_run``."""
        if self._begun:
            return
        self._begun = True
        record = self.owner.record
        if self.earlier:
            for key in self.earlier:
                record.pop(key, None)
            record['earlier_run'] = self.earlier
        curve = [c for c in record.get('curve', []) if CurvePoint.of(c).epoch <= self.saved]
        self.owner.save(curve=curve, epochs_done=self.done, status='training', train_seconds=curve_seconds(curve))


def _missing_message(what, record, claimed, model_file, slot, record_file, orphan):
    """One line: what a run's record claims, what is missing, and the two ways on."""
    restart = ('or add --restart to train from epoch 0 (the record keeps its numbers as earlier_run)')
    if orphan:
        return ('%s: %s is shipped but its record %s is missing: restore the record from git (git checkout -- %s), '
                'or add --restart to train the row again (the shipped checkpoint is replaced when it finishes)'
                % (what, orphan, record_file, os.path.relpath(record_file)))
    entry = record.get('resume')
    if entry:
        missing = ('its shipped resume state %s (epoch %d) is missing: restore it from git (git checkout -- %s), '
                   % (slot.path, entry['epoch'], os.path.relpath(slot.path)))
    elif record.get('status') == 'done':
        missing = ('its finished checkpoint is neither here (%s) nor shipped: ' % model_file)
    else:
        missing = ('no checkpoint %s is here and no resume state was shipped for them: copy the checkpoint and its '
                   'training state from the machine that trained them, ' % model_file)
    return '%s: its record claims %d trained epochs, but %s%s' % (what, claimed, missing, restart)


def export_run(owner, model_file, budget):
    """Pack ``owner``'s part-trained checkpoint into its shipped resume state, the bundle and the record changing
    together (:meth:`.resume.ResumeSlot.export`); returns the epoch exported, or None (not started, or trained)."""
    if owner.slot.repair(owner.record):
        owner.save()
    if not 0 < checkpoint_epoch(model_file) < budget:
        return None
    return owner.slot.export(owner.record, owner.save)['epoch']
