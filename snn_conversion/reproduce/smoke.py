"""``python reproduce.py TABLE --rows ROW --data_root DIR --smoke``: a row's whole path at a tiny budget.

Every step of the row runs as it would at the paper's budget -- each training phase (one epoch each, on at most
:data:`TRAIN_IMAGES` training images), inference, the float64 ANN, the simulation (at most :data:`TEST_IMAGES`
test images, T at most :data:`TIME_STEPS`), the record and its RESULTS.md section -- into ``<workspace>/smoke/``
(records in ``<workspace>/smoke/records/<row>.json``, in the records' schema).  The real records, checkpoints and
RESULTS.md are never touched.  A smoke run starts afresh each time (its folder is a scratch one) and ends in one
summary line; it passes when the SNN equals the float64 quantized ANN at the last step (a full-precision row: when
it trains and evaluates).
"""

from __future__ import absolute_import, division, print_function

import glob
import os
import shutil

from snn_conversion.core import architectures
from snn_conversion.reproduce.report import row_section
from snn_conversion.reproduce.data import table_data
from snn_conversion.reproduce.runner import RowRun
from snn_conversion.reproduce.tables import Phase, chosen_rows, get_table

__all__ = ['TRAIN_IMAGES', 'TEST_IMAGES', 'TIME_STEPS', 'smoke_row', 'smoke_table', 'smoke_folder']

TRAIN_IMAGES, TEST_IMAGES, TIME_STEPS = 500, 200, 50


def smoke_row(row):
    """``row`` at the smoke budget: one epoch of each of its phases, T at most :data:`TIME_STEPS`, its
    ``smoke_flags`` given to every script, and a batch small enough for two steps of :data:`TRAIN_IMAGES` when the
    row trains several towers side by side."""
    phases = tuple(Phase(1, p.learning_rate) for p in row.phases)
    steps = row.time_steps or architectures.get(row.arch).defaults['time_steps']
    return row._replace(epochs=len(phases), phases=phases, time_steps=min(steps, TIME_STEPS),
                        batch_size=min(row.batch_size, max(1, TRAIN_IMAGES // (2 * row.towers))),
                        train_flags=row.train_flags + row.smoke_flags, sim_flags=row.sim_flags + row.smoke_flags)


def smoke_folder(ctx, row):
    """``<workspace>/smoke/`` (below the run context's root), where a row's smoke run writes."""
    return os.path.join(ctx.out(row), 'smoke')


def _clear(run):
    """A smoke run starts afresh: its earlier checkpoint, training state, record, logs and shipped copies go."""
    out = run.out
    for path in [p for folder in ('', 'records', 'pretrained', 'resume')
                 for p in glob.glob(os.path.join(out, folder, run.row.id + '.*'))]:
        if not path.endswith('.lock'):
            os.remove(path)
    if not run.row.full_precision:
        shutil.rmtree(run.log_dir(), ignore_errors=True)


def _verdict(rec):
    """(passed, the summary's result part) of a finished smoke record."""
    ann = rec.ann
    if rec.snn is None:
        return True, 'ANN %.2f %% on %d images (full precision: no SNN)' % (ann.accuracy, ann.n)
    snn, f64 = rec.snn, rec.ann_float64
    same = snn.correct[-1] == f64.correct
    unsettled = not same and snn.steps_run == snn.time_steps
    return same, ('ANN %.2f %%, float64 ANN %d, SNN %d of %d images at T=%d: %s' % (
        ann.accuracy, f64.correct, snn.correct[-1], snn.n, snn.time_steps,
        'SNN = float64 ANN' if same else 'SNN != float64 ANN%s' % (
            ' (still spiking at T: a network trained this little can need far more steps)' if unsettled else '')))


def smoke_table(ctx, name, rows=None):
    """Run the rows ``rows`` of table ``name`` (all when None) at the smoke budget in the run context ``ctx``;
    returns whether every one passed.  Prints one summary line per row (and its RESULTS.md section, as the real
    row's would read)."""
    table = get_table(name)
    passed = True
    echo = ctx.echo
    for real in chosen_rows(table, rows):
        row = smoke_row(real)
        # (a subset's frames of the given events go with the smoke run, never into the workspace's data folder)
        data = table_data(ctx, table, row, os.path.join(smoke_folder(ctx, row), 'data'))

        def make():
            run = RowRun(ctx, table, row, data, out=smoke_folder(ctx, row))
            run.num_test = TEST_IMAGES
            run.extra_train_flags = ('--num_train', str(TRAIN_IMAGES))
            return run
        run = make()
        with run.lock():
            _clear(run)
            run = make()  # (its record read again: none)
            rec = run.run()
        ok, result = _verdict(rec)
        passed = passed and ok
        for line in row_section(ctx, table, row, rec):
            echo(line)
        echo('smoke %s / %s: %s%s, %s; %s (record %s)' % (
            table.name, real.id, row.recipe.replace('epochs', 'epoch'),
            ' (a small network: %s)' % ' '.join(real.smoke_flags) if real.smoke_flags else '', result,
            'ok' if ok else 'FAILED', os.path.relpath(run.record_file, ctx.root)))
    return passed
