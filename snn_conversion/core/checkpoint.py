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
  earlier runs' records under ``previous``), ``ternary_blocks`` (a full-precision
  network's hidden blocks with ternary weights all the same, e.g. ``'6'``; absent
  when none), ``drop_last`` (True or False: an array input's epochs left out their
  last partial batch, ``--drop_last``; absent, as in checkpoints written before the
  flag: False).  Missing entries read as ``None``;
  ``provenance`` reads as a dict.

``python -m tensorlayer_patches.checkpoint FILE`` prints a checkpoint's
metadata and parameter shapes.

Files are written atomically (:mod:`snn_conversion.core.fileio`) so an
interrupted write never destroys the previous checkpoint.
"""

from __future__ import absolute_import, division, print_function

import datetime
import json
import math
import os
import re
import zipfile

import numpy as np

from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import atomic_savez, read_npz
from snn_conversion.core.provenance import git_revision, provenance

__all__ = ['CheckpointError', 'ConversionError', 'save_checkpoint', 'load_checkpoint', 'check_params', 'resolve_config',
           'resolve_ternary', 'resolve_ternary_blocks', 'resolve_drop_last', 'agree_with_record', 'open_checkpoint', 'object_array', 'train_state_path', 'state_numbers', 'META_KEYS',
           'META_TYPES']

META_KEYS = ('architecture', 'k', 'B', 'weight_quant', 'dataset', 'ann_accuracy', 'date', 'git_revision',
             'epoch', 'learning_rate', 'format', 'provenance', 'ternary_blocks', 'drop_last')
FORMAT = 'snn-conversion-npz-1'


class CheckpointError(UserError):
    """A checkpoint that is missing, unreadable or does not fit the request (one-line message)."""


class ConversionError(CheckpointError):
    """Parameters or a request that cannot be converted faithfully (one-line message)."""


def train_state_path(model_file):
    """``<model>.train_state.npz`` beside a training's checkpoint: every graph variable, the finished epoch and
    its learning rate (what ``--resume True`` continues from)."""
    return model_file[:-4] + '.train_state.npz' if model_file.endswith('.npz') else model_file + '.train_state.npz'


def state_numbers(state):
    """(epochs done, their learning rate, trained with XLA, trained with ``--drop_last``) of a loaded training
    state; a ValueError naming the entry when one is missing or not what it must be."""
    numbers = []
    for key, (test, what) in (('__epoch__', META_TYPES['epoch']), ('__learning_rate__', META_TYPES['learning_rate']),
                              ('__xla__', (_boolean, 'True or False')), ('__drop_last__', META_TYPES['drop_last'])):
        if key not in state:
            if key in ('__xla__', '__drop_last__'):  # states written before the flag: trained without
                numbers.append(False)
                continue
            raise ValueError('no %s entry' % key)
        value = _scalar(state[key])
        if not test(value):
            raise ValueError('its %s entry is %r, not %s' % (key, 'an array' if isinstance(value, np.ndarray)
                                                            else value, what))
        numbers.append(value)
    return int(numbers[0]), float(numbers[1]), bool(numbers[2]), bool(numbers[3])


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


def save_checkpoint(path, params, **meta):
    """Write ``params`` (list of arrays) and metadata to ``path`` atomically."""
    unknown = set(meta) - set(META_KEYS)
    if unknown:
        raise ValueError('unknown checkpoint metadata keys: %s' % ', '.join(sorted(unknown)))
    meta.setdefault('date', datetime.datetime.now().isoformat(timespec='seconds'))
    if meta.get('provenance') is None:
        meta['provenance'] = provenance()
    if 'git_revision' not in meta:  # the one git look-up of the provenance, not a second one
        known = meta['provenance'].get('git_revision') if isinstance(meta['provenance'], dict) else None
        meta['git_revision'] = known or git_revision()
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


def _integer(low, high):
    return lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and low <= v <= high


def _number(low, high, low_open=False):
    return lambda v: (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      and math.isfinite(v) and (low < v if low_open else low <= v) and v <= high)


def _string(v):
    return isinstance(v, str)


def _boolean(v):
    return isinstance(v, (bool, np.bool_))


# what each metadata entry must be when present (a file edited by hand, or written by other code, is refused in
# one line naming the entry, not carried into the conversion)
META_TYPES = {
    'architecture': (_string, 'a string'), 'dataset': (_string, 'a string'), 'date': (_string, 'a string'),
    'git_revision': (_string, 'a string'), 'format': (_string, 'a string'), 'provenance': (_string, 'JSON text'),
    'weight_quant': (lambda v: isinstance(v, str) and v in ('none', 'ternary'), "'none' or 'ternary'"),
    'k': (_integer(0, 16), 'an integer from 0 to 16'), 'B': (_integer(1, 1024), 'an integer from 1 to 1024'),
    'epoch': (_integer(0, 10 ** 6), 'an integer from 0 to 1000000'),
    'ann_accuracy': (_number(0.0, 1.0), 'a number from 0 to 1'),
    'learning_rate': (_number(0.0, 10.0, low_open=True), 'a number > 0 and <= 10'),
    'ternary_blocks': (lambda v: isinstance(v, str) and re.match(r'^[1-9][0-9]*(,[1-9][0-9]*)*$', v) is not None,
                       "block numbers such as '6' or '2,6'"),
    'drop_last': (_boolean, 'True or False'),
}


def _check_meta(meta, path):
    for key in META_KEYS:
        value = meta[key]
        test, what = META_TYPES[key]
        if value is not None and not test(value):
            raise CheckpointError('%s: its metadata entry %r is %r, not %s (damaged or foreign file?)'
                                  % (path, key, value if not isinstance(value, np.ndarray) else 'an array', what))


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
    _check_meta(meta, path)
    if meta['provenance'] is not None:
        try:
            meta['provenance'] = json.loads(meta['provenance'])
            if not isinstance(meta['provenance'], dict):
                raise ValueError('not a JSON object')
        except ValueError:
            raise CheckpointError('%s: its provenance record is not a JSON object (damaged file?)' % path)
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


def agree_with_record(path, name, requested, recorded, default):
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
    k = agree_with_record(path, 'k', k, meta['k'], arch.defaults['k'])
    resolved = arch.spec.resolve_B(meta, arch, path, B)
    arch.spec.net_config(arch, k, B if resolved is None else resolved)  # the family refuses a B it has none of
    return k, resolved


def resolve_ternary(meta, arch, path, ternary=None):
    """Whether the hidden weights are ternary: the request (``--use_ternary``), checked against the record
    (the family's rule: :meth:`snn_conversion.core.families.Family.resolve_ternary`)."""
    return arch.spec.resolve_ternary(meta, arch, path, ternary)


def resolve_ternary_blocks(meta, path, requested=None):
    """The hidden blocks a full-precision network ternarizes (a tuple, numbered from 1): the request, which must
    agree with the checkpoint's record; None takes the record (none when it has no such entry)."""
    recorded = tuple(int(b) for b in meta['ternary_blocks'].split(',')) if meta.get('ternary_blocks') else ()
    if requested is None:
        return recorded
    requested = tuple(sorted(set(int(b) for b in requested)))
    if requested != recorded:
        def text(blocks):
            return 'ternary weights in block(s) %s' % ','.join(str(b) for b in blocks) if blocks else \
                'no ternary block'
        raise CheckpointError('%s was trained with %s but %s was requested (--ternary_blocks)'
                              % (path, text(recorded), text(requested)))
    return requested


def resolve_drop_last(meta, path, requested):
    """Whether the training resumed from this checkpoint leaves out each epoch's last partial batch: the request
    (``--drop_last``), which must agree with the record (absent, as before the flag existed: False)."""
    recorded = bool(meta.get('drop_last'))
    if bool(requested) != recorded:
        raise CheckpointError('%s was trained with --drop_last %s: resume it with the same setting (an epoch\'s '
                              'steps differ)' % (path, recorded))
    return recorded


def open_checkpoint(path, arch, k=None, B=None, full_precision=False, ternary=None, source=None):
    """Load ``path`` and refuse it unless it fits the request -- architecture (name, then shapes), k, B,
    full precision or not, ternary hidden weights or not.  Returns ``(params, meta, k, B, ternary)`` with the
    values to use (None requests take the checkpoint's record, else the architecture's defaults; ``ternary``
    is None for a full-precision request).  ``source`` names the file in messages (default: ``path``)."""
    params, meta = load_checkpoint(path)
    k, B = resolve_config(meta, arch, path, k=k, B=B, full_precision=full_precision)
    check_params(arch, params, source or path)
    ternary = None if full_precision else resolve_ternary(meta, arch, path, ternary)
    return params, meta, k, B, ternary


def main(argv=None):
    """``python -m tensorlayer_patches.checkpoint FILE``: a checkpoint's metadata (JSON) and parameter shapes."""
    from snn_conversion.core.errors import ArgumentParser, run_cli

    def cli(args):
        p = ArgumentParser(prog='python -m tensorlayer_patches.checkpoint', description=main.__doc__)
        p.add_argument('file')
        a = p.parse_args(args)
        params, meta = load_checkpoint(a.file)
        meta = {key: (v.item() if isinstance(v, np.generic) else v) for key, v in meta.items() if v is not None}
        print(json.dumps(dict(meta, params=[list(x.shape) for x in params]), indent=1, sort_keys=True))

    return run_cli(cli, argv)


if __name__ == '__main__':
    main()
