"""``python reproduce.py``: the command line of the table runner (see reproduce.py's docstring).

One subcommand per kind of run -- ``run``, ``list``, ``verify``, ``repeat``, ``export``, ``measure``, ``observe``,
``results``, ``smoke`` -- each with the flag groups it takes (each group defined once, below).  The earlier form,
tables with a mode flag (``reproduce.py TABLE --measure``, ``--list``, ``--verify``, ``--repeat SEED``,
``--export_resume``, ``--smoke``, ``--observe``, ``--write_results``), is still accepted: it is parsed by one parser
holding every group and handed to the same subcommand.
"""

from __future__ import absolute_import, division, print_function

import collections
import os
import sys

from snn_conversion.reproduce import observe, repeat, report, runner, smoke, verify
from snn_conversion.reproduce.context import RunContext
from snn_conversion.reproduce.scripts import interrupt_on_signals
from snn_conversion.reproduce.tables import TABLES, VARIANTS
from snn_conversion.core.errors import ArgumentParser, UserError, int_range
from snn_conversion.core.flags import IMAGES, SEED, THREADS, Names

__all__ = ['main', 'COMMANDS']

TABLE_NAMES = ', '.join(TABLES)


# ----------------------------------------------------------------------------- flag groups (each defined once)

def _tables(p, required):
    p.add_argument('tables', nargs='+' if required else '*', metavar='TABLE',
                   help='tables, in order (%s)%s' % (TABLE_NAMES, '' if required else '; default: all'))


def _rows(p):
    p.add_argument('--rows', default=None, type=Names('row id'),
                   help='comma-separated row ids of the table, each once (default: all; see the list command)')


def _data(p):
    p.add_argument('--data_root', default=None,
                   help='folder holding the data sets (e.g. mnist/, fashion-mnist/); default: the scripts\' own '
                        'search ($SNN_DATA_DIR, ./data, the Debian packages)')


def _threads(p):
    p.add_argument('--threads', type=THREADS, default=1,
                   help='CPU threads of each training (default 1: run it beside other work, niced)')


def _restart(p):
    p.add_argument('--restart', action='store_true',
                   help='train from epoch 0 the rows (or repeats) whose record claims trained epochs that neither a '
                        'checkpoint here nor a shipped resume state holds (without it such a run is refused); the '
                        'record keeps their numbers as earlier_run')


def _variant(p):
    p.add_argument('--variant', default=None, choices=list(VARIANTS), metavar='NAME',
                   help='train the rows with a change of their recipe, to test an explanation of a gap to the '
                        'paper: %s' % '; '.join('%s (%s: %s)' % (v.name, ', '.join(v.rows), v.text)
                                               for v in VARIANTS.values()))


def _seed(p, flag, required, text):
    p.add_argument(flag, dest='repeat', type=int_range(0, SEED.high), default=None, metavar='SEED',
                   required=required, help=text)


def _measure_images(p):
    p.add_argument('--measure_images', type=IMAGES, default=None, metavar='N',
                   help='time an epoch of the first N training images (and the same share of the validation images) '
                        'and project the whole epoch from it, linearly, saying so (default: the whole epoch; a CIFAR '
                        'epoch takes most of an hour on one core)')


def _fill(p):
    p.add_argument('--fill', action='store_true',
                   help='where every compared number agrees, add to the record the numbers it was written without '
                        '(spikes and SOPs per step, spikes per layer: the figures\' data); no recorded number changes')


REPEAT_SEED = ('train the rows again with random seed SEED (the rows use 0) and evaluate them: the run-to-run '
               'variation of the ANN, in <workspace>/records/repeats/ (resumable); 0 with --variant')

# name: (help, flag groups)
COMMANDS = collections.OrderedDict([
    ('run', ('bring the tables\' rows to their budgets (train -> inference -> simulate -> record, one record per '
             'row in <workspace>/records/; rerun to resume), then write RESULTS.md',
             [lambda p: _tables(p, True), _rows, _data, _threads, _restart])),
    ('list', ('list the tables\' rows (of the TABLEs named, else of all), their state, data and projected cost',
              [lambda p: _tables(p, False), _data])),
    ('verify', ('re-derive the numbers of the finished rows (all tables when none is named; --rows alone names rows '
                'of any table) from the shipped checkpoints <workspace>/pretrained/<row>.npz: sha256, ANN, float64 '
                'ANN, SNN, each compared with the record; exit 0 when all agree, 1 on any difference; writes nothing',
                [lambda p: _tables(p, False), _rows, _data, _threads, _fill])),
    ('repeat', ('train the tables\' rows (or --rows) again with another random seed, or with a recipe variant',
                [lambda p: _tables(p, True), lambda p: _seed(p, '--seed', True, REPEAT_SEED), _variant, _rows, _data,
                 _threads, _restart])),
    ('export', ('pack the checkpoint and training state of each part-trained row (all tables when none is named) '
                'into <workspace>/resume/<row>.npz, its sha256 in the record: commit them when work pauses, and the '
                'same run command on a fresh clone continues from there',
                [lambda p: _tables(p, False), _rows, lambda p: _seed(p, '--seed', False, 'the repeats with this '
                                                                     'seed instead of the rows'), _variant])),
    ('measure', ('time one training epoch of each row not started (on a throw-away checkpoint; generated data of '
                 'the real format where the data set is absent), so RESULTS.md shows each row\'s projected cost',
                 [lambda p: _tables(p, True), _rows, _data, _threads, _measure_images])),
    ('observe', ('add the test accuracy of every epoch to finished rows that lack it (each trained again from the '
                 'start with --observe_test True; the weights must come out identical)',
                 [lambda p: _tables(p, True), _rows, _data, _threads])),
    ('results', ('write RESULTS.md\'s generated tables, figures and throughput section from the records', [])),
    ('smoke', ('run each row (or --rows) at a tiny budget (one epoch per phase, at most 500 training and 200 test '
               'images, T at most 50) into <workspace>/smoke/, never touching the real records, checkpoints or '
               'RESULTS.md; one summary line per row, exit 0 when the SNN equals the float64 ANN at the last step',
               [lambda p: _tables(p, True), _rows, _data, _threads])),
])
DEFAULTS = dict(tables=[], rows=None, data_root=None, threads=1, restart=False, repeat=None, variant=None, fill=False,
                measure_images=None)


def _parser():
    p = ArgumentParser(description='Reproduce the seeds\' result tables, one record per row in '
                                   '<workspace>/records/ (tables: %s). `python reproduce.py COMMAND --help` for a '
                                   'command\'s flags.' % TABLE_NAMES)
    sub = p.add_subparsers(dest='command', metavar='COMMAND')
    for name, (text, groups) in COMMANDS.items():
        q = sub.add_parser(name, help=text, description=text)
        for group in groups:
            group(q)
    return p


# ----------------------------------------------------------------------------- the earlier form

MODE_FLAGS = collections.OrderedDict([('measure', 'measure'), ('observe', 'observe'), ('repeat', 'repeat'),
                                      ('export_resume', 'export'), ('verify', 'verify'), ('smoke', 'smoke')])


def _legacy_parser():
    """Tables with a mode flag, as documented before the subcommands: every group, and the mode flags."""
    p = ArgumentParser(description='Reproduce the seeds\' result tables (the form before the subcommands; see '
                                   '`python reproduce.py --help`).')
    for group in (lambda q: _tables(q, False), _rows, _data, _threads, _restart, _variant, _measure_images, _fill):
        group(p)
    _seed(p, '--repeat', False, REPEAT_SEED)
    for flag in ('list', 'measure', 'observe', 'export_resume', 'verify', 'smoke', 'write_results'):
        p.add_argument('--' + flag, action='store_true', help='the %s command' % flag)
    return p


def _legacy_command(a):
    """The subcommand an argument list of the earlier form asks for (one-line errors for the forms it refused)."""
    modes = [m for m in MODE_FLAGS if getattr(a, m) is not None and getattr(a, m) is not False]  # (--repeat 0)
    if modes == ['repeat', 'export_resume']:  # the repeats' resume states
        modes = ['export_resume']
    if a.list:
        other = modes + [m for m in ('write_results', 'restart', 'fill') if getattr(a, m)]
        if other:
            raise UserError('--list only lists: give %s in a command of its own' % ' and '.join('--' + m for m in other))
        return 'list'
    if len(modes) > 1:
        raise UserError('%s are separate runs: give one of them' % ' and '.join('--' + m for m in modes))
    if a.smoke and a.write_results:
        raise UserError('--smoke never writes RESULTS.md: give --write_results in a command of its own')
    if a.measure_images is not None and not a.measure:
        raise UserError('--measure_images goes with --measure')
    if a.fill and not a.verify:
        raise UserError('--fill goes with --verify (it fills records from a verified run)')
    if a.variant is not None and a.repeat is None:
        raise UserError('--variant goes with --repeat SEED (a variant is a run of its own beside the row)')
    if a.restart and ((modes and modes != ['repeat']) or not a.tables):
        raise UserError('--restart goes with a table run (python reproduce.py TABLE [--rows ROW] [--repeat SEED] '
                        '--restart)')
    if modes:
        return MODE_FLAGS[modes[0]]
    if a.tables:
        return 'run'
    if a.write_results:
        return 'results'
    raise UserError('name a table (%s) or a command (%s); --help says more' % (TABLE_NAMES, ', '.join(COMMANDS)))


# ----------------------------------------------------------------------------- the commands

def _check(command, a):
    """The checks every command shares: the tables are known, --rows has one table, --data_root exists."""
    for name in a.tables:
        if name not in TABLES:
            raise UserError('unknown table %r (known: %s)' % (name, TABLE_NAMES))
    if command in ('measure', 'observe', 'smoke', 'repeat') and not a.tables:
        raise UserError('--%s needs the tables (%s)' % (command, TABLE_NAMES))
    if a.rows and len(a.tables) != 1 and not (command == 'verify' and not a.tables):
        raise UserError('--rows needs exactly one table')
    if command == 'repeat' and a.repeat == 0 and a.variant is None:
        raise UserError('--repeat 0 is the row itself (the scripts\' default seed): repeat with another seed, or '
                        'give --variant')
    if a.variant is not None and a.repeat is None:
        raise UserError('--variant goes with a seed (a variant is a run of its own beside the row)')
    if a.data_root is not None and not os.path.isdir(a.data_root):
        raise UserError('--data_root %s does not exist (it should be a folder holding the data sets, e.g. mnist/, '
                        'fashion-mnist/)' % a.data_root)


def _results_written(ctx):
    print('%s %s' % (report.RESULTS, 'updated' if report.write_results(ctx) else 'unchanged'))
    return 0


def _export(ctx, a):
    for name in a.tables or list(TABLES):
        if a.repeat is not None:
            exported = repeat.export_repeats(ctx, name, a.repeat, rows=a.rows, variant=a.variant)
        else:
            exported = runner.export_table(ctx, name, rows=a.rows)
        if a.tables and not exported:
            print('%s: no part-trained %s to export' % (name, 'row' if a.repeat is None else
                                                        'repeat with seed %d' % a.repeat))
    return _results_written(ctx)


def _verify(ctx, a):
    agree = verify.verify(ctx, a.tables or None, a.rows, fill=a.fill)
    if a.fill:
        _results_written(ctx)
    return 0 if agree else 1


def _per_table(step):
    def run(ctx, a):
        for name in a.tables:
            step(ctx, name, a)
        return _results_written(ctx)
    return run


# name: what the command does with the run context and the parsed arguments
HANDLERS = {
    'run': _per_table(lambda ctx, name, a: runner.run_table(ctx, name, rows=a.rows, restart=a.restart)),
    'repeat': _per_table(lambda ctx, name, a: repeat.repeat_table(ctx, name, a.repeat, rows=a.rows,
                                                                  variant=a.variant, restart=a.restart)),
    'measure': _per_table(lambda ctx, name, a: observe.measure_table(ctx, name, rows=a.rows,
                                                                     images=a.measure_images)),
    'observe': _per_table(lambda ctx, name, a: observe.observe_table(ctx, name, rows=a.rows)),
    'list': lambda ctx, a: print('\n'.join(report.status_lines(ctx, tables=a.tables or None))) or 0,
    'verify': _verify,
    'export': _export,
    'results': lambda ctx, a: _results_written(ctx),
    'smoke': lambda ctx, a: 0 if all([smoke.smoke_table(ctx, name, rows=a.rows) for name in a.tables]) else 1,
}


def parse(argv):
    """(command, parsed arguments) of ``argv`` in either form."""
    argv = list(argv)
    if argv and argv[0] in COMMANDS or argv in (['-h'], ['--help']):
        a = _parser().parse_args(argv)
        command = a.command
    else:
        a = _legacy_parser().parse_args(argv)
        command = _legacy_command(a)
    for key, value in DEFAULTS.items():  # (the flags a command does not take)
        if not hasattr(a, key):
            setattr(a, key, value)
    return command, a


def main(argv):
    command, a = parse(argv)
    _check(command, a)
    interrupt_on_signals()
    return HANDLERS[command](RunContext(data_root=a.data_root, threads=a.threads), a)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
