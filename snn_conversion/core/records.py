"""The record of a table row (``<workspace>/records/<row>.json``) or of a repeat: its fields, their types and ranges
checked on every read and every write (a damaged or hand-edited record is refused in one line naming the file and
the field, never a traceback or a silent wrong table), the typed :class:`Record` the rest of the code reads, and the
:class:`~snn_conversion.core.record_store.RecordStore` reads and writes the files.

A record is versioned (``version``, :data:`VERSION`).  Fields are optional unless the record's ``status`` needs
them (a finished row has its ANN result, a quantized one its SNN's); unknown fields are allowed (a newer writer's)
and kept.  A :class:`Record` is the JSON object behind named properties -- nested objects as small value types
(:class:`AnnResult`, :class:`SnnResult`, :class:`ResumeEntry` ...), the learning curve as :class:`CurvePoint` s --
and writes back byte for byte what it read.  Nothing outside this module reads a record's field by its name as a
string (``tests/test_layering.py`` checks it).
"""

from __future__ import absolute_import, division, print_function

import collections
import json
import math
import numbers
import os
import re

from snn_conversion.core.errors import UserError

__all__ = ['VERSION', 'FIELDS', 'STATUSES', 'RecordError', 'check_record', 'curve_point', 'CurvePoint', 'Entry',
           'AnnResult', 'SnnResult', 'Paper', 'AuthorsLog', 'Measured', 'ResumeEntry', 'Pretrained', 'Observed',
           'VariantEntry', 'Record']

VERSION = 1
STATUSES = ('training', 'trained', 'inferred', 'simulated', 'done')


class RecordError(UserError):
    """A record with a field of the wrong type (one line: the file, the field, what it holds, what it should)."""


# ---- the types and ranges a field may have
def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _finite(v):
    return _number(v) and math.isfinite(v)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _str(v):
    return isinstance(v, str)


def _sha256(v):
    return isinstance(v, str) and _HEX64.match(v) is not None


_HEX64 = re.compile(r'^[0-9a-f]{64}$')


def _within(lo, hi=None):
    """A finite number in [lo, hi] (no upper bound when ``hi`` is None)."""
    return lambda v: _finite(v) and v >= lo and (hi is None or v <= hi)


def _int_within(lo, hi=None):
    return lambda v: _int(v) and v >= lo and (hi is None or v <= hi)


def _optional(test):
    return lambda v: v is None or test(v)


def _list_of(test):
    return lambda v: isinstance(v, list) and all(test(x) for x in v)


def _dict_of(test):
    return lambda v: isinstance(v, dict) and all(_str(k) and test(x) for k, x in v.items())


_PERCENT = (_within(0, 100), 'a percentage (0-100)')
_SECONDS = (_within(0), 'a number of seconds (>= 0)')
_POSITIVE = (_int_within(1), 'an integer >= 1')
_COUNT = (_int_within(0), 'an integer >= 0')
_SHA256 = (_sha256, 'a sha256 (64 hex digits)')


def curve_point(v):
    """A learning-curve point: [epoch, val acc %, train loss, seconds] and, observed, [.., test acc %]."""
    return (isinstance(v, list) and len(v) in (4, 5) and _int(v[0]) and v[0] >= 1 and _within(0, 100)(v[1])
            and _within(0)(v[2]) and _within(0)(v[3]) and (len(v) == 4 or _within(0, 100)(v[4])))


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


# (test, what it should be) of every field, nested fields as 'parent.child'; the ranges a field's value must lie
# in across fields (counts within their test set, steps within T, epochs within the budget) are :data:`_RELATIONS`
_ANN = {'accuracy': _PERCENT, 'correct': _COUNT, 'n': _POSITIVE, 'seconds': _SECONDS, 'checkpoint_sha256': _SHA256}
_STEP = (_optional(_int_within(1)), 'a time step (an integer >= 1) or null')
FIELDS = {
    'version': _POSITIVE, 'table': (_str, 'a string'), 'seed': (_str, 'a string'),
    'row': (_str, 'a string'), 'workspace': (_str, 'a string'), 'architecture': (_str, 'a string'),
    'network': (_str, 'a string'), 'label': (_str, 'a string'),
    'k': (_optional(_int_within(0)), 'an integer >= 0 or null'),
    'B': (_optional(_int_within(1)), 'an integer >= 1 or null'),
    'budget_epochs': _POSITIVE,
    'learning_rate': (lambda v: _finite(v) and v > 0, 'a number > 0'),
    'batch_size': _POSITIVE, 'note': (_str, 'a string'),
    'machine': (_str, 'a string'), 'status': (lambda v: v in STATUSES, 'one of %s' % ', '.join(STATUSES)),
    'epochs_done': _COUNT, 'train_seconds': _SECONDS,
    'curve': (_list_of(curve_point), 'a list of [epoch >= 1, val acc (0-100), loss (>= 0), seconds (>= 0)'
                                     '(, test acc (0-100))]'),
    'commands': (_dict_of(_str), 'an object of strings'), 'checkpoint': (_str, 'a string'),
    'checkpoint_sha256': _SHA256, 'finished': (_str, 'a string'), 'updated': (_str, 'a string'),
    'git_revision': (_str, 'a string'), 'repeat_seed': _COUNT,
    'paper': (dict, None), 'paper.ann': (_optional(_within(0, 100)), 'a percentage (0-100) or null'),
    'paper.snn': (_optional(_within(0, 100)), 'a percentage (0-100) or null'), 'paper.steps': _STEP,
    'authors_log': (dict, None), 'authors_log.snn': _PERCENT,
    'authors_log.steps': (_int_within(1), 'a time step (an integer >= 1)'),
    'ann': (dict, None), 'ann_float64': (dict, None),
    'snn': (dict, None), 'snn.accuracy': (_list_of(_within(0, 100)), 'a list of percentages (0-100)'),
    'snn.correct': (_list_of(_int_within(0)), 'a list of integers >= 0'), 'snn.final': _PERCENT,
    'snn.first_step': _STEP, 'snn.stable_step': _STEP, 'snn.steps_run': _STEP,
    'snn.time_steps': _POSITIVE, 'snn.n': _POSITIVE, 'snn.seconds': _SECONDS,
    'snn.spikes_per_image': (_within(0), 'a number >= 0'), 'snn.sops_per_image': (_within(0), 'a number >= 0'),
    'snn.spikes_per_step': (_list_of(_within(0)), 'a list of numbers >= 0'),
    'snn.sops_per_step': (_list_of(_within(0)), 'a list of numbers >= 0'),
    'snn.spikes_per_layer': (_list_of(_within(0)), 'a list of numbers >= 0'),
    'snn.log_dir': (_str, 'a string'), 'snn.checkpoint_sha256': _SHA256,
    'measured': (dict, None), 'measured.epoch_seconds': (lambda v: _finite(v) and v > 0, 'a number of seconds > 0'),
    'measured.data': (_str, 'a string'), 'measured.part_seconds': _SECONDS,
    'measured.images': _POSITIVE, 'measured.of': _POSITIVE,
    'measured.when': (_str, 'a string'), 'measured.command': (_str, 'a string'), 'measured.towers': _POSITIVE,
    'resume': (dict, None), 'resume.epoch': _POSITIVE, 'resume.sha256': _SHA256,
    'resume.file': (_str, 'a string'), 'resume.bytes': _POSITIVE, 'resume.exported': (_str, 'a string'),
    'resume.replaces': (dict, None), 'resume.replaces.epoch': _POSITIVE,
    'resume.replaces.sha256': _SHA256,
    'pretrained': (dict, None), 'pretrained.file': (_str, 'a string'), 'pretrained.sha256': _SHA256,
    'pretrained.bytes': _POSITIVE, 'pretrained.weights_sha256': _SHA256,
    'observed': (dict, None), 'observed.when': (_str, 'a string'),
    'observed.command': (_optional(_str), 'a string or null'), 'earlier_run': (dict, None), 'observing': (dict, None),
    'variant': (dict, None), 'variant.name': (_str, 'a string'), 'variant.train_flags': (_str, 'a string'),
    'variant.change': (_str, 'a string'), 'subset': (_str, 'a string'), 'device': (_str, 'a string'),
}
FIELDS.update(('%s.%s' % (part, key), value) for part in ('ann', 'ann_float64') for key, value in _ANN.items())
for _name, (_test, _what) in list(FIELDS.items()):
    if _test is dict:
        FIELDS[_name] = (lambda v: isinstance(v, dict), 'an object')
# what a row's earlier run (``earlier_run``: its results before it was trained again) keeps is checked as the
# record's own fields are
_EARLIER = ('ann', 'ann_float64', 'snn', 'checkpoint_sha256', 'curve', 'train_seconds', 'epochs_done', 'pretrained')


def _steps_within_t(rec):
    snn = rec.get('snn')
    if not isinstance(snn, dict) or not _int(snn.get('time_steps')):
        return None
    for name in ('first_step', 'stable_step', 'steps_run'):
        if _int(snn.get(name)) and snn[name] > snn['time_steps']:
            return 'snn.%s' % name, snn[name], 'a time step within T = %d' % snn['time_steps']
    for name in ('accuracy', 'correct', 'spikes_per_step', 'sops_per_step'):
        if isinstance(snn.get(name), list) and len(snn[name]) > snn['time_steps']:
            return ('snn.%s' % name, '%d values' % len(snn[name]),
                    'at most one value per time step (T = %d)' % snn['time_steps'])
    return None


def _counts_within_n(rec):
    for part in ('ann', 'ann_float64', 'snn'):
        sub = rec.get(part)
        if not isinstance(sub, dict) or not _int(sub.get('n')):
            continue
        correct = sub.get('correct')
        for value in correct if isinstance(correct, list) else [correct]:
            if _int(value) and value > sub['n']:
                return '%s.correct' % part, value, 'a count within its %d test images' % sub['n']
    return None


def _epochs_within_budget(rec):
    budget = rec.get('budget_epochs')
    if not _int(budget):
        return None
    if _int(rec.get('epochs_done')) and rec['epochs_done'] > budget:
        return 'epochs_done', rec['epochs_done'], 'within the budget of %d epochs' % budget
    for point in rec.get('curve') or ():
        if curve_point(point) and point[0] > budget:
            return 'curve', 'epoch %d' % point[0], 'epochs within the budget of %d' % budget
    resume = rec.get('resume')
    if isinstance(resume, dict) and _int(resume.get('epoch')) and resume['epoch'] > budget:
        return 'resume.epoch', resume['epoch'], 'within the budget of %d epochs' % budget
    return None


_RELATIONS = (_steps_within_t, _counts_within_n, _epochs_within_budget)


def _get(rec, name):
    value = rec
    for part in name.split('.'):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


# what a record of each status must have (full precision rows have no SNN)
_NEEDS = {'done': ('ann', 'ann.correct', 'ann.accuracy', 'ann.n')}
_NEEDS_ROW = {'done': ('checkpoint_sha256',)}  # a row's own record (a repeat keeps no checkpoint digest)
_NEEDS_QUANTIZED = {'done': ('snn', 'snn.correct', 'snn.accuracy', 'snn.final', 'snn.first_step',
                             'snn.stable_step', 'snn.spikes_per_image', 'snn.sops_per_image')}
# what to do about a bad record: its numbers are what a run measured, so it is mended or restored, never dropped
def _mend(path):
    return 'correct it, or restore it from git (git checkout -- %s)' % os.path.relpath(path)


def _check_fields(rec, path, prefix=''):
    for name in sorted(FIELDS):
        present, value = _get(rec, name)
        test, what = FIELDS[name]
        if present and not test(value):
            raise RecordError('%s: field %s%s is %s, expected %s; %s'
                              % (path, prefix, name, _shown(value), what, _mend(path)))
    for relation in _RELATIONS:
        wrong = relation(rec)
        if wrong:
            name, value, what = wrong
            raise RecordError('%s: field %s%s is %s, expected %s; %s'
                              % (path, prefix, name, _shown(value), what, _mend(path)))


def check_record(rec, path):
    """``rec`` (a record read from or written to ``path``) when every field has its type and its value lies in
    its range; else a one-line :class:`RecordError` naming the file and the field."""
    if not isinstance(rec, dict):
        raise RecordError('%s is not a record (a JSON object); restore it from git (git checkout -- %s)'
                          % (path, os.path.relpath(path)))
    _check_fields(rec, path)
    earlier = rec.get('earlier_run')
    if isinstance(earlier, dict):
        _check_fields(dict((key, earlier[key]) for key in _EARLIER if key in earlier), path, 'earlier_run.')
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
            raise RecordError('%s: a record with status %r lacks field %s; %s'
                              % (path, rec.get('status'), name, _mend(path)))
    return rec


def _shown(value):
    text = repr(value) if not isinstance(value, str) else '"%s"' % value
    return text if len(text) <= 40 else text[:37] + '...'


# ---- the typed record --------------------------------------------------------------------------------------------
def _plain(value):
    """``value`` as the record's JSON keeps it: entries, records and curve points as their stored forms."""
    if isinstance(value, (Entry, CurvePoint)):
        return value.stored()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    return value


def _copied(value):
    """A stored value that its reader may change without changing the record (lists and objects copied)."""
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return dict((k, _copied(v)) for k, v in value.items())
    return value


def _fields(cls):
    """A property for each of the class's ``NAMES`` that it does not define itself: the field's value (None when
    absent), a nested object typed by ``TYPES``."""
    for name in cls.NAMES:
        if name not in cls.__dict__:
            setattr(cls, name, property(lambda self, name=name: self.field(name), doc='the record\'s ' + name))
    return cls


class Entry(object):
    """A JSON object of a record, read through one property per field (None where the field is absent); a value:
    :meth:`replace` gives a changed copy, :meth:`stored` the object as the record keeps it."""

    NAMES, TYPES = (), {}
    __slots__ = ('_stored',)

    def __init__(self, stored=None, **fields):
        self._stored = dict(stored or {})
        self._stored.update((name, _plain(value)) for name, value in fields.items())

    def field(self, name):
        """The value of field ``name`` (a nested object typed by ``TYPES``; None when absent)."""
        value = self._stored.get(name)
        kind = self.TYPES.get(name)
        return _copied(value) if value is None or kind is None else kind(value)

    def has(self, name):
        """Whether the field is there (a field may hold null)."""
        return name in self._stored

    def present(self):
        """The names of the fields it has."""
        return sorted(self._stored)

    def replace(self, **fields):
        return type(self)(self._stored, **fields)

    def without(self, *names):
        """A copy without the fields ``names``."""
        return type(self)(dict((k, v) for k, v in self._stored.items() if k not in names))

    def stored(self):
        return _copied(self._stored)

    def __eq__(self, other):
        return type(other) is type(self) and other._stored == self._stored

    def __bool__(self):
        return bool(self._stored)

    __hash__ = None

    def __repr__(self):
        return '%s(%r)' % (type(self).__name__, self._stored)


@_fields
class AnnResult(Entry):
    """An ANN's test result (``ann``: TensorFlow's inference; ``ann_float64``: the float64 quantized ANN)."""
    NAMES = ('accuracy', 'correct', 'n', 'seconds', 'checkpoint_sha256')


@_fields
class SnnResult(Entry):
    """The SNN's numbers (``snn``): per time step (``accuracy``, ``correct``, cumulative spikes and SOPs per image),
    first and stable step, totals, and the log folder they were read from."""
    NAMES = ('accuracy', 'correct', 'n', 'time_steps', 'final', 'first_step', 'stable_step', 'steps_run',
             'spikes_per_image', 'sops_per_image', 'spikes_per_step', 'sops_per_step', 'spikes_per_layer', 'seconds',
             'log_dir', 'checkpoint_sha256')


@_fields
class Paper(Entry):
    """The paper's numbers of the row (``paper``): ANN %, SNN %, steps."""
    NAMES = ('ann', 'snn', 'steps')


@_fields
class AuthorsLog(Entry):
    """The authors' published log of a row the paper gives no numbers for (``authors_log``)."""
    NAMES = ('snn', 'steps')


@_fields
class Measured(Entry):
    """One timing epoch (``measured``); ``images`` of ``of`` training images when projected from part of one;
    ``towers``: the towers it ran where fewer than the row's (a CPU, which runs them one after another)."""
    NAMES = ('epoch_seconds', 'when', 'command', 'data', 'part_seconds', 'images', 'of', 'towers')

    @property
    def projected(self):
        return self.has('of')


@_fields
class ResumeEntry(Entry):
    """The shipped resume state (``resume``); ``replaces``: the one an export stopped half-way still accepts."""
    NAMES = ('epoch', 'sha256', 'bytes', 'file', 'exported', 'replaces')


ResumeEntry.TYPES = {'replaces': ResumeEntry}


@_fields
class Pretrained(Entry):
    """The shipped final checkpoint (``pretrained``)."""
    NAMES = ('file', 'sha256', 'bytes', 'weights_sha256')


@_fields
class Observed(Entry):
    """When and how a finished row's test accuracy of every epoch was observed (``observed``)."""
    NAMES = ('when', 'command')


@_fields
class VariantEntry(Entry):
    """The change of recipe a repeat was trained with (``variant``)."""
    NAMES = ('name', 'train_flags', 'change')


@_fields
class Record(Entry):
    """A row's or a repeat's record: one property per field of :data:`FIELDS` (``earlier_run`` a Record of the
    fields an earlier run kept); changed by :meth:`update` and :meth:`drop`, read and written by
    :class:`~.record_store.RecordStore`."""

    NAMES = tuple(sorted(name for name in FIELDS if '.' not in name))
    TYPES = dict(ann=AnnResult, ann_float64=AnnResult, snn=SnnResult, paper=Paper, authors_log=AuthorsLog,
                 measured=Measured, resume=ResumeEntry, pretrained=Pretrained, observed=Observed, variant=VariantEntry)

    @classmethod
    def of(cls, obj, path):
        """The record of the JSON object ``obj`` read from (or bound for) ``path``, checked (:func:`check_record`)."""
        return cls(check_record(obj, path))

    def to_json(self):
        """The record's file: indented, key-sorted JSON."""
        return json.dumps(self._stored, indent=1, sort_keys=True) + '\n'

    @property
    def curve(self):
        return [CurvePoint.of(c) for c in self._stored.get('curve', ())]

    @property
    def commands(self):
        """{step: the command line it ran} ({} when none ran)."""
        return dict(self._stored.get('commands') or {})

    @property
    def observing(self):
        """{epoch: [val acc, test acc]} an observation under way has seen."""
        return dict((int(e), list(v)) for e, v in (self._stored.get('observing') or {}).items())

    @property
    def done(self):
        """Finished (status 'done')."""
        return self._stored.get('status') == 'done'

    @property
    def trained_epochs(self):
        """The epochs the record says were trained (on whatever machine ran them): its ``epochs_done`` or its
        curve's last epoch, whichever is further."""
        return max([self._stored.get('epochs_done') or 0] + [c.epoch for c in self.curve])

    def update(self, **fields):
        """Set fields (typed values or their stored forms); a name that is no field of :data:`FIELDS` is a bug."""
        unknown = sorted(set(fields) - set(self.NAMES))
        if unknown:
            raise TypeError('no record field %s' % ', '.join(unknown))
        self._stored.update((name, _plain(value)) for name, value in fields.items())
        return self

    def update_missing(self, **fields):
        """Set those of ``fields`` the record lacks."""
        return self.update(**dict((name, v) for name, v in fields.items() if name not in self._stored))

    def drop(self, *names):
        """Remove fields; True when one of them was there."""
        return [self._stored.pop(name, None) for name in names if name in self._stored] != []

    def keep(self, names):
        """A record of those of the fields ``names`` this one has (what an earlier run keeps)."""
        return Record(dict((name, _copied(self._stored[name])) for name in names if name in self._stored))

    def set_command(self, step, shown):
        self.update(commands=dict(self.commands, **{step: shown}))

    def pop_command(self, step):
        """The command of ``step``, removed from the record (None when it has none)."""
        commands = self.commands
        shown = commands.pop(step, None)
        self.update(commands=commands)
        return shown

    def copy(self):
        return Record(self.stored())


Record.TYPES['earlier_run'] = Record

