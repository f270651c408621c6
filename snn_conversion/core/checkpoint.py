"""Checkpoint files: the authors' TensorLayer ``.npz`` layout plus metadata (pure numpy).

A checkpoint is ``np.savez(path, params=<object array>, <metadata keys>)``:

* ``params``: the TensorLayer parameter list in the authors' order -- per hidden
  block W (HWIO, already weight-quantized when the block is), beta, gamma,
  moving_mean, moving_variance; finally the readout W.  This is exactly what
  ``tl.files.save_npz(net.all_params)`` wrote in the authors' code, so their
  files (which hold only ``params``) load too.
* metadata, each a 0-d array: ``architecture``, ``k``, ``B``, ``weight_quant``,
  ``dataset``, ``ann_accuracy``, ``date``, ``git_revision``, ``epoch``,
  ``learning_rate``, ``format``, ``provenance`` (JSON: command line, package
  versions, git revision, host, date -- and, for a resumed training, the
  earlier runs' records under ``previous``).  Missing entries read as ``None``;
  ``provenance`` reads as a dict.

``python -m tensorlayer_patches.checkpoint FILE`` prints a checkpoint's
metadata and parameter shapes.

Files are written atomically (temporary file + rename) so an interrupted write
never destroys the previous checkpoint.
"""

from __future__ import absolute_import, division, print_function

import datetime
import glob
import json
import os
import zipfile

import numpy as np

from snn_conversion.core.errors import UserError
from snn_conversion.core.provenance import git_revision, provenance

__all__ = ['CheckpointError', 'save_checkpoint', 'load_checkpoint', 'check_params', 'resolve_config',
           'resolve_ternary', 'object_array', 'atomic_savez', 'atomic_write_text', 'read_npz', 'META_KEYS']

META_KEYS = ('architecture', 'k', 'B', 'weight_quant', 'dataset', 'ann_accuracy', 'date', 'git_revision',
             'epoch', 'learning_rate', 'format', 'provenance')
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


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but another user's
        return True
    return True


def remove_stale_temporaries(path):
    """Delete ``path.tmp-<pid>`` files left by killed writers (their process is gone)."""
    for tmp in glob.glob(glob.escape(path) + '.tmp-*'):
        pid = tmp.rsplit('.tmp-', 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            try:
                os.remove(tmp)
            except OSError:
                pass


def atomic_savez(path, **arrays):
    """``np.savez`` to ``path`` through a temporary file and an atomic rename.

    A kill at any moment leaves either the previous file or the new one, never a partial file; temporaries of
    killed writers are removed by the next write.
    """
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        os.makedirs(d)
    _atomic_write(path, 'wb', lambda f: np.savez(f, **arrays))
    remove_stale_temporaries(path)


def _atomic_write(path, mode, write):
    """``write(f)`` into a temporary file beside ``path``, fsync, then rename it over ``path``."""
    tmp = path + '.tmp-%d' % os.getpid()
    try:
        with open(tmp, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_npz(path, allow_pickle=False):
    """Every array of an ``.npz`` file as a dict.

    A file that is not a complete zip archive raises ``zipfile.BadZipFile`` before numpy opens it (numpy 1.18's
    ``np.load`` would also print a spurious "Exception ignored" traceback from ``NpzFile.__del__``).
    """
    if not zipfile.is_zipfile(path):
        raise zipfile.BadZipFile('not a complete zip archive (truncated, or not an npz file)')
    with np.load(path, allow_pickle=allow_pickle) as z:
        return {key: z[key] for key in z.files}


def atomic_write_text(path, text):
    """Replace ``path`` by ``text`` at once (temporary file, fsync, rename): a kill leaves the old or the new."""
    _atomic_write(path, 'w', lambda f: f.write(text))


def save_checkpoint(path, params, **meta):
    """Write ``params`` (list of arrays) and metadata to ``path`` atomically."""
    unknown = set(meta) - set(META_KEYS)
    if unknown:
        raise ValueError('unknown checkpoint metadata keys: %s' % ', '.join(sorted(unknown)))
    meta.setdefault('date', datetime.datetime.now().isoformat(timespec='seconds'))
    meta.setdefault('git_revision', git_revision())
    if meta.get('provenance') is None:
        meta['provenance'] = provenance()
    meta['format'] = FORMAT
    arrays = {'params': object_array(params)}
    for key, value in meta.items():
        if key == 'provenance':
            value = json.dumps(value, sort_keys=True)
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
        z = read_npz(path, allow_pickle=True)
        if 'params' not in z:
            raise CheckpointError('%s has no "params" entry: not a TensorLayer npz checkpoint' % path)
        raw = z['params']
        meta = {key: (_scalar(z[key]) if key in z else None) for key in META_KEYS}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
        raise CheckpointError('%s is not a readable .npz checkpoint (%s: %s)' % (path, type(e).__name__, e))
    if meta['provenance'] is not None:
        try:
            meta['provenance'] = json.loads(meta['provenance'])
        except ValueError:
            raise CheckpointError('%s: its provenance record is not JSON (damaged file?)' % path)
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
    wrong = ['params[%d] (%s) has shape %s, expected %s' % (i, label, tuple(a.shape), tuple(shape))
             for i, ((label, shape), a) in enumerate(zip(expected, params)) if tuple(a.shape) != tuple(shape)]
    if wrong:
        more = '; and %d more' % (len(wrong) - 6) if len(wrong) > 6 else ''
        raise CheckpointError('%s does not fit %s (wrong architecture?): %s%s'
                              % (source, arch.name, '; '.join(wrong[:6]), more))
    for i, ((label, shape), a) in enumerate(zip(expected, params)):
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


def main(argv=None):
    """``python -m tensorlayer_patches.checkpoint FILE``: a checkpoint's metadata (JSON) and parameter shapes."""
    from snn_conversion.core.errors import ArgumentParser, run_cli

    def cli(args):
        p = ArgumentParser(prog='python -m tensorlayer_patches.checkpoint', description=main.__doc__)
        p.add_argument('file')
        p.add_argument('--debug', action='store_true', help='show Python tracebacks')
        a = p.parse_args(args)
        params, meta = load_checkpoint(a.file)
        meta = {key: (v.item() if isinstance(v, np.generic) else v) for key, v in meta.items() if v is not None}
        print(json.dumps(dict(meta, params=[list(x.shape) for x in params]), indent=1, sort_keys=True))

    return run_cli(cli, argv)


if __name__ == '__main__':
    main()
