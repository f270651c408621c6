"""``python reproduce.py``: the command line of the table runner (see reproduce.py's docstring)."""

from __future__ import absolute_import, division, print_function

import os
import sys

from snn_conversion.reproduce import observe, repeat, report, runner, smoke, verify
from snn_conversion.reproduce.scripts import interrupt_on_signals
from snn_conversion.reproduce.tables import TABLES, VARIANTS
from snn_conversion.core.errors import ArgumentParser, UserError, int_range
from snn_conversion.core.flags import IMAGES, SEED, THREADS, Names

__all__ = ['main']


def main(argv):
    p = ArgumentParser(description='Reproduce the seeds\' result tables (train -> inference -> simulate -> record, '
                                   'one record per row in <workspace>/records/); rerun to resume. Tables: %s.'
                                   % ', '.join(TABLES))
    p.add_argument('tables', nargs='*', metavar='TABLE', help='tables to run, in order (%s)' % ', '.join(TABLES))
    p.add_argument('--rows', default=None, type=Names('row id'),
                   help='comma-separated row ids of the table, each once (default: all; see --list)')
    p.add_argument('--data_root', default=None,
                   help='folder holding the data sets (e.g. mnist/, fashion-mnist/); default: the scripts\' own '
                        'search ($SNN_DATA_DIR, ./data, the Debian packages)')
    p.add_argument('--threads', type=THREADS, default=1,
                   help='CPU threads of each training (default 1: run it beside other work, niced)')
    p.add_argument('--list', action='store_true',
                   help='list the tables\' rows (of the TABLEs named, else of all) and their state, then exit')
    p.add_argument('--restart', action='store_true',
                   help='train from epoch 0 the rows (or with --repeat, the repeats) whose record claims trained '
                        'epochs that neither a checkpoint here nor a shipped resume state holds (without it such a '
                        'run is refused); the record keeps their numbers as earlier_run')
    p.add_argument('--measure', action='store_true',
                   help='instead of running the tables, time one training epoch of each of their rows that has not '
                        'started and was not timed with its current flags (on a throw-away checkpoint), so '
                        'RESULTS.md shows what each row will cost')
    p.add_argument('--measure_images', type=IMAGES, default=None, metavar='N',
                   help='with --measure: time an epoch of the first N training images (and the same share of the '
                        'validation images) and project the whole epoch from it, linearly, saying so (default: the '
                        'whole epoch; a CIFAR epoch takes most of an hour on one core)')
    p.add_argument('--observe', action='store_true',
                   help='instead of running the tables, add the test accuracy of every epoch to their finished rows '
                        'that lack it: each is trained again from the start with --observe_test True (resumable; '
                        'the weights must come out identical to the row\'s)')
    p.add_argument('--repeat', type=int_range(0, SEED.high), default=None, metavar='SEED',
                   help='instead of running the tables, train their rows (or --rows) again with random seed SEED '
                        '(the rows use 0) and evaluate them: the run-to-run variation of the ANN, recorded in '
                        '<workspace>/records/repeats/ (resumable)')
    p.add_argument('--variant', default=None, choices=list(VARIANTS), metavar='NAME',
                   help='with --repeat SEED (0 too): train the rows with a change of their recipe, to test an '
                        'explanation of a gap to the paper: %s' % '; '.join(
                            '%s (%s: %s)' % (v.name, ', '.join(v.rows), v.text) for v in VARIANTS.values()))
    p.add_argument('--export_resume', action='store_true',
                   help='instead of running the tables, pack the checkpoint and training state of each of their '
                        'part-trained rows (all tables when none is named) into <workspace>/resume/<row>.npz, its '
                        'sha256 in the record: commit them when work pauses, and the same command on a fresh clone '
                        'continues the runs from there (may run beside the training); with --repeat SEED (and --variant): '
                        'the part-trained repeats SEED of the tables\' rows, into <workspace>/resume/repeats/')
    p.add_argument('--verify', action='store_true',
                   help='instead of running the tables, re-derive the numbers of their finished rows (all tables when '
                        'none is named; --rows alone names rows of any table) from the shipped checkpoints '
                        '<workspace>/pretrained/<row>.npz: sha256, ANN inference, float64 ANN, SNN on the test set, '
                        'each compared with the record; exit 0 when all agree, 1 on any difference; writes nothing')
    p.add_argument('--fill', action='store_true',
                   help='with --verify: where every compared number agrees, add to the record the numbers it was '
                        'written without (spikes and SOPs per step, spikes per layer: the figures\' data); no '
                        'recorded number is changed')
    p.add_argument('--smoke', action='store_true',
                   help='instead of running the tables, run each of their rows (or --rows) at a tiny budget (one '
                        'epoch per training phase, at most 500 training and 200 test images, T at most 50) into '
                        '<workspace>/smoke/, never touching the real records, checkpoints or RESULTS.md; one summary '
                        'line per row, exit 0 when the SNN equals the float64 ANN at the last step (1 otherwise)')
    p.add_argument('--write_results', action='store_true', help='write RESULTS.md\'s tables from the records')
    p.add_argument('--debug', action='store_true', help='show Python tracebacks')
    a = p.parse_args(argv)
    interrupt_on_signals()
    for name in a.tables:
        if name not in TABLES:
            raise UserError('unknown table %r (known: %s)' % (name, ', '.join(TABLES)))
    modes = [m for m in ('measure', 'observe', 'repeat', 'export_resume', 'verify', 'smoke')
             if getattr(a, m) not in (None, False)]
    if modes == ['repeat', 'export_resume']:  # the repeats' resume states
        modes = ['export_resume']
    if len(modes) > 1:
        raise UserError('%s are separate runs: give one of them' % ' and '.join('--' + m for m in modes))
    if a.rows and len(a.tables) != 1 and not (a.verify and not a.tables):
        raise UserError('--rows needs exactly one table')
    if modes and modes[0] not in ('export_resume', 'verify') and not a.tables:
        raise UserError('--%s needs the tables (%s)' % (modes[0], ', '.join(TABLES)))
    if a.measure_images is not None and not a.measure:
        raise UserError('--measure_images goes with --measure')
    if a.fill and not a.verify:
        raise UserError('--fill goes with --verify (it fills records from a verified run)')
    if a.variant is not None and a.repeat is None:
        raise UserError('--variant goes with --repeat SEED (a variant is a run of its own beside the row)')
    if a.repeat == 0 and a.variant is None:
        raise UserError('--repeat 0 is the row itself (the scripts\' default seed): repeat with another seed, or '
                        'give --variant')
    if a.data_root is not None and not os.path.isdir(a.data_root):
        raise UserError('--data_root %s does not exist (it should be a folder holding the data sets, e.g. mnist/, '
                        'fashion-mnist/)' % a.data_root)
    if a.list:
        other = [m for m in modes + ['write_results', 'restart', 'fill'] if getattr(a, m) not in (None, False)]
        if other:
            raise UserError('--list only lists: give %s in a command of its own'
                            % ' and '.join('--' + m for m in other))
        print('\n'.join(report.status_lines(tables=a.tables or None, data_root=a.data_root)))
        return 0
    if a.restart and (modes or not a.tables):
        raise UserError('--restart goes with a table run (python reproduce.py TABLE [--rows ROW] [--repeat SEED] '
                        '--restart)')
    if a.verify:
        agree = verify.verify(a.tables or None, a.rows, data_root=a.data_root,
                              threads=a.threads, fill=a.fill)
        if a.fill:
            print('%s %s' % (report.RESULTS, 'updated' if report.write_results() else 'unchanged'))
        return 0 if agree else 1
    if a.smoke:
        if a.write_results:
            raise UserError('--smoke never writes RESULTS.md: give --write_results in a command of its own')
        passed = all([smoke.smoke_table(name, rows=a.rows, data_root=a.data_root, threads=a.threads)
                      for name in a.tables])
        return 0 if passed else 1
    if a.export_resume:
        for name in a.tables or list(TABLES):
            rows = a.rows
            if a.repeat is not None:
                exported = repeat.export_repeats(name, a.repeat, rows=rows, variant=a.variant)
            else:
                exported = runner.export_table(name, rows=rows)
            if a.tables and not exported:
                print('%s: no part-trained %s to export' % (name, 'row' if a.repeat is None else
                                                            'repeat with seed %d' % a.repeat))
        a.write_results = True
    elif not a.tables and not a.write_results:
        raise UserError('name a table (%s), or --list / --write_results' % ', '.join(TABLES))
    for name in [] if a.export_resume else a.tables:
        rows = a.rows
        if a.repeat is not None:
            repeat.repeat_table(name, a.repeat, rows=rows, data_root=a.data_root, threads=a.threads,
                                variant=a.variant, restart=a.restart)
            continue
        if a.measure:
            observe.measure_table(name, rows=rows, data_root=a.data_root, threads=a.threads, images=a.measure_images)
        elif a.observe:
            observe.observe_table(name, rows=rows, data_root=a.data_root, threads=a.threads)
        else:
            runner.run_table(name, rows=rows, data_root=a.data_root, threads=a.threads, restart=a.restart)
    if a.write_results or a.tables:
        changed = report.write_results()
        print('%s %s' % (report.RESULTS, 'updated' if changed else 'unchanged'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
