"""The record of a table row (``<workspace>/records/<row>.json``): its fields and their types, checked on every
read and every write, so that a damaged or hand-edited record is refused in one line naming the file and the
field, never a traceback or a silent wrong table.

A record is versioned (``version``, :data:`VERSION`).  Fields are optional unless the record's ``status`` needs
them (a finished row has its ANN result, a quantized one its SNN's); unknown fields are allowed (a newer writer's).
"""

from __future__ import absolute_import, division, print_function

import collections
import numbers

from snn_conversion.core.errors import UserError

__all__ = ['VERSION', 'FIELDS', 'STATUSES', 'RecordError', 'check_record', 'curve_point', 'CurvePoint', 'curve_of']

VERSION = 1
STATUSES = ('training', 'trained', 'inferred', 'simulated', 'done')


class RecordError(UserError):
    """A record with a field of the wrong type (one line: the file, the field, what it holds, what it should)."""


# ---- the types a field may have
def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _str(v):
    return isinstance(v, str)


def _optional(test):
    return lambda v: v is None or test(v)


def _list_of(test):
    return lambda v: isinstance(v, list) and all(test(x) for x in v)


def _dict_of(test):
    return lambda v: isinstance(v, dict) and all(_str(k) and test(x) for k, x in v.items())


def curve_point(v):
    """A learning-curve point: [epoch, val acc %, train loss, seconds] and, observed, [.., test acc %]."""
    return (isinstance(v, list) and len(v) in (4, 5) and _int(v[0]) and v[0] >= 1
            and all(_number(x) for x in v[1:]))


class CurvePoint(collections.namedtuple('CurvePoint', 'epoch val_acc loss seconds test_acc')):
    """One epoch of a learning curve by name; the record stores it as the list :meth:`stored` gives
    ([epoch, val acc %, train loss, seconds] and, when the test accuracy was observed, [..., test acc %])."""

    __slots__ = ()

    @classmethod
    def of(cls, stored):
        """The point of a stored list (``test_acc`` None when it has four entries)."""
        return cls(*(list(stored) + [None] * (5 - len(stored))))

    def stored(self):
        return [self.epoch, self.val_acc, self.loss, self.seconds] + ([] if self.test_acc is None else [self.test_acc])


def curve_of(rec):
    """A record's learning curve as :class:`CurvePoint` s (none for a record without one)."""
    return [CurvePoint.of(c) for c in (rec or {}).get('curve', ())]


# (test, what it should be) of every field, nested fields as 'parent.child'
_ANN = {'accuracy': (_number, 'a number'), 'correct': (_int, 'an integer'), 'n': (_int, 'an integer'),
        'seconds': (_number, 'a number'), 'checkpoint_sha256': (_str, 'a string')}
FIELDS = {
    'version': (_int, 'an integer'), 'table': (_str, 'a string'), 'seed': (_str, 'a string'),
    'row': (_str, 'a string'), 'workspace': (_str, 'a string'), 'architecture': (_str, 'a string'),
    'network': (_str, 'a string'), 'label': (_str, 'a string'), 'k': (_optional(_int), 'an integer or null'),
    'B': (_optional(_int), 'an integer or null'), 'budget_epochs': (_int, 'an integer'),
    'learning_rate': (_number, 'a number'), 'batch_size': (_int, 'an integer'), 'note': (_str, 'a string'),
    'machine': (_str, 'a string'), 'status': (lambda v: v in STATUSES, 'one of %s' % ', '.join(STATUSES)),
    'epochs_done': (_int, 'an integer'), 'train_seconds': (_number, 'a number'),
    'curve': (_list_of(curve_point), 'a list of [epoch, val acc, loss, seconds(, test acc)]'),
    'commands': (_dict_of(_str), 'an object of strings'), 'checkpoint': (_str, 'a string'),
    'checkpoint_sha256': (_str, 'a string'), 'finished': (_str, 'a string'), 'updated': (_str, 'a string'),
    'git_revision': (_str, 'a string'), 'repeat_seed': (_int, 'an integer'),
    'paper': (dict, None), 'paper.ann': (_optional(_number), 'a number or null'),
    'paper.snn': (_optional(_number), 'a number or null'), 'paper.steps': (_optional(_int), 'an integer or null'),
    'authors_log': (dict, None), 'authors_log.snn': (_number, 'a number'), 'authors_log.steps': (_int, 'an integer'),
    'ann': (dict, None), 'ann_float64': (dict, None),
    'snn': (dict, None), 'snn.accuracy': (_list_of(_number), 'a list of numbers'),
    'snn.correct': (_list_of(_int), 'a list of integers'), 'snn.final': (_number, 'a number'),
    'snn.first_step': (_optional(_int), 'an integer or null'),
    'snn.stable_step': (_optional(_int), 'an integer or null'),
    'snn.steps_run': (_optional(_int), 'an integer or null'), 'snn.time_steps': (_int, 'an integer'),
    'snn.n': (_int, 'an integer'), 'snn.seconds': (_number, 'a number'),
    'snn.spikes_per_image': (_number, 'a number'), 'snn.sops_per_image': (_number, 'a number'),
    'snn.spikes_per_step': (_list_of(_number), 'a list of numbers'),
    'snn.sops_per_step': (_list_of(_number), 'a list of numbers'),
    'snn.spikes_per_layer': (_list_of(_number), 'a list of numbers'),
    'snn.log_dir': (_str, 'a string'), 'snn.checkpoint_sha256': (_str, 'a string'),
    'measured': (dict, None), 'measured.epoch_seconds': (_number, 'a number'),
    'resume': (dict, None), 'resume.epoch': (_int, 'an integer'), 'resume.sha256': (_str, 'a string'),
    'resume.file': (_str, 'a string'), 'resume.bytes': (_int, 'an integer'),
    'pretrained': (dict, None), 'pretrained.file': (_str, 'a string'), 'pretrained.sha256': (_str, 'a string'),
    'pretrained.bytes': (_int, 'an integer'), 'pretrained.weights_sha256': (_str, 'a string'),
    'observed': (dict, None), 'earlier_run': (dict, None), 'observing': (dict, None),
    'variant': (dict, None), 'variant.name': (_str, 'a string'), 'variant.train_flags': (_str, 'a string'),
    'variant.change': (_str, 'a string'),
}
FIELDS.update(('%s.%s' % (part, key), value) for part in ('ann', 'ann_float64') for key, value in _ANN.items())
for _name, (_test, _what) in list(FIELDS.items()):
    if _test is dict:
        FIELDS[_name] = (lambda v: isinstance(v, dict), 'an object')

# what a record of each status must have (full precision rows have no SNN)
_NEEDS = {'done': ('ann', 'ann.correct', 'ann.accuracy', 'ann.n')}
_NEEDS_ROW = {'done': ('checkpoint_sha256',)}  # a row's own record (a repeat keeps no checkpoint digest)
_NEEDS_QUANTIZED = {'done': ('snn', 'snn.correct', 'snn.accuracy', 'snn.final', 'snn.first_step',
                             'snn.stable_step', 'snn.spikes_per_image', 'snn.sops_per_image')}


def _get(rec, name):
    value = rec
    for part in name.split('.'):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def check_record(rec, path):
    """``rec`` (a record read from or written to ``path``) when every field has its type; else a one-line
    :class:`RecordError`."""
    if not isinstance(rec, dict):
        raise RecordError('%s is not a record (a JSON object); delete it and run again (checkpoints and logs are '
                          'kept and resumed)' % path)
    for name in sorted(FIELDS):
        present, value = _get(rec, name)
        test, what = FIELDS[name]
        if present and not test(value):
            raise RecordError('%s: field %s is %s, expected %s; correct it, or delete the record and run again'
                              % (path, name, _shown(value), what))
    version = rec.get('version', VERSION)
    if version > VERSION:
        raise RecordError('%s: record version %d is newer than this code reads (%d); update the repository'
                          % (path, version, VERSION))
    needs = list(_NEEDS.get(rec.get('status'), ()))
    if 'repeat_seed' not in rec:  # a row's own record
        needs += _NEEDS_ROW.get(rec.get('status'), ())
        if rec.get('k') is not None:
            needs += _NEEDS_QUANTIZED.get(rec.get('status'), ())
    for name in needs:
        if not _get(rec, name)[0]:
            raise RecordError('%s: a record with status %r lacks field %s; delete the record and run again'
                              % (path, rec.get('status'), name))
    return rec


def _shown(value):
    text = repr(value) if not isinstance(value, str) else '"%s"' % value
    return text if len(text) <= 40 else text[:37] + '...'
