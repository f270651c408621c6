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
from snn_conversion.core.fileio import atomic_savez_compressed, atomic_write, file_sha256, read_npz
from snn_conversion.reproduce.scripts import now_utc

__all__ = ['FORMAT', 'resume_file', 'pretrained_file', 'export_state', 'import_state', 'bundle_epoch', 'ResumeSlot']

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
    """(epoch of the checkpoint, epoch of the training state) of two files' bytes."""
    with np.load(io.BytesIO(checkpoint_bytes), allow_pickle=False) as z:
        ckpt = int(z['epoch']) if 'epoch' in z.files and z['epoch'].dtype != object else None
    with np.load(io.BytesIO(state_bytes), allow_pickle=False) as z:
        state = state_numbers(z)[0]
    return ckpt, state


def export_state(model_file, dest, tries=120, wait=1.0):
    """Pack ``model_file`` and its training state into ``dest``; returns {epoch, sha256, bytes}.

    Waits (up to ``tries`` x ``wait`` seconds) while a running training has written one of the two files and
    not yet the other; a one-line error when the files are missing or never agree."""
    state_file = train_state_path(model_file)
    for name in (model_file, state_file):
        if not os.path.isfile(name):
            raise UserError('no %s: nothing to export (the training state is written after every epoch)' % name)
    for attempt in range(tries):
        ckpt, state = _read(model_file), _read(state_file)
        try:
            epoch_ckpt, epoch_state = _epochs(ckpt, state)
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
    return dict(epoch=int(epoch_state), sha256=file_sha256(dest), bytes=os.path.getsize(dest))


def _open_bundle(path, sha256):
    if sha256 is not None and file_sha256(path) != sha256:
        raise UserError('%s does not match the sha256 its record names (another run\'s state, or damaged); '
                        'delete it, or restore it from git' % path)
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


def bundle_epoch(path, sha256=None):
    """The epoch a resume state holds (checked as :func:`import_state` does)."""
    return int(_open_bundle(path, sha256)['epoch'])


def import_state(path, model_file, sha256=None):
    """Unpack the resume state ``path`` into ``model_file`` and its training state, byte for byte; returns the
    epoch.  ``sha256``: the digest the row's record names (checked first).  Refuses to replace a checkpoint."""
    z = _open_bundle(path, sha256)
    if os.path.exists(model_file):
        raise UserError('%s exists: the resume state %s is not unpacked over it' % (model_file, path))
    # the training state first: a checkpoint without its state would resume with a fresh optimizer
    atomic_write(train_state_path(model_file), 'wb', lambda f: f.write(z['train_state'].tobytes()))
    atomic_write(model_file, 'wb', lambda f: f.write(z['checkpoint'].tobytes()))
    epoch = int(load_checkpoint(model_file)[1].get('epoch') or 0)
    if epoch != int(z['epoch']):
        raise UserError('%s: the unpacked checkpoint is at epoch %d, the bundle says %d' % (path, epoch, z['epoch']))
    return epoch


class ResumeSlot(object):
    """The shipped resume state of one training: checkpoint ``model_file``, bundle ``path`` (in the repository),
    named in the run's record (``record_file``) by a ``resume`` entry whose file is relative to ``base``."""

    def __init__(self, model_file, path, base, record_file, name, echo=print):
        self.model_file, self.path, self.base, self.record_file = model_file, path, base, record_file
        self.name, self.echo = name, echo

    def unpack(self, record):
        """Unpack the bundle in place of a missing checkpoint; returns its epoch (0: nothing to unpack)."""
        if os.path.isfile(self.model_file) or not os.path.isfile(self.path):
            return 0
        entry = record.get('resume')
        if not entry:
            raise UserError('%s has no record of %s (its sha256 is kept there): delete the file to train from the '
                            'start, or restore the record from git' % (self.record_file, self.path))
        epoch = import_state(self.path, self.model_file, entry['sha256'])
        self.echo('%s: resume state of epoch %d unpacked from %s' % (self.name, epoch, self.path))
        return epoch

    def pack(self):
        """Pack the checkpoint and its training state into the bundle; returns the record's ``resume`` entry."""
        info = export_state(self.model_file, self.path)
        self.echo('%s: resume state of epoch %d exported to %s (%.1f MB)'
                  % (self.name, info['epoch'], self.path, info['bytes'] / 1e6))
        return dict(info, file=os.path.relpath(self.path, self.base), exported=now_utc())

    def keep_later(self, record, on_disk):
        """Before ``record`` replaces ``on_disk`` (the record file as it is now, or None): keep a resume entry
        another process exported there meanwhile (``--export_resume`` beside the training), while its file is
        there."""
        theirs, mine = (on_disk or {}).get('resume'), record.get('resume')
        if theirs and theirs != mine and os.path.isfile(self.path) and (
                not mine or theirs.get('exported', '') > mine.get('exported', '')):
            record['resume'] = theirs

    def drop(self, record):
        """A training at its budget ships no resume state: remove the bundle and the entry; True when the record
        changed."""
        if os.path.isfile(self.path):
            os.remove(self.path)
        return record.pop('resume', None) is not None
