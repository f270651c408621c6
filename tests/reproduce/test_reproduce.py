"""The table runner (reproduce.py): rows, records, resume after a kill, and RESULTS.md generated from records (its
end-to-end run on a tiny table: test_verify.py, which verifies that table too)."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from conftest import ROOT, make_mnist_like

from snn_conversion.reproduce import cli, observe, repeat, report, runner, tables
from snn_conversion.reproduce.context import RunContext
from snn_conversion.core import architectures
from snn_conversion.core.errors import run_cli
from snn_conversion.core.records import Record
from snn_conversion.reproduce.training import checkpoint_epoch


def test_rows_name_real_scripts_and_checkpoints():
    ids = set()
    for table, row in tables.all_rows():
        arch = architectures.get(row.arch)
        kinds = ('FP32',) if row.full_precision else ('Quant', 'Spiking')
        for kind in kinds:
            assert os.path.isfile(os.path.join(ROOT, row.workspace, '%s_%s.py' % (kind, row.script))), row
        # the row id is the checkpoint the workspace scripts write by default
        tag = 'fp32' if row.full_precision else arch.config_tag(row.k, row.B, True)
        assert row.id == '%s_%s%s' % (arch.name, tag, row.suffix) and (row.suffix == '') == (table.subset is None)
        assert (row.workspace, row.id) not in ids
        ids.add((row.workspace, row.id))
    assert [t.seed for t in tables.TABLES.values()] == ['001', '001', '002', '003', '001', '002', '003', '003',
                                                         '000', '004', '004']
    # the seeds' 44 rows (MobileNet's three without numbers) and the N-MNIST subset's four
    assert len(tables.all_rows()) == 48
    assert [r.id for r in tables.TABLES['imagenet_mobilenet'].rows if r.paper_silent] == [
        'mobilenet_imagenet_k0', 'mobilenet_imagenet_k1', 'mobilenet_imagenet_k2']
    assert not [r.id for t, r in tables.all_rows() if r.paper_silent and t.name != 'imagenet_mobilenet']


def _seed_rows(text):
    """(label, network, epochs, ann, snn, steps, data set) of every Markdown or tab-separated table row of a seed,
    the data set as the heading above the table names it ('### **CIFAR100**:' -> 'CIFAR100')."""
    out, section = [], ''
    for line in text.splitlines():
        if line.startswith('#'):
            section = re.sub(r'[^A-Za-z0-9]', '', line).upper()
        cells = [c.strip() for c in re.split(r'\t|\|', line) if c.strip()]
        if len(cells) >= 6 and cells[3].endswith('%'):
            out.append(cells[:6] + [section])
    return out


def test_paper_numbers_are_the_seeds(shared):
    """Every row's paper numbers and budget stand in its seed's table (001 MNIST / Fashion-MNIST, 002, 003)."""
    seeds = {}
    for name in os.listdir(os.path.join(shared, 'seeds')):
        with open(os.path.join(shared, 'seeds', name)) as f:
            seeds[name[:3]] = _seed_rows(f.read())
    for table, row in tables.all_rows():
        ann, snn, steps = row.paper
        if ann is None:
            continue  # Fashion-MNIST MLP k=0 / k=2: not in the paper (the authors' logs are checked below)
        net = row.network
        label = (lambda c: c.lower().startswith('full')) if row.full_precision else (lambda c: c == row.label)
        dataset = architectures.get(row.arch).dataset.replace('_', '').upper()
        match = [c for c in seeds[table.seed] if c[1].replace('\\', '') == net and label(c[0])
                 and int(c[2]) == row.epochs and c[6] == dataset]
        assert len(match) == 1, (table.name, row.id)
        assert float(match[0][3].rstrip('%')) == ann, (table.name, row.id)  # (CIFAR-100's one decimal: 67.4%)
        if not row.full_precision:
            assert float(match[0][4].rstrip('%')) == snn and int(match[0][5]) == steps


def test_authors_log_numbers(shared):
    """The Fashion-MNIST MLP k=0 / k=2 rows quote the authors' published logs: final accuracy and first step."""
    for _, row in tables.all_rows():
        if not row.authors_log:
            continue
        d = os.path.join(shared, 'reference_logs', 'negative_spike', 'FashionMNIST', 'MLP', 'k%d' % row.k)
        acc = np.loadtxt(os.path.join(d, 'accuracy.txt'))
        T = architectures.get(row.arch).defaults['time_steps']
        per_step = acc.reshape(-1, T).sum(axis=0)
        final = 100.0 * per_step[-1] / 10000
        first = int(np.flatnonzero(per_step == per_step[-1])[0]) + 1
        assert (round(final, 2), first) == row.authors_log


def test_results_md_is_generated_from_the_records():
    stale = report.stale(RunContext())
    assert not stale, '%s stale: run python reproduce.py --write_results' % ', '.join(stale)


def _tiny_table(epochs=2, time_steps=6):
    rows = [tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', None, epochs, 1e-3, 50, (99.28, None, None)),
            tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', 1, epochs, 1e-3, 50, (99.32, 99.32, 13),
                       time_steps=time_steps)]
    return tables.Table('tiny', '001', 'tiny MNIST LeNet', '20C5-P2-50C5-P2-500', rows)


@pytest.fixture
def tiny_mnist(tmp_path):
    return make_mnist_like(str(tmp_path / 'data' / 'mnist'), n_train=300, n_test=40)


def _ctx(root, data_root=None, echo=print):
    return RunContext(root=root, data_root=data_root, echo=echo)


def _results_doc(tmp_path):
    path = str(tmp_path / 'RESULTS.md')
    with open(path, 'w') as f:
        f.write('intro\n%s\n%s\ntail\n' % (report.BEGIN, report.END))
    return path


def test_a_recipe_variant_is_a_run_of_its_own_beside_the_row(tmp_path, tiny_mnist):
    """``--repeat SEED --variant NAME``: the row trained with its variant's flags (seed 0 too), in a record of its
    own that the plain repeats and the row never see; RESULTS.md shows it in a table of its own."""
    from unittest import mock
    from snn_conversion.core.checkpoint import load_checkpoint
    out = str(tmp_path / 'out')
    table = _tiny_table(epochs=1)
    row = table.rows[0]
    variant = tables.Variant('t5', (row.id,), ('--ternary_blocks', '5'), 'the last block ternary')
    said = []
    ctx = _ctx(out, os.path.dirname(tiny_mnist), said.append)
    with mock.patch.dict(tables.VARIANTS, {'t5': variant}):
        with pytest.raises(runner.UserError, match='variant t5 is a change of lenet_mnist_fp32, not of lenet_mnist_k1'):
            repeat.repeat_table(ctx, table, 0, rows=['lenet_mnist_k1'], variant='t5')
        with pytest.raises(runner.UserError, match="unknown variant 'nope'"):
            repeat.repeat_table(ctx, table, 0, variant='nope')
        rec = repeat.repeat_table(ctx, table, 0, variant='t5')
        assert len(rec) == 1 and rec[0].done and rec[0].repeat_seed == 0
        rec = rec[0]
        assert rec.variant.stored() == dict(name='t5', train_flags='--ternary_blocks 5',
                                            change='the last block ternary')
        for step in ('train', 'inference'):
            assert '--ternary_blocks 5 --mode' in rec.commands[step], rec.commands[step]
        assert any(s.startswith('lenet_mnist_fp32 (variant t5), seed 0: done') for s in said), said
        params, meta = load_checkpoint(os.path.join(out, 'MNIST', 'repeats', 'lenet_mnist_fp32_t5_seed0.npz'))
        assert meta['ternary_blocks'] == '5' and set(np.unique(params[20])) <= {-1.0, 0.0, 1.0}
        assert os.path.isfile(os.path.join(out, 'MNIST', 'records', 'repeats', 'lenet_mnist_fp32_t5_seed0.json'))
        assert repeat.read_repeats(ctx.records, row) == {}
        assert repeat.read_repeats(ctx.records, row, variant) == {0: rec}
        assert not os.path.exists(ctx.record_path(row))  # the row itself: untouched
        doc = _results_doc(tmp_path)
        with mock.patch.object(report, 'TABLES', {'tiny': table}):
            report.write_results(ctx, doc)
            text = open(doc).read()
    line = [l for l in text.splitlines() if l.startswith('| 20C5-P2-50C5-P2-500, full precision | the last block')]
    assert line and ('| the last block ternary (`--ternary_blocks 5`) | 99.28 %% | seed 0: %.2f %% |'
                     % rec.ann.accuracy) in line[0] and line[0].endswith('| seed 0: not started |'), line
    assert '--repeat SEED --variant NAME' in text and 'Run-to-run variation' not in text


def test_snn_is_compared_with_the_float64_ann_where_tensorflow_differs():
    """A TensorFlow float32 ANN one image off the float64 ANN: the SNN is judged against the float64 ANN, its
    exact reference, with TensorFlow's count shown; an SNN off both is a plain no."""
    snn = dict(final=90.05, correct=[8000, 9004, 9005, 9005], first_step=None, stable_step=None)
    rec = Record(snn=snn, ann=dict(correct=9006), ann_float64=dict(correct=9005))
    acc, steps, same = report.snn_cells(rec)
    assert steps == '3 (float64 ANN)'
    assert same == 'yes, with the float64 ANN (float64 ANN 9005 images, TensorFlow float32 ANN 9006)'
    rec.update(ann_float64=rec.ann_float64.replace(correct=9004))
    assert report.snn_cells(rec)[2].startswith('**no**: SNN 9005; float64 ANN 9004 images')
    rec.update(ann_float64=rec.ann_float64.replace(correct=9006))
    assert report.snn_cells(rec)[2] == '**no**: 9005 vs 9006 images (float64 ANN too)'
    rec.drop('ann_float64')
    assert report.snn_cells(rec)[1:] == ('never', '**no**: 9005 vs 9006 images')


def test_unfinished_row_shows_progress_not_results(tmp_path, tiny_mnist):
    out = str(tmp_path / 'out')
    table = _tiny_table(epochs=4)
    ctx = _ctx(out, echo=lambda s: None)
    rec = runner.RowRun(ctx, table, table.rows[1], tiny_mnist)
    rec.save(curve=[[1, 80.0, 1.0, 30.0], [2, 85.5, 0.5, 32.0]], epochs_done=2, status='training',
             resume=dict(epoch=2, file='resume/lenet_mnist_k1.npz', sha256='0' * 64))
    repeat.RepeatRun(rec, 1).save(curve=[[1, 80.0, 1.0, 30.0, 79.5]], epochs_done=1, status='training')
    doc = _results_doc(tmp_path)
    from unittest import mock
    with mock.patch.object(report, 'TABLES', {'tiny': table}):
        report.write_results(ctx, doc)
        text = open(doc).read()
        lines = report.status_lines(ctx)
    line = [l for l in text.splitlines() if l.startswith('| 20C5-P2-50C5-P2-500, k=1 |')][0]
    assert ('**unfinished**: 2 of 4 epochs (resume state `MNIST/resume/lenet_mnist_k1.npz` shipped), val acc '
            '85.50 %, 32 s/epoch, ≈ 1 min left') in line
    assert '| yes |' not in line and '85.50 %' not in line.split('unfinished')[0]
    assert any('lenet_mnist_k1' in l and 'unfinished' in l for l in lines)
    # the full-precision row has neither started nor been timed: it is projected from the started row, and says so
    assert ('not started: ≈ 32 s/epoch (median of the table\'s started rows), 4 epochs ≈ 2 min'
            in [l for l in text.splitlines() if l.startswith('| 20C5-P2-50C5-P2-500, full')][0])
    assert 'Training still to run: 2 rows, ≈ 3 min on one core;' in text
    # a repeat under way shows how far it got, and no mean
    assert ('| 20C5-P2-50C5-P2-500, k=1 | 99.32 % | seed 0: **unfinished** (2 of 4 epochs, resume state shipped, '
            '≈ 1 min left), seed 1: **unfinished** (1 of 4 epochs, not kept: no resume state shipped, last observed '
            'test acc 79.50 %, ≈ 2 min left) |  |  |') in text


def test_untimed_rows_and_timings_older_than_their_flags(tmp_path, tiny_mnist):
    """A row with no timing and no started sibling is 'not timed'; a timing epoch taken before the table gained a
    training flag (--xla True) is not the row's command's time: it shows as such, and the projection comes from
    the table's started rows once there are some."""
    out = str(tmp_path / 'out')
    rows = [r._replace(train_flags=tables.XLA) for r in _tiny_table(epochs=4).rows]
    table = tables.Table('tiny', '001', 'tiny MNIST LeNet', '20C5-P2-50C5-P2-500', rows)
    assert rows[0].trains_with('python FP32_LeNet_MNIST.py --xla True --epochs 1')
    assert not rows[0].trains_with('python FP32_LeNet_MNIST.py --xla False --epochs 1')
    from unittest import mock
    ctx = _ctx(out, os.path.dirname(tiny_mnist), echo=lambda s: None)
    with mock.patch.object(report, 'TABLES', {'tiny': table}):
        assert report._progress(ctx, rows[0], None) == 'not started (not timed: `reproduce.py --measure`)'
        fp = runner.RowRun(ctx, table, rows[0], tiny_mnist)
        fp.save(measured=dict(epoch_seconds=90.0, when='2026-11-29T18:46:59Z',
                              command='cd MNIST && python FP32_LeNet_MNIST.py --epochs 1 --threads 1'))
        old = 'timed at 90 s on 2026-11-29, before its table trained with --xla True'
        assert report._progress(ctx, rows[0], ctx.read_record(rows[0])) == (
            'not started (%s; `reproduce.py --measure` times it again)' % old)
        k1 = runner.RowRun(ctx, table, rows[1], tiny_mnist)
        k1.save(curve=[[1, 80.0, 1.0, 50.0], [2, 85.5, 0.5, 60.0], [3, 86.0, 0.4, 55.0]], epochs_done=3,
                status='training')
        assert report._progress(ctx, rows[0], ctx.read_record(rows[0])) == (
            'not started (%s): ≈ 55 s/epoch (median of the table\'s started rows), 4 epochs ≈ 4 min' % old)
        # --measure times it again (the started row not)
        timed = []
        with mock.patch.object(observe, 'get_table', lambda name: table), \
                mock.patch.object(observe, 'measure_row', lambda run, scratch, data=None, images=None, part_of=None: timed.append(run.row.id) or 1.0):
            observe.measure_table(ctx, 'tiny')
        assert timed == ['lenet_mnist_fp32']
        # timed with its current flags, the row's own timing counts
        fp.save(measured=dict(epoch_seconds=90.0, when='2026-12-05T04:00:00Z',
                              command='cd MNIST && python FP32_LeNet_MNIST.py --xla True --epochs 1'))
        assert report._progress(ctx, rows[0], ctx.read_record(rows[0])) == (
            'not started: one epoch timed at 90 s (2026-12-05), 4 epochs ≈ 6 min')


def test_measure_times_rows_not_started_and_touches_nothing_else(tmp_path, tiny_mnist, monkeypatch):
    """--measure: one timing epoch per row not started, on a throw-away checkpoint; the projection shows."""
    out = str(tmp_path / 'out')
    scratch = tmp_path / 'tmp'
    scratch.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(scratch))
    table = _tiny_table(epochs=300)
    said = []
    ctx = _ctx(out, os.path.dirname(tiny_mnist), said.append)
    started = runner.RowRun(ctx, table, table.rows[1], tiny_mnist)
    started.save(curve=[[1, 80.0, 1.0, 30.0]], epochs_done=1, status='training')
    timed = observe.measure_table(ctx, table)
    assert list(timed) == ['lenet_mnist_fp32'] and timed['lenet_mnist_fp32'] > 0  # the started row is not timed
    rec = ctx.read_record(table.rows[0])
    assert rec.measured.epoch_seconds == round(timed['lenet_mnist_fp32'], 1)
    assert 'FP32_LeNet_MNIST.py' in rec.measured.command and '--epochs 1' in rec.measured.command
    assert '--model_file <scratch>/lenet_mnist_fp32.npz' in rec.measured.command
    assert not rec.curve and 'measure' not in rec.commands
    assert not os.path.exists(os.path.join(out, 'MNIST', 'lenet_mnist_fp32.npz'))  # the row itself: untouched
    assert not os.listdir(str(scratch))  # the timing checkpoint is gone
    # timed once: a second call times nothing
    assert observe.measure_table(ctx, table) == {}
    doc = _results_doc(tmp_path)
    from unittest import mock
    with mock.patch.object(report, 'TABLES', {'tiny': table}):
        report.write_results(ctx, doc)
        text = open(doc).read()
    line = [l for l in text.splitlines() if l.startswith('| 20C5-P2-50C5-P2-500, full')][0]
    assert 'not started: one epoch timed at %.0f s (%s), 300 epochs ≈ ' % (
        rec.measured.epoch_seconds, rec.measured.when[:10]) in line
    assert re.search(r'Training still to run: 2 rows, ≈ [0-9.]+ (min|h) on one core; `python reproduce.py tiny`',
                     text)


def test_damaged_record_is_one_line_error(tmp_path):
    row = _tiny_table().rows[0]
    ctx = _ctx(str(tmp_path))
    path = ctx.record_path(row)
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as f:
        f.write('{"row": "lenet_mnist_fp32", "curve": [[1, 9')
    with pytest.raises(runner.UserError, match='damaged.*delete it'):
        ctx.read_record(row)


_CHILD = """
import sys
sys.path.insert(0, %(root)r); sys.path.insert(0, %(tests)r); sys.path.insert(0, %(here)r)
from snn_conversion.reproduce import runner
from snn_conversion.reproduce.context import RunContext
from test_reproduce import _tiny_table
runner.run_table(RunContext(root=%(out)r, data_root=%(data)r), _tiny_table(epochs=%(epochs)d),
                 rows=['lenet_mnist_k1'])
"""
# the same runner, its signals made one-line interruptions (as reproduce.py's)
_CHILD_ON_SIGNALS = _CHILD.replace(
    'runner.run_table(', 'from snn_conversion.reproduce.scripts import interrupt_on_signals\n'
    'from snn_conversion.core.errors import run_cli\ninterrupt_on_signals()\nrun_cli(lambda a: runner.run_table(') + ')\n'


def _start_runner(code, out, data, epochs):
    """The tiny table's quantized row run by ``code`` (:data:`_CHILD`, :data:`_CHILD_ON_SIGNALS`) in a process
    group of its own."""
    return subprocess.Popen([sys.executable, '-c', code % dict(
        root=ROOT, tests=os.path.join(ROOT, 'tests'), here=os.path.dirname(os.path.abspath(__file__)), epochs=epochs,
        data=data, out=out)], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        universal_newlines=True)


def _wait_for_an_epoch(proc, row, out, after, seconds=300):
    """Until the runner ``proc`` has recorded an epoch of ``row`` beyond ``after`` under ``out``; returns the epochs
    recorded."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        rec = _ctx(out).read_record(row)
        if rec and rec.curve and rec.epochs_done > after:
            return rec.epochs_done
        assert proc.poll() is None, 'the runner ended before its next epoch: %s' % proc.stderr.read()[-2000:]
        time.sleep(0.05)
    pytest.fail('no epoch recorded in time')


def _processes_naming(text):
    """Pids of the live processes whose command line contains ``text``."""
    found = []
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


def test_kill_or_signal_then_rerun_resumes_without_duplicates(tmp_path):
    """One row interrupted three times during training, each run taking up where the last one stopped: SIGKILL
    to the runner and its script; then SIGTERM, then SIGHUP to the runner's process alone -- the training child
    stops with it (no orphan holding the checkpoint's lock) and the runner exits 130 with one line.  The same
    command then finishes the row from the saved epochs, and the record holds every epoch once."""
    # many short epochs: each interrupted run records one of its own before its signal, and a signalled runner
    # gives its child 2 s to end on its own (it goes on training meanwhile); the last run still has some to train
    epochs = 24
    tiny_mnist = make_mnist_like(str(tmp_path / 'data' / 'mnist'), n_train=600, n_test=40)
    data, out = os.path.dirname(tiny_mnist), str(tmp_path / 'out')
    row = _tiny_table(epochs=epochs).rows[1]
    model = out + '/MNIST/lenet_mnist_k1.npz'
    seen = []  # (interruption, epochs recorded, the checkpoint's epoch) after each

    def stopped(name):
        seen.append((name, _ctx(out).read_record(row).epochs_done, checkpoint_epoch(model, row)))
        return max(seen[-1][1:])  # the next run's first epoch of its own is the one after this
    proc = _start_runner(_CHILD, out, data, epochs)
    try:
        _wait_for_an_epoch(proc, row, out, 0)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    done = stopped('SIGKILL')
    assert 1 <= seen[0][1] < epochs, seen
    for sig in (signal.SIGTERM, signal.SIGHUP):
        name = signal.Signals(sig).name
        proc = _start_runner(_CHILD_ON_SIGNALS, out, data, epochs)
        try:
            _wait_for_an_epoch(proc, row, out, done)
            assert _processes_naming(model), 'the training child is not running (%s)' % name
            os.kill(proc.pid, sig)
            _, err = proc.communicate(timeout=200)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        assert proc.returncode == 130 and 'Traceback' not in err and err.strip().splitlines()[-1].startswith(
            'interrupted: %s received' % name), (name, err)
        assert not _processes_naming(model), 'the training child outlived the runner (%s)' % name
        done = stopped(name)
        assert done < epochs, ('the training ended before the run stopped', seen)
    rec = runner.run_table(_ctx(out, data, lambda s: None), _tiny_table(epochs=epochs), rows=['lenet_mnist_k1'])[0]
    assert rec.done
    assert [c.epoch for c in rec.curve] == list(range(1, epochs + 1)), seen
    with open(os.path.join(out, 'MNIST', 'records', row.id + '.log')) as f:
        log = f.read()
    assert '--resume True' in log and 'resumed' in log
    assert rec.snn.correct[-1] == rec.ann.correct


def test_cli_errors_are_one_line(capsys):
    """Each refusal of reproduce.py's command line: exit 2 and one line (the first as a user types it, the others
    through the same entry, in this process)."""
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), 'no_such_table'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1 and err[0].startswith("error: unknown table 'no_such_table'")

    def run(*args):
        with pytest.raises(SystemExit) as e:
            run_cli(cli.main, list(args))
        return e.value.code, capsys.readouterr().err.strip().splitlines()
    rc, err = run('fashion_mnist', '--rows', 'nope')
    assert rc == 2 and len(err) == 1 and 'has no row nope' in err[0]
    rc, err = run()
    assert rc == 2 and 'name a table' in err[0]
    rc, err = run('--measure')
    assert rc == 2 and len(err) == 1 and '--measure needs the tables' in err[0]
    rc, err = run('fashion_mnist', '--measure', '--observe')
    assert rc == 2 and len(err) == 1 and 'separate runs' in err[0]
    rc, err = run('fashion_mnist', '--repeat', '0')
    assert rc == 2 and len(err) == 1 and "--repeat 0 is the row itself" in err[0]
    rc, err = run('fashion_mnist', '--variant', 'ternary6')
    assert rc == 2 and len(err) == 1 and "--variant goes with --repeat SEED" in err[0]
    rc, err = run('fashion_mnist', '--repeat', '1', '--variant', 'nope')
    assert rc == 2 and len(err) == 1 and "argument --variant: invalid choice: 'nope'" in err[0]
    rc, err = run('mnist_scatter_gather', '--rows', 'lenet_mnist_sg_k1B2', '--repeat', '0', '--variant', 'ternary6')
    assert rc == 2 and len(err) == 1 and 'variant ternary6 is a change of lenet_mnist_sg_fp32, not of' in err[0]
    rc, err = run('fashion_mnist', '--repeat', '0', '--variant', 'ternary6')
    assert rc == 2 and len(err) == 1 and 'variant ternary6 changes no row of table fashion_mnist' in err[0]
    rc, err = run('fashion_mnist', '--repeat', '1', '--observe')
    assert rc == 2 and len(err) == 1 and '--observe and --repeat are separate runs' in err[0]
    rc = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--list'], stdout=subprocess.PIPE,
                        universal_newlines=True).returncode
    assert rc == 0
