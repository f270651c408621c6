"""A row's resume state, shipped in the repository so a training survives a change of machine.

A training continues from two files beside its checkpoint: ``<row>.npz`` (the weights, what the simulator
converts) and ``<row>.train_state.npz`` (every graph variable -- latent weights, BN statistics, Adam's moments --
with the finished epoch and its learning rate).  The data order of an epoch is a function of the seed and the
epoch number (:func:`snn_conversion.ann.inputs.epoch_order`), so these two files, byte for byte, are everything
that makes a continuation identical to an uninterrupted run.

:func:`export_state` packs both into ``<workspace>/resume/<row>.npz`` (their bytes, compressed, with their
epoch and digests); :func:`import_state` unpacks them in place of a missing checkpoint, after checking the
bundle's sha256 against the row's record.  An export may run while the training writes: it reads the two files
until they describe the same epoch (the trainer writes the checkpoint, then the training state).
:class:`ResumeSlot` is that bundle as a training run (a table row's, or a repeat's) keeps it: unpacked when the
checkpoint is missing, packed when work pauses, named in the run's record, dropped when the run reaches its budget.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import io
import os
import time
import zipfile

import numpy as np

from snn_conversion.core.checkpoint import load_checkpoint, state_numbers, train_state_path
from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import WriteError, atomic_savez_compressed, atomic_write, file_sha256, read_npz
from snn_conversion.core.provenance import now_utc
from snn_conversion.core.records import ResumeEntry

__all__ = ['FORMAT', 'resume_file', 'pretrained_file', 'export_state', 'import_state', 'ResumeSlot']

FORMAT = 'snn-conversion-resume-1'
_PARTS = ('checkpoint', 'train_state')


def resume_file(workspace_dir, row_id):
    """``<workspace>/resume/<row>.npz``."""
    return os.path.join(workspace_dir, 'resume', row_id + '.npz')


def pretrained_file(workspace_dir, row_id):
    """``<workspace>/pretrained/<row>.npz``: a finished row's final checkpoint, shipped in git."""
    return os.path.join(workspace_dir, 'pretrained', row_id + '.npz')


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _epochs(checkpoint_bytes, state_bytes):
    """(epoch of the checkpoint, (epoch, learning rate) of the training state) of two files' bytes."""
    with np.load(io.BytesIO(checkpoint_bytes), allow_pickle=False) as z:
        ckpt = int(z['epoch']) if 'epoch' in z.files and z['epoch'].dtype != object else None
    with np.load(io.BytesIO(state_bytes), allow_pickle=False) as z:
        state = state_numbers(z)[:2]
    return ckpt, state


def _same(epoch, learning_rate):
    return epoch


def export_state(model_file, dest, tries=120, wait=1.0, overall=_same):
    """Pack ``model_file`` and its training state into ``dest``; returns its record entry (a
    :class:`~snn_conversion.core.records.ResumeEntry` of its epoch, sha256 and bytes), the epoch as
    ``overall(epoch, learning rate)`` counts it (a row trained in phases: of its whole budget).

    Waits (up to ``tries`` x ``wait`` seconds) while a running training has written one of the two files and
    not yet the other; a one-line error when the files are missing or never agree."""
    state_file = train_state_path(model_file)
    for name in (model_file, state_file):
        if not os.path.isfile(name):
            raise UserError('no %s: nothing to export (the training state is written after every epoch)' % name)
    for attempt in range(tries):
        ckpt, state = _read(model_file), _read(state_file)
        try:
            epoch_ckpt, (epoch_state, rate) = _epochs(ckpt, state)
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as e:
            raise UserError('%s or %s is not readable (%s: %s)' % (model_file, state_file, type(e).__name__, e))
        if epoch_ckpt == epoch_state:
            break
        time.sleep(wait)
    else:
        raise UserError('%s is at epoch %s but %s at epoch %s: not one training\'s files'
                        % (model_file, epoch_ckpt, state_file, epoch_state))
    atomic_savez_compressed(dest, format=np.array(FORMAT), epoch=np.array(epoch_state),
                            checkpoint=np.frombuffer(ckpt, np.uint8), train_state=np.frombuffer(state, np.uint8),
                            checkpoint_sha256=np.array(hashlib.sha256(ckpt).hexdigest()),
                            train_state_sha256=np.array(hashlib.sha256(state).hexdigest()))
    return ResumeEntry(epoch=int(overall(epoch_state, rate)), sha256=file_sha256(dest), bytes=os.path.getsize(dest))


def _open_bundle(path, sha256):
    """The bundle at ``path``, its digests checked; ``sha256``: the digest (or a tuple of the digests) its record
    accepts."""
    accepted = (sha256,) if isinstance(sha256, str) else tuple(sha256 or ())
    if accepted and file_sha256(path) not in accepted:
        raise UserError('%s does not match the sha256 its record names (another run\'s state, or damaged): restore '
                        'it from git (git checkout -- %s)' % (path, os.path.relpath(path)))
    try:
        z = read_npz(path)
        if str(z['format']) != FORMAT:
            raise ValueError('format %r, expected %r' % (str(z['format']), FORMAT))
        for part in _PARTS:
            if hashlib.sha256(z[part].tobytes()).hexdigest() != str(z[part + '_sha256']):
                raise ValueError('its %s does not match its digest' % part)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise UserError('%s is not a readable resume state (%s)' % (path, e))
    return z


def import_state(path, model_file, sha256=None, epoch=None, overall=_same):
    """Unpack the resume state ``path`` into ``model_file`` and its training state, byte for byte; returns the
    epoch (as ``overall(epoch, learning rate)`` counts it).  ``sha256``: the digest the row's record names (checked
    first), ``epoch``: the epoch it names (the bundle must hold it).  Refuses to replace a checkpoint."""
    z = _open_bundle(path, sha256)
    with np.load(io.BytesIO(z['train_state'].tobytes()), allow_pickle=False) as state:
        held = int(overall(*state_numbers(state)[:2]))
    if epoch is not None and held != epoch:
        raise UserError('%s holds epoch %d, its record says %d: restore the two from git together (git checkout -- '
                        'the record and the file)' % (path, held, epoch))
    if os.path.exists(model_file):
        raise UserError('%s exists: the resume state %s is not unpacked over it' % (model_file, path))
    # the training state first: a checkpoint without its state would resume with a fresh optimizer
    atomic_write(train_state_path(model_file), 'wb', lambda f: f.write(z['train_state'].tobytes()))
    atomic_write(model_file, 'wb', lambda f: f.write(z['checkpoint'].tobytes()))
    epoch = int(load_checkpoint(model_file)[1].get('epoch') or 0)
    if epoch != int(z['epoch']):
        raise UserError('%s: the unpacked checkpoint is at epoch %d, the bundle says %d' % (path, epoch, z['epoch']))
    return held


class ResumeSlot(object):
    """The shipped resume state of one training: checkpoint ``model_file``, bundle ``path`` (in the repository),
    named in the run's record (``record_file``) by a ``resume`` entry whose file is relative to ``base``.

    The bundle and its record entry change together (:meth:`export`): the new bundle is staged beside the old one,
    the record names it while still accepting the old one (``resume.replaces``), the staged file takes the old
    one's place, and the record drops ``replaces``.  An export stopped at any point leaves a pair that a fresh clone
    accepts (the old bundle, or the new one), and the next run or export mends the record by itself
    (:meth:`repair`)."""

    def __init__(self, model_file, path, base, record_file, name, echo=print, overall=_same):
        """``overall(epoch, learning rate)``: the epoch as the run counts it (a row trained in phases: of its whole
        budget, :meth:`~.tables.Row.overall_epoch`)."""
        self.model_file, self.path, self.base, self.record_file = model_file, path, base, record_file
        self.name, self.echo, self.overall = name, echo, overall
        self.staged = path + '.tmp-staged'  # ignored by git (*.npz.tmp-*)

    def _shipped(self, entry):
        """(sha256, epoch) of the bundle on disk among those ``entry`` accepts (its own, or the one it replaces);
        a one-line error for a bundle that is neither."""
        accepted = [(entry.sha256, entry.epoch)]
        if entry.replaces:
            accepted.append((entry.replaces.sha256, entry.replaces.epoch))
        digest = file_sha256(self.path)
        for sha256, epoch in accepted:
            if digest == sha256:
                return sha256, epoch
        _open_bundle(self.path, [sha256 for sha256, _ in accepted])  # raises: not the record's bundle
        raise AssertionError('unreachable')

    def shipped_epoch(self, record):
        """The epoch a fresh clone would continue from with this bundle (0: no bundle, or none recorded)."""
        entry = record.resume
        if not entry or not os.path.isfile(self.path):
            return 0
        return self._shipped(entry)[1]

    def unpack(self, record):
        """Unpack the bundle in place of a missing checkpoint; returns its epoch (0: nothing to unpack)."""
        if os.path.isfile(self.model_file) or not os.path.isfile(self.path):
            return 0
        entry = record.resume
        if not entry:
            raise UserError('%s has no record of %s (its sha256 is kept there): restore the record from git (git '
                            'checkout -- %s), or move the file away to train from epoch 0 (its epochs are then lost)'
                            % (self.record_file, self.path, os.path.relpath(self.record_file)))
        sha256, epoch = self._shipped(entry)
        if not os.path.isdir(os.path.dirname(self.model_file)):
            os.makedirs(os.path.dirname(self.model_file))
        epoch = import_state(self.path, self.model_file, sha256, epoch, self.overall)
        self.echo('%s: resume state of epoch %d unpacked from %s' % (self.name, epoch, self.path))
        return epoch

    def repair(self, record):
        """Mend the record of an export stopped half-way (``resume.replaces``): name the bundle that is on disk;
        True when the record changed (the caller saves it)."""
        entry = record.resume
        if not entry or not entry.replaces:
            return False
        if os.path.isfile(self.staged):
            os.remove(self.staged)
        if not os.path.isfile(self.path):
            return False
        sha256, epoch = self._shipped(entry)
        if sha256 != entry.sha256:
            entry = entry.replace(sha256=sha256, epoch=epoch, bytes=os.path.getsize(self.path))
        record.update(resume=entry.without('replaces'))
        return True

    def export(self, record, save):
        """Pack the checkpoint and its training state into the bundle and name it in ``record`` (written by
        ``save(resume=entry)``), the two changing together (see the class); returns the new entry."""
        old = record.resume
        try:
            info = export_state(self.model_file, self.staged, overall=self.overall)
            entry = info.replace(file=os.path.relpath(self.path, self.base), exported=now_utc())
            if old and os.path.isfile(self.path):
                entry = entry.replace(replaces=ResumeEntry(epoch=old.epoch, sha256=old.sha256))
            save(resume=entry)
            os.replace(self.staged, self.path)
            entry = entry.without('replaces')
            save(resume=entry)
        except (UserError, OSError, KeyboardInterrupt) as e:
            if os.path.isfile(self.staged):
                os.remove(self.staged)
            if isinstance(e, UserError) and not isinstance(e, WriteError):
                raise  # refused before anything was written (no training files, or files of two epochs)
            raise UserError('the export of %s was stopped (%s): the shipped resume state and its record still '
                            'agree; run the same --export_resume command again'
                            % (self.name, str(e) or type(e).__name__))
        self.echo('%s: resume state of epoch %d exported to %s (%.1f MB)'
                  % (self.name, info.epoch, self.path, info.bytes / 1e6))
        return entry

    def keep_later(self, record, on_disk):
        """Before ``record`` replaces ``on_disk`` (the record file as it is now, or None): keep a resume entry
        another process exported there meanwhile (``--export_resume`` beside the training), while its file is
        there."""
        theirs, mine = on_disk.resume if on_disk else None, record.resume
        if not theirs or theirs == mine or not os.path.isfile(self.path):
            return
        newer = not mine or (theirs.exported or '') > (mine.exported or '')
        finished = bool(mine and mine.replaces) and not theirs.replaces and theirs.sha256 == mine.sha256
        if newer or finished:
            record.update(resume=theirs)

    def drop(self, record):
        """A training at its budget ships no resume state: remove the bundle and the entry; True when the record
        changed."""
        if os.path.isfile(self.path):
            os.remove(self.path)
        return record.drop('resume')
