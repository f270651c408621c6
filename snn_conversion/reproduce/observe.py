"""Observations around a table's rows that leave the rows themselves as they are: one epoch timed before a row
starts (``--measure``), and each epoch's test accuracy added to a finished row by training it again (``--observe``).
"""

from __future__ import absolute_import, division, print_function

import os
import shutil
import tempfile

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import load_checkpoint
from snn_conversion.core.errors import UserError
from snn_conversion.core.machine import gpu_visible
from snn_conversion.core.provenance import now_utc
from snn_conversion.core.records import Measured, Observed, Record
from snn_conversion.data.locate import find_dataset_dir
from snn_conversion.data.synthetic import SIZES, generated_sizes, write_synthetic
from snn_conversion.reproduce.data import table_data
from snn_conversion.reproduce.runner import RowRun
from snn_conversion.reproduce.training import checkpoint_epoch
from snn_conversion.reproduce.scripts import parse_epoch_line, parse_part_line
from snn_conversion.reproduce.tables import chosen_rows, get_table

__all__ = ['measure_row', 'observe_row', 'measure_table', 'observe_table']


def measure_row(run, scratch, data=None, images=None, part_of=None):
    """Time one training epoch of a row that has not started, on a throw-away checkpoint in ``scratch``;
    the record keeps the time (``measured``; ``data``: what it was timed on, when not the real data set), the row's
    own files are not touched.  ``images``: time an epoch of the first N training images only (the script validates
    on the same share) and project the whole epoch from it linearly; the record says so (``images``, ``of``,
    ``part_seconds``).  ``part_of``: (training images, the real set's) of generated data smaller than the real set,
    timed whole (or ``images`` of it) and projected alike."""
    found, part = [], []

    def on_line(line):
        point = parse_epoch_line(line)
        if point:
            found.append(point.seconds)
        used = parse_part_line(line)
        if used:
            part.append(used)
    argv = run.train_argv(1, os.path.join(scratch, run.row.id + '.npz'), observe=False)
    if images is not None:
        argv += ['--num_train', str(images)]
    towers = run.row.towers if run.row.towers > 1 and not gpu_visible() else None
    if towers:  # a CPU runs a step's towers one after another: one tower times the same epoch in less memory
        argv[argv.index('--num_gpus') + 1] = '1'
    run.echo('%s: timing one epoch%s%s' % (run.row.id, '' if images is None else ' of %d training images' % images,
                                            ' with one of its %d towers (no GPU here)' % towers if towers else ''))
    run.run_step('measure', argv, on_line)
    if not found:
        raise UserError('the timing epoch of %s printed no epoch line; see %s' % (run.row.id, run.log_file))
    seconds = found[-1]
    command = run.record.pop_command('measure').replace(scratch, '<scratch>')  # no machine's paths
    if data and run.data_dir:  # (the generated stand-in's temporary folder)
        command = command.replace(os.path.relpath(run.data_dir, run.workspace), '<generated>')
    measured = Measured(epoch_seconds=round(seconds, 1), when=now_utc(), command=command)
    used, whole = part[-1] if part else (None, None)
    if part_of is not None:
        used, whole = used or part_of[0], part_of[1]
    if used is not None and used < whole:
        measured = measured.replace(part_seconds=round(seconds, 1), images=used, of=whole,
                                    epoch_seconds=round(seconds * whole / float(used), 1))
    if data:
        measured = measured.replace(data=data)
    if towers:
        measured = measured.replace(towers=1)
    run.save(measured=measured)
    run.echo('%s: %.0f s per epoch%s, %d epochs ≈ %.1f h'
             % (run.row.id, measured.epoch_seconds,
                ' (projected from %d of %d images)' % (measured.images, measured.of) if measured.projected else '',
                run.row.epochs, measured.epoch_seconds * run.row.epochs / 3600.0))
    return measured.epoch_seconds


def observe_row(run):
    """Add the test accuracy of every epoch to a trained row whose curve lacks it: train the row's command
    again, from the start and with ``--observe_test True``, on a checkpoint of its own
    (``<workspace>/observe/<row>.npz``; resumable like any training).  The training is deterministic and
    observing changes nothing, so the weights must come out identical to the row's checkpoint -- else nothing
    is recorded and the error says so.  Returns True when the observations were added."""
    curve = run.record.curve
    if not curve or all(c.test_acc is not None for c in curve):
        return False
    if run.checkpoint_epoch() < run.row.epochs:
        raise UserError('%s is not trained to its budget yet: nothing to observe' % run.row.id)
    if len(run.row.phases) > 1:
        raise UserError('%s is trained in %d phases (%s): --observe trains rows of one phase again'
                        % (run.row.id, len(run.row.phases), run.row.recipe))
    model_file = os.path.join(run.out, 'observe', run.row.id + '.npz')
    if not os.path.isdir(os.path.dirname(model_file)):
        os.makedirs(os.path.dirname(model_file))
    seen = run.record.observing

    def on_line(line):
        point = parse_epoch_line(line)
        if point and point.test_acc is not None:
            seen[point.epoch] = [point.val_acc, point.test_acc]
            run.save(observing=seen)
    done = checkpoint_epoch(model_file)
    if done < run.row.epochs:
        argv = run.train_argv(run.row.epochs, run.shown_path(model_file)) + (['--resume', 'True'] if done else [])
        run.echo('%s: training again from the start to observe the test accuracy (%d -> %d epochs)'
                 % (run.row.id, done, run.row.epochs))
        run.run_step('observe', argv, on_line)
    mine, theirs = load_checkpoint(model_file)[0], load_checkpoint(run.model_file)[0]
    if len(mine) != len(theirs) or not all(np.array_equal(a, b) for a, b in zip(mine, theirs)):
        raise UserError('%s: training again did not give the weights of %s (not deterministic on this machine?); '
                        'no observation recorded' % (run.row.id, run.model_file))
    missing = [c.epoch for c in curve if c.epoch not in seen]
    if missing:
        raise UserError('%s: no test accuracy seen for epoch(s) %s; delete %s and run --observe again (it trains the '
                        'observation from the start)'
                        % (run.row.id, ', '.join(map(str, missing)), model_file))
    val_moved = [c.epoch for c in curve if abs(seen[c.epoch][0] - c.val_acc) > 1e-9]
    if val_moved:
        raise UserError('%s: the validation accuracy of epoch(s) %s differs from the record; no observation '
                        'recorded' % (run.row.id, ', '.join(map(str, val_moved))))
    run.record.drop('observing')
    run.save(curve=[c._replace(test_acc=seen[c.epoch][1]) for c in curve],
             observed=Observed(when=now_utc(), command=run.record.pop_command('observe')))
    run.echo('%s: test accuracy of all %d epochs recorded (weights identical to the row\'s)'
              % (run.row.id, len(curve)))
    return True


def measure_table(ctx, name, rows=None, images=None):
    """Time one training epoch of every row of table ``name`` (or of ``rows``) that has neither started nor been
    timed with its current training flags, so that its cost shows before it runs, in the run context ``ctx``;
    returns {row id: seconds per epoch} of the rows timed.  ``images``: see :func:`measure_row`."""
    table = get_table(name)
    out = {}
    generated = tempfile.mkdtemp(prefix='snn_generated_')  # stand-ins for data sets this machine lacks
    try:
        for r in chosen_rows(table, rows):
            rec = ctx.read_record(r) or Record()
            if rec.curve or r.timed_seconds(rec.measured) or rec.done:
                continue
            data_dir, note, part = _timing_data(ctx, table, r, generated)
            run = RowRun(ctx, table, r, data_dir)
            scratch = tempfile.mkdtemp(prefix='snn_timing_')
            try:
                out[r.id] = measure_row(run, scratch, note, images, part)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    finally:
        shutil.rmtree(generated, ignore_errors=True)
    return out


def _timing_data(ctx, table, row, generated):
    """(--data_dir, None, None) of the row's real data set; where this machine lacks it (a table of the whole set),
    (a generated stand-in of the real format, what it is, and -- when it is a part of the real set's size -- (its
    training images, the real set's))."""
    try:
        return table_data(ctx, table, row), None, None
    except UserError:
        dataset = architectures.get(row.arch).dataset
        if table.subset is not None or dataset not in SIZES:
            raise
    sizes, real = generated_sizes(dataset), SIZES[dataset]
    folder = os.path.join(generated, dataset)
    if not os.path.isdir(folder):
        ctx.echo('%s: no %s here; timing on generated data of its real %s (%d training, %d test images%s)'
             % (row.id, dataset, 'size and format' if sizes == real else 'format', sizes[0], sizes[1],
                '' if sizes == real else ', of the real set\'s %d and %d' % real))
        write_synthetic(dataset, folder)
    folder = find_dataset_dir(dataset, data_dir=folder)
    return (os.path.abspath(folder), 'generated: %d training and %d test images of the real format' % sizes,
            None if sizes == real else (sizes[0], real[0]))


def observe_table(ctx, name, rows=None):
    """:func:`observe_row` for every trained row of table ``name`` (or of ``rows``) whose curve lacks the test
    accuracy, in the run context ``ctx``; returns the ids of the rows completed."""
    table = get_table(name)
    out = []
    for r in chosen_rows(table, rows):
        rec = ctx.read_record(r)
        if not rec or not rec.done:
            continue
        run = RowRun.make(ctx, table, r)
        if observe_row(run):
            out.append(r.id)
    return out
