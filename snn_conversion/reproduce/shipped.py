"""The files a clone ships beside the records: finished rows' final checkpoints (``<workspace>/pretrained/``) and
part-trained runs' resume states (``<workspace>/resume/``), checked against their records.

A shipped file is described by its record (sha256, epoch); a file whose record describes another one is stale, and
a file whose record is missing (a bad merge, a ``git rm``) is an error for RESULTS.md and a flag in ``--list``:
without its record the row would read as not started while its file is shipped.
"""

from __future__ import absolute_import, division, print_function

import os

from snn_conversion.reproduce.resume import pretrained_file, resume_file
from snn_conversion.reproduce.tables import TABLES, all_rows
from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import file_sha256

__all__ = ['shipped_state', 'shipped_sentence', 'orphans', 'check_orphans']


def shipped_state(ctx, row, rec):
    """What a finished row's shipped checkpoint is (below the run context ``ctx``'s root): 'shipped' (there, its
    sha256 the record's), 'stale' (there, but another file: the record does not describe it), 'missing' (not in
    the repository); None for a row not done."""
    if not rec or not rec.done:
        return None
    shipped = rec.pretrained
    path = os.path.join(ctx.out(row), shipped.file) if shipped else None
    if not path or not os.path.isfile(path):
        return 'missing'
    return 'shipped' if file_sha256(path) == rec.checkpoint_sha256 else 'stale'


def shipped_sentence(ctx, table):
    """One sentence: the finished rows' shipped checkpoints (``--verify`` re-derives their numbers), and the
    finished rows whose checkpoint is not in the repository or is not the recorded one; '' when no row is
    finished."""
    ships, missing, stale = [], [], []
    for row in table.rows:
        rec = ctx.read_record(row)
        state = shipped_state(ctx, row, rec)
        if state == 'shipped':
            ships.append('`%s/%s` (%.1f MB)' % (row.workspace, rec.pretrained.file, rec.pretrained.bytes / 1e6))
        elif state is not None:
            (stale if state == 'stale' else missing).append(row.id)
    text = []
    if stale:
        text.append('**Stale**: the shipped checkpoint of %s is not the one its record describes (sha256 differs); '
                    'its numbers are not verified (`python reproduce.py %s --rows ROW --restart` trains it again).'
                    % (', '.join(stale), table.name))
    if ships:
        text.append('Shipped checkpoints: %s; `python reproduce.py --verify --rows ROW` re-derives a row\'s numbers '
                    'from its checkpoint.' % ', '.join(ships))
    if missing:
        text.append('Finished before checkpoints were shipped, checkpoint not in the repository: %s (`python '
                    'reproduce.py %s --rows ROW --restart` trains it again, deterministically on one processor model, '
                    'and ships it).' % (', '.join(missing), table.name))
    return ' '.join(text)


def orphans(ctx):
    """The shipped files below the run context ``ctx``'s root (a row's final checkpoint or resume state, a repeat's
    resume state) whose record is missing -- a bad merge, a ``git rm``: without it the row would show as not started
    while its file is shipped."""
    out = []
    root = ctx.root
    for table in TABLES.values():
        for row in table.rows:
            if os.path.isfile(ctx.record_path(row)):
                continue
            for path in (pretrained_file(ctx.out(row), row.id), resume_file(ctx.out(row), row.id)):
                if os.path.isfile(path):
                    out.append((path, ctx.record_path(row)))
    for workspace in sorted(set(row.workspace for _, row in all_rows())):
        folder = os.path.join(root, workspace, 'resume', 'repeats')
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
            record = os.path.join(root, workspace, 'records', 'repeats', name[:-len('.npz')] + '.json')
            if name.endswith('.npz') and not os.path.isfile(record):
                out.append((os.path.join(folder, name), record))
    return out


def check_orphans(ctx):
    """A one-line error naming a shipped file whose record is missing (the first, and how many more)."""
    root = ctx.root
    found = orphans(ctx)
    if found:
        raise UserError('%s is shipped but its record %s is missing%s: restore the record from git (git checkout -- '
                        '%s); RESULTS.md is left as it was'
                        % (os.path.relpath(found[0][0], root), os.path.relpath(found[0][1], root),
                           ' (and %d more such file%s)' % (len(found) - 1, 's' if len(found) > 2 else '')
                           if len(found) > 1 else '', os.path.relpath(found[0][1])))
