"""The records' files: :class:`RecordStore` reads a record (``<root>/<workspace>/records/<name>.json``, a repeat's
in ``records/repeats/``) once while its file is unchanged, and writes it atomically, checked first.

Every reader and writer of records goes through a store (the table runner's run context holds one,
:class:`~snn_conversion.reproduce.context.RunContext`), so a record is parsed and checked once however many readers
ask for it, each reader gets its own copy to change, and a record on disk always reads back.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re

from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import atomic_write_text
from snn_conversion.core.provenance import now_utc
from snn_conversion.core.records import Record, check_record

__all__ = ['RecordStore']


def _stamp(path):
    """What tells a file's versions apart: a write replaces it (a new inode) or changes its size or times."""
    stat = os.stat(path)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def _expect(value_of, expected):
    """ValueError unless the record whose field values ``value_of(name)`` gives (None: not a record) has the
    ``expected`` {field: value}."""
    if value_of is None or any(value_of(name) != value for name, value in expected.items()):
        raise ValueError('it is not the record of %s' % ', '.join('%s %s' % kv for kv in expected.items()))


class RecordStore(object):
    """The records below ``root`` (``<root>/<workspace>/records/<name>.json``, a repeat's in ``records/repeats/``):
    a file is read and checked once while it is unchanged (each reader gets its own copy), and written atomically,
    checked first, so that a record on disk always reads back."""

    _REPEAT = re.compile(r'^(.+)_seed(\d+)\.json$')

    def __init__(self, root):
        self.root = root
        self._read = {}  # path: (the file's stat, its Record)

    def row_path(self, workspace, name):
        return os.path.join(self.root, workspace, 'records', name + '.json')

    def repeat_path(self, workspace, name, seed):
        return os.path.join(self.root, workspace, 'records', 'repeats', '%s_seed%d.json' % (name, seed))

    def repeat_paths(self, workspace, name):
        """{seed: path} of the repeats of run ``name`` (a row's id, or with a variant's name)."""
        folder = os.path.dirname(self.repeat_path(workspace, name, 0))
        found = [self._REPEAT.match(f) for f in sorted(os.listdir(folder))] if os.path.isdir(folder) else []
        return dict((int(m.group(2)), os.path.join(folder, m.group(0))) for m in found if m and m.group(1) == name)

    def read(self, path, expected, again):
        """The record at ``path`` (see :meth:`load`), or None when there is none."""
        return self.load(path, expected, again) if os.path.isfile(path) else None

    def load(self, path, expected, again):
        """The record at ``path``, checked to have the ``expected`` {field: value} (it is this run's); a damaged one
        is a one-line error: restore it from git, or delete it and ``again`` (what to do then; its numbers are
        lost)."""
        try:
            stamp = _stamp(path)
            if self._read.get(path, (None,))[0] != stamp:
                with open(path) as f:
                    obj = json.load(f)
                _expect(obj.get if isinstance(obj, dict) else None, expected)
                self._read[path] = (stamp, Record.of(obj, path))
            _expect(self._read[path][1].field, expected)
        except (OSError, UnicodeDecodeError) as e:
            raise UserError('%s cannot be read (%s)' % (path, getattr(e, 'strerror', None) or e))
        except ValueError as e:
            raise UserError('%s is damaged (%s); restore it from git (git checkout -- %s), or delete it (its numbers '
                            'are lost) and %s' % (path, e, os.path.relpath(path), again))
        return self._read[path][1].copy()

    def save(self, path, record, **fields):
        """Update ``record`` with ``fields`` and its time stamp, and write it to ``path`` atomically."""
        record.update(updated=now_utc(), **fields)
        check_record(record.stored(), path)  # a record is written only as one that reads back
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        atomic_write_text(path, record.to_json())
        self._read[path] = (_stamp(path), record.copy())
