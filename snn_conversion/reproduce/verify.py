"""``python reproduce.py --verify``: re-derive every recorded number of finished rows from their shipped checkpoints.

For each selected row (finished, its final checkpoint shipped in ``<workspace>/pretrained/<row>.npz``): the
checkpoint's sha256 against the record, then the steps that do not train, each the command a user would type --
TensorFlow inference of the ANN, the float64 quantized ANN, the SNN on the full test set -- and every number the
record holds compared with what they give now: the ANN's correct count, the float64 ANN's, the SNN's correct count
at every time step, its first and stable steps, spikes and SOPs per image.  Nothing is written into the records,
RESULTS.md or the checkpoints; the scripts' output and the SNN's logs go to a throw-away folder.

``--fill`` (the one exception): where every compared number agrees, the record gets the numbers it lacks because
it was written before they were recorded (spikes and SOPs per step, spikes per layer: the figures' data), from the
run just compared; no recorded number is ever changed.
"""

from __future__ import absolute_import, division, print_function

import collections
import errno
import os
import re
import shutil
import tempfile
import time

from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import file_sha256
from snn_conversion.reproduce.oracle import float64_ann_correct
from snn_conversion.core import architectures
from snn_conversion.reproduce.data import table_data
from snn_conversion.reproduce.resume import pretrained_file
from snn_conversion.reproduce.runner import RowRun
from snn_conversion.reproduce.scripts import ann_result, parse_ann_line
from snn_conversion.reproduce.summary import summarize_logs
from snn_conversion.reproduce.tables import TABLES, chosen_rows, get_table

__all__ = ['verify_row', 'verify', 'derive', 'Derived', 'compare', 'fill_record', 'first_difference',
           'remove_stale_scratch', 'SNN_FIELDS', 'SNN_STEP_FIELDS']

# the SNN's numbers compared, as the record names them
SNN_FIELDS = ('correct', 'first_step', 'stable_step', 'spikes_per_image', 'sops_per_image')
# compared where the record has them (rows recorded since 2026-12-04; --fill adds them to older ones)
SNN_STEP_FIELDS = ('spikes_per_step', 'sops_per_step', 'spikes_per_layer')
# the throw-away folder of :func:`derive`, in the temporary folder: snn_verify_<pid of its verify>_<random>
SCRATCH_PREFIX = 'snn_verify_'
_SCRATCH_NAME = re.compile(r'^snn_verify_([0-9]+)_[A-Za-z0-9_]+$')
# what the steps that do not train give now: the inference's AnnResult, the float64 ANN's correct images and the
# SNN's SnnResult (None, None for a full-precision row)
Derived = collections.namedtuple('Derived', 'ann float64 snn')


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno != errno.ESRCH  # EPERM: it exists, another user's
    return True


def remove_stale_scratch(folder=None):
    """Delete the throw-away folders of killed verifications (:func:`derive`'s, named with the pid of their
    process, and that process gone) from ``folder`` (the temporary folder by default); returns their paths.  A
    running verification's folder, this process's, and anything named otherwise are left alone."""
    folder = tempfile.gettempdir() if folder is None else folder
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in sorted(names):
        match = _SCRATCH_NAME.match(name)
        path = os.path.join(folder, name)
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def first_difference(name, recorded, now):
    """'' when equal, else the first difference in one phrase (a list: its first differing element)."""
    if isinstance(recorded, list) and isinstance(now, list) and len(recorded) == len(now):
        for i, (a, b) in enumerate(zip(recorded, now)):
            if a != b:
                return '%s[step %d]: recorded %s, now %s' % (name, i + 1, a, b)
        return ''
    return '' if recorded == now else '%s: recorded %s, now %s' % (name, recorded, now)


def _compare(pairs):
    """[(what, difference or '')] of (name, recorded, now) triples."""
    return [(name, first_difference(name, recorded, now)) for name, recorded, now in pairs]


def derive(run, path, echo=print):
    """The numbers of ``run``'s row from the checkpoint ``path``, by the steps that do not train (a
    :class:`Derived`)."""
    row = run.row
    digest = file_sha256(path)
    scratch = tempfile.mkdtemp(prefix='%s%d_' % (SCRATCH_PREFIX, os.getpid()))  # the pid: remove_stale_scratch
    try:
        log_file = os.path.join(scratch, row.id + '.log')
        found = []
        t0 = time.time()
        echo('%s: ANN inference of %s' % (row.id, path))
        run.run_script(run.inference_argv(path), log_file, lambda line: found.append(parse_ann_line(line)),
                       'inference of %s' % row.id)
        ann = ann_result(found, time.time() - t0, digest, 'inference of %s' % row.id, log_file)
        if row.full_precision:
            return Derived(ann, None, None)
        float64 = float64_ann_correct(row, path, run.data_dir)[0]
        log_dir = os.path.join(scratch, 'logs')
        echo('%s: SNN on the test set' % row.id)
        run.run_script(run.simulate_argv(path, log_dir), log_file, None, 'simulation of %s' % row.id)
        # the steps are counted against the ANN measured now
        return Derived(ann, float64, summarize_logs(log_dir, ann.correct, digest, 0.0))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def compare(rec, derived):
    """[(what was compared, '' or the first difference)] of a record and :func:`derive`'s numbers."""
    ann, snn = derived.ann, rec.snn
    out = _compare([('ANN correct', rec.ann.correct, ann.correct), ('ANN images', rec.ann.n, ann.n)])
    if derived.snn is not None:
        float64 = rec.ann_float64
        out += _compare([('float64 ANN correct', float64.correct if float64 else None, derived.float64)])
        out += _compare([('SNN ' + name, snn.field(name), derived.snn.field(name)) for name in SNN_FIELDS
                         + tuple(name for name in SNN_STEP_FIELDS if snn.has(name))])
    return out


def fill_record(ctx, row, rec, derived):
    """Add to ``rec`` (agreeing with ``derived`` in every compared number) the SNN numbers it lacks, and write it
    to the row's record in the run context ``ctx``; returns their names."""
    if derived.snn is None:
        return []
    missing = [name for name in SNN_STEP_FIELDS if not rec.snn.has(name) and derived.snn.has(name)]
    if missing:
        rec.update(snn=rec.snn.replace(**dict((name, derived.snn.field(name)) for name in missing)))
        ctx.records.save(ctx.record_path(row), rec)
        ctx.echo('%s: record filled with %s' % (row.id, ', '.join(missing)))
    return missing


def verify_row(ctx, table, row, fill=False):
    """[(what was compared, '' or the first difference)] of one finished row; a one-line error for a row that
    is not finished or has no shipped checkpoint.  ``fill``: :func:`fill_record` when all agree."""
    rec = ctx.read_record(row)
    if not rec or not rec.done:
        raise UserError('row %s is not finished: nothing to verify (see python reproduce.py --list)' % row.id)
    run = RowRun.make(ctx, table, row)
    path = run.pretrained_file()
    if not os.path.isfile(path):
        raise UserError('%s: no shipped checkpoint %s (python reproduce.py %s ships it when the row finishes)'
                        % (row.id, path, table.name))
    digest = file_sha256(path)
    if digest != rec.checkpoint_sha256:
        return [('checkpoint sha256', 'checkpoint sha256: recorded %s, shipped file %s'
                 % (rec.checkpoint_sha256, digest))]
    derived = derive(run, path, ctx.echo)
    checks = compare(rec, derived)
    if fill and not any(d for _, d in checks):
        fill_record(ctx, row, rec, derived)
    return checks


def verify(ctx, tables=None, rows=None, fill=False):
    """Verify the finished rows of ``tables`` (all when None; ``rows``: of the one table named); prints one
    table of results and returns whether every row agrees.  With no table named, rows not finished are left out;
    a row named in ``rows`` must be finished.  First the throw-away folders of killed verifications go
    (:func:`remove_stale_scratch`)."""
    remove_stale_scratch()
    chosen = []
    if rows and not tables:  # row ids are unique across the tables
        known = dict((r.id, (t, r)) for t in TABLES.values() for r in t.rows)
        unknown = [r for r in rows if r not in known]
        if unknown:
            raise UserError('no table has row %s (see python reproduce.py --list)' % ', '.join(unknown))
        chosen = [known[r] for r in rows]
    skipped = []
    for name in [] if chosen else tables or list(TABLES):
        table = get_table(name)
        for row in chosen_rows(table, rows):
            rec = ctx.read_record(row)
            reason = None if rows else _not_verifiable(ctx, table, row, rec) or _no_data(ctx, table, row)
            if reason:
                skipped.append((row, reason))
            else:
                chosen.append((table, row))
    if not chosen:
        kinds = sorted(set(why.split(' (')[0] for _, why in skipped))
        raise UserError('no finished row with a shipped checkpoint to verify%s' % (
            '' if not skipped else ' (%s)' % '; '.join('%s: %d row%s' % (kind, n, 's' if n > 1 else '') for kind, n in
                                                       ((k, sum(why.startswith(k) for _, why in skipped))
                                                        for k in kinds))))
    results = [(row, verify_row(ctx, table, row, fill)) for table, row in chosen]
    echo = ctx.echo
    echo('| row | compared | result |')
    echo('|---|---|---|')
    agree = True
    for row, checks in results:
        diffs = [d for _, d in checks if d]
        agree = agree and not diffs
        echo('| %s | %s | %s |' % (row.id, ', '.join(what for what, _ in checks),
                                    'equal' if not diffs else '; '.join(diffs)))
    for row, reason in skipped:
        echo('| %s | - | not verified: %s |' % (row.id, reason))
    return agree


def _no_data(ctx, table, row):
    """Why a row of a whole table cannot be verified for want of its data set here (None: the data is here)."""
    try:
        table_data(ctx.replace(echo=lambda line: None), table, row)  # (a pre-check: said once, when run)
    except UserError:
        return 'its data set is not here (%s)' % architectures.get(row.arch).dataset
    return None


def _not_verifiable(ctx, table, row, rec):
    """Why a row of a whole table cannot be verified here (None: it can): not run here, not finished, or its
    final checkpoint not shipped."""
    if not rec:
        return 'not run here (no record)'
    if not rec.done:
        return 'not finished (%s)' % (rec.status or 'no status')
    if not os.path.isfile(pretrained_file(ctx.out(row), row.id)):
        return ('%s not yet shipped (finished before checkpoints were shipped; python reproduce.py %s --rows %s '
                '--restart trains it again)' % ('full precision' if row.full_precision else 'checkpoint',
                                                 table.name, row.id))
    return None
