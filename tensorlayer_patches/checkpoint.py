"""Checkpoint files: the authors' TensorLayer ``.npz`` layout plus metadata (pure numpy).

A checkpoint is ``np.savez(path, params=<object array>, <metadata keys>)``:

* ``params``: the TensorLayer parameter list in the authors' order -- per hidden
  block W (HWIO, already weight-quantized when the block is), beta, gamma,
  moving_mean, moving_variance; finally the readout W.  This is exactly what
  ``tl.files.save_npz(net.all_params)`` wrote in the authors' code, so their
  files (which hold only ``params``) load too.
* metadata, each a 0-d array: ``architecture``, ``k``, ``B``, ``weight_quant``,
  ``dataset``, ``ann_accuracy``, ``date``, ``git_revision``, ``epoch``,
  ``learning_rate``, ``format``.  Missing entries read as ``None``.

Files are written atomically (temporary file + rename) so an interrupted write
never destroys the previous checkpoint.
"""

from __future__ import absolute_import, division, print_function

import datetime
import os
import subprocess
import zipfile

import numpy as np

from tensorlayer_patches.errors import UserError

__all__ = ['CheckpointError', 'save_checkpoint', 'load_checkpoint', 'check_params', 'resolve_config',
           'resolve_ternary', 'git_revision', 'object_array', 'META_KEYS']

META_KEYS = ('architecture', 'k', 'B', 'weight_quant', 'dataset', 'ann_accuracy', 'date', 'git_revision',
             'epoch', 'learning_rate', 'format')
FORMAT = 'snn-conversion-npz-1'


class CheckpointError(UserError):
    """A checkpoint that is missing, unreadable or does not fit the request (one-line message)."""


def object_array(arrays):
    """A 1-d object array holding ``arrays`` as they are.

    ``np.array(list_of_arrays)`` -- what stock TensorLayer's ``save_npz`` does --
    fails or silently builds a numeric block when the shapes are ragged or
    happen to agree; filling an object array element by element never does.
    """
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = np.asarray(a)
    return out


def git_revision():
    """The repository's current commit (with '+dirty' when modified), or 'unknown'."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.check_output(['git', 'rev-parse', 'HEAD'], cwd=here, stderr=subprocess.DEVNULL)
        rev = rev.decode().strip()
        dirty = subprocess.call(['git', 'diff', '--quiet', 'HEAD', '--'], cwd=here,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return rev + ('+dirty' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def atomic_savez(path, **arrays):
    """``np.savez`` to ``path`` through a temporary file and an atomic rename."""
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        os.makedirs(d)
    tmp = path + '.tmp-%d' % os.getpid()
    try:
        with open(tmp, 'wb') as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(path, params, **meta):
    """Write ``params`` (list of arrays) and metadata to ``path`` atomically."""
    unknown = set(meta) - set(META_KEYS)
    if unknown:
        raise ValueError('unknown checkpoint metadata keys: %s' % ', '.join(sorted(unknown)))
    meta.setdefault('date', datetime.datetime.now().isoformat(timespec='seconds'))
    meta.setdefault('git_revision', git_revision())
    meta['format'] = FORMAT
    arrays = {'params': object_array(params)}
    for key, value in meta.items():
        if value is not None:
            arrays[key] = np.array(value)
    atomic_savez(path, **arrays)


def _scalar(v):
    v = v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v
    return v.decode() if isinstance(v, bytes) else v


def load_checkpoint(path):
    """Read a checkpoint; returns ``(params, meta)``: a list of float arrays and a dict (None when absent)."""
    if not os.path.isfile(path):
        raise CheckpointError('checkpoint %s not found (train first, or pass --model_file)' % path)
    try:
        with np.load(path, allow_pickle=True) as z:
            if 'params' not in z.files:
                raise CheckpointError('%s has no "params" entry: not a TensorLayer npz checkpoint' % path)
            raw = z['params']
            meta = {key: (_scalar(z[key]) if key in z.files else None) for key in META_KEYS}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
        raise CheckpointError('%s is not a readable .npz checkpoint (%s: %s)' % (path, type(e).__name__, e))
    if raw.dtype == object:
        params = [np.asarray(a) for a in raw]
    else:  # every tensor had the same shape: numpy stacked them
        params = [np.asarray(a) for a in raw]
    for i, a in enumerate(params):
        if not np.issubdtype(a.dtype, np.number):
            raise CheckpointError('%s: params[%d] is not numeric (%s)' % (path, i, a.dtype))
    return params, meta


def check_params(arch, params, source='checkpoint'):
    """Refuse a parameter list that does not fit ``arch``, naming the first offending layer."""
    expected = arch.param_shapes()
    if len(params) != len(expected):
        raise CheckpointError('%s holds %d arrays but %s needs %d (%d blocks x 5 + readout): wrong architecture?'
                              % (source, len(params), arch.name, len(expected), len(arch.blocks)))
    for i, ((label, shape), a) in enumerate(zip(expected, params)):
        if tuple(a.shape) != tuple(shape):
            raise CheckpointError('%s does not fit %s: params[%d] (%s) has shape %s, expected %s'
                                  % (source, arch.name, i, label, tuple(a.shape), tuple(shape)))
        if not np.all(np.isfinite(a)):
            raise CheckpointError('%s: params[%d] (%s) contains NaN or Inf' % (source, i, label))


def _agree(path, name, requested, recorded, default):
    """The value of ``name`` to use: the request, which must agree with the checkpoint's record."""
    if requested is None:
        return int(recorded) if recorded is not None else int(default)
    if recorded is not None and int(recorded) != int(requested):
        raise CheckpointError('%s was trained with %s=%s but %s=%s was requested' % (path, name, recorded, name,
                                                                                     requested))
    return int(requested)


def resolve_config(meta, arch, path, k=None, B=None, full_precision=False):
    """Check a checkpoint's metadata against the request; returns the ``(k, B)`` to use.

    Refuses another architecture, an FP32 checkpoint where a quantized one is needed (and the reverse),
    and a k or B other than the recorded one.  ``None`` requests take the recorded value, else the
    architecture's default.  The authors' files (no metadata) accept any request.
    """
    if meta['architecture'] is not None and meta['architecture'] != arch.name:
        raise CheckpointError('%s was trained as %s, not %s' % (path, meta['architecture'], arch.name))
    ours = meta['format'] is not None
    if full_precision:
        if ours and meta['k'] is not None:
            raise CheckpointError('%s is a quantized (k=%s) checkpoint, not an FP32 one' % (path, meta['k']))
        return None, None
    if ours and meta['k'] is None:
        raise CheckpointError('%s is a full-precision (FP32) checkpoint: only quantized ANNs convert losslessly; '
                              'train with the Quant_ script' % path)
    k = _agree(path, 'k', k, meta['k'], arch.defaults['k'])
    B = _agree(path, 'B', B, meta['B'], arch.defaults['B']) if arch.uses_B else None
    return k, B


def resolve_ternary(meta, arch, path, ternary=None):
    """Whether the hidden weights are ternary: the request (``--use_ternary``), checked against the record.

    ``None`` takes the checkpoint's record, else the architecture's default.  Only the all-integer family
    offers the choice; elsewhere a request must match the architecture's fixed weight quantization.
    """
    recorded = meta.get('weight_quant') if meta.get('format') is not None else None
    recorded = None if recorded is None else recorded == 'ternary'
    fixed = arch.weight_quant == 'ternary'
    if not arch.optional_ternary:
        if ternary is not None and bool(ternary) != fixed:
            raise CheckpointError('%s has %s hidden weights; --use_ternary %s does not apply'
                                  % (arch.name, 'ternary' if fixed else 'full-precision', bool(ternary)))
        return fixed
    if ternary is None:
        return fixed if recorded is None else recorded
    if recorded is not None and recorded != bool(ternary):
        raise CheckpointError('%s was trained with %s hidden weights but --use_ternary %s was requested'
                              % (path, 'ternary' if recorded else 'full-precision', bool(ternary)))
    return bool(ternary)
