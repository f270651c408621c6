"""The run context: what every command of ``reproduce.py`` is given once and hands down whole.

A :class:`RunContext` says where a run's files go (``root``: a row's record, checkpoint and logs in
``<root>/<workspace>/``; the workspace scripts are always this repository's, :data:`ROOT`), where its data sets are
(``data_root``; None: the scripts' own search), how its scripts run (``threads`` each, by ``python``), and where it
speaks (``echo``).  Its :class:`~snn_conversion.core.record_store.RecordStore` (``records``) is the one way to the
records: a record is read once per context while its file is unchanged, and written atomically.
"""

from __future__ import absolute_import, division, print_function

import os
import sys

from snn_conversion.core.record_store import RecordStore

__all__ = ['ROOT', 'RunContext', 'AGAIN']

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# what to do about a row's damaged record once it is deleted (its numbers are lost)
AGAIN = 'run again (checkpoints and logs are kept and resumed)'


class RunContext(object):
    """Where a run writes and reads (``root``), finds its data (``data_root``), how its scripts run (``threads``,
    ``python``; default: this interpreter) and where it speaks (``echo``); ``records``: the store of the records
    under ``root``."""

    __slots__ = ('root', 'data_root', 'threads', 'python', 'echo', 'records')

    def __init__(self, root=ROOT, data_root=None, threads=1, python=None, echo=print):
        self.root, self.data_root, self.threads = root, data_root, threads
        self.python, self.echo = python or sys.executable, echo
        self.records = RecordStore(root)

    def replace(self, **changes):
        """A context like this one with ``changes`` (a fresh store when the root changes)."""
        fields = dict((name, getattr(self, name)) for name in ('root', 'data_root', 'threads', 'python', 'echo'))
        fields.update(changes)
        return RunContext(**fields)

    def out(self, row):
        """``<root>/<workspace>/``: where the row's checkpoint, logs and records go."""
        return os.path.join(self.root, row.workspace)

    def record_path(self, row):
        return self.records.row_path(row.workspace, row.id)

    def read_record(self, row):
        """The row's :class:`~snn_conversion.core.records.Record`, or None; a damaged one is a one-line error."""
        return self.records.read(self.record_path(row), dict(row=row.id), AGAIN)

    def __repr__(self):
        return 'RunContext(root=%r, data_root=%r, threads=%r)' % (self.root, self.data_root, self.threads)
