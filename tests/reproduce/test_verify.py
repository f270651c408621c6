"""The table runner on a tiny table run to its end, its shipped checkpoints and ``reproduce.py --verify``: every
recorded number re-derived, a changed one named."""
import json
import os
import shutil
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest

from conftest import ROOT, make_mnist_like

from snn_conversion.core.errors import run_cli
from snn_conversion.core.fileio import file_sha256
from snn_conversion.core.records import Record
from snn_conversion.reproduce import cli, observe, repeat, report, runner, tables, verify
from snn_conversion.reproduce.context import RunContext


def _table(epochs=2):
    rows = [tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', None, epochs, 1e-3, 50, (99.28, None, None)),
            tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', 1, epochs, 1e-3, 50, (99.32, 99.32, 13), time_steps=6)]
    return tables.Table('tiny', '001', 'tiny MNIST LeNet', '20C5-P2-50C5-P2-500', rows)


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    """A tiny table run to its end: (table, data root, output root, the runner's records)."""
    base = tmp_path_factory.mktemp('verify')
    data = make_mnist_like(str(base / 'data' / 'mnist'), n_train=300, n_test=40)
    out = str(base / 'out')
    recs = runner.run_table(RunContext(root=out, data_root=os.path.dirname(data), echo=lambda s: None), _table())
    return _table(), os.path.dirname(data), out, recs


@pytest.fixture(scope='module', autouse=True)
def derived_once():
    """:func:`verify.derive` run once per row, checkpoint (its sha256) and data set: the tests below verify the
    same shipped checkpoints several times (as they are, with a record or another file changed, in a copy)."""
    real, done = verify.derive, {}

    def derive(run, path, echo=print):
        key = (run.row, file_sha256(path), run.data_dir)
        if key not in done:
            done[key] = real(run, path, echo)
        return done[key]
    patch = pytest.MonkeyPatch()
    patch.setattr(verify, 'derive', derive)
    yield done
    patch.undo()


def test_runner_end_to_end_then_skips(tmp_path, finished):
    """The table runner on a tiny table (the module's, run to its end; the steps after its run, in a copy):
    records, the skip of finished rows, RESULTS.md, --observe and --repeat."""
    table, data_root, ran, recs = finished
    tiny_mnist = os.path.join(data_root, 'mnist')
    fp, q = recs
    assert '--data_dir ' in q.commands['train'] and ran not in q.commands['train'].split('--data_dir')[1][:40]
    with open(_ctx(ran).record_path(table.rows[1])) as f:
        assert f.read() == q.to_json()
    out = str(tmp_path / 'out')
    shutil.copytree(ran, out)
    said = []
    ctx = _ctx(out, data_root, said.append)
    assert fp.status == q.status == 'done' and fp.done and q.done
    assert [c.epoch for c in q.curve] == [1, 2] and q.epochs_done == 2
    # each epoch's test accuracy is observed; the last epoch's is the ANN's result, measured again on its own
    assert all(c.test_acc is not None for c in q.curve + fp.curve)
    assert q.curve[-1].test_acc == q.ann.accuracy and fp.curve[-1].test_acc == fp.ann.accuracy
    # the SNN's exact reference, the float64 quantized ANN, is recorded beside TensorFlow's float32 ANN
    assert fp.ann_float64 is None and q.ann_float64.n == 40
    assert q.ann_float64.correct == q.snn.correct[-1]
    assert '--observe_test True' in q.commands['train']
    assert fp.snn is None and fp.ann.n == 40
    snn = q.snn
    assert snn.n == 40 and len(snn.correct) == 6
    assert len(snn.spikes_per_step) == len(snn.sops_per_step) == 6
    assert snn.spikes_per_step[-1] == snn.spikes_per_image and snn.sops_per_step[-1] == snn.sops_per_image
    assert snn.spikes_per_step == sorted(snn.spikes_per_step)  # cumulative
    assert len(snn.spikes_per_layer) == 5 and abs(sum(snn.spikes_per_layer) - snn.spikes_per_image) < 0.5
    assert snn.correct[-1] == q.ann.correct, 'lossless: the SNN ends where the ANN is'
    assert os.path.isfile(os.path.join(out, snn.log_dir, 'accuracy.txt'))
    for step in ('train', 'inference', 'simulate'):
        assert q.commands[step].startswith('cd MNIST && python ')

    # a second run finds every row finished: nothing runs, nothing changes
    stamp = [os.path.getmtime(ctx.record_path(r)) for r in table.rows]
    logs = [os.path.getsize(os.path.join(out, 'MNIST', 'records', r.id + '.log')) for r in table.rows]
    said[:] = []
    runner.run_table(ctx, table)
    assert not [s for s in said if s.startswith('  $ ')]
    assert [os.path.getsize(os.path.join(out, 'MNIST', 'records', r.id + '.log')) for r in table.rows] == logs
    assert [os.path.getmtime(ctx.record_path(r)) for r in table.rows] == stamp

    # the document shows both rows with our numbers beside the paper's
    doc = _results_doc(tmp_path)
    with mock.patch.object(report, 'TABLES', {'tiny': table}):
        assert report.write_results(ctx, doc)
        assert not report.stale(ctx, doc)
        text = open(doc).read()
        # the quantized row's figure is drawn from its record, embedded, and covered by the staleness check
        fig = os.path.join(out, 'figs', 'results', q.row + '.png')
        assert open(fig, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
        assert '![%s](figs/results/%s.png)' % (q.row, q.row) in text
        assert sorted(os.listdir(os.path.dirname(fig))) == [q.row + '.png']  # none for the full-precision row
        with open(fig, 'ab') as f:
            f.write(b'x')
        assert report.stale(ctx, doc) == [os.path.join('figs', 'results', q.row + '.png')]
        assert report.write_results(ctx, doc) and not report.stale(ctx, doc)
    line = [l for l in text.splitlines() if l.startswith('| 20C5-P2-50C5-P2-500, k=1 |')][0]
    assert '99.32 % / 99.32 % / 13' in line and '%.2f %%' % q.ann.accuracy in line
    assert ('| yes (float64 ANN too) |' if q.ann_float64.correct == q.ann.correct else
            '| yes, with the float64 ANN (float64 ANN') in line
    assert text.startswith('intro\n') and text.endswith('tail\n')

    # --observe: a row trained without observing the test accuracy gets it by training again; deterministic
    # training gives the same weights, so the observations are exactly those of the original run
    quiet = _ctx(out, echo=lambda s: None)
    for row, rec in zip(table.rows, recs):
        run = runner.RowRun(quiet, table, row, tiny_mnist)
        run.save(curve=[c._replace(test_acc=None) for c in rec.curve])
    assert observe.observe_table(ctx, table) == [r.id for r in table.rows]
    for row, rec in zip(table.rows, recs):
        again = ctx.read_record(row)
        assert again.curve == rec.curve and again.observing == {}
        assert '--observe_test True' in again.observed.command
    assert observe.observe_table(ctx, table) == []
    # weights that training again does not give: refused, nothing recorded
    from snn_conversion.core.checkpoint import load_checkpoint, save_checkpoint
    model = os.path.join(out, 'MNIST', table.rows[1].id + '.npz')
    params, meta = load_checkpoint(model)
    save_checkpoint(model, [params[0] + 1.0] + list(params[1:]), **{key: meta[key] for key in
                    ('architecture', 'k', 'B', 'weight_quant', 'dataset', 'epoch', 'learning_rate')})
    run = runner.RowRun(quiet, table, table.rows[1], tiny_mnist)
    run.save(curve=[c._replace(test_acc=None) for c in q.curve])
    with pytest.raises(runner.UserError, match='did not give the weights'):
        observe.observe_row(run)
    assert all(c.test_acc is None for c in ctx.read_record(table.rows[1]).curve)

    # --repeat: the full-precision row trained again with seed 1, in a record of its own; resumable
    row_stamp = os.path.getmtime(ctx.record_path(table.rows[0]))
    first = repeat.repeat_table(ctx, _table(epochs=1), 1, rows=['lenet_mnist_fp32'])[0]
    assert [c.epoch for c in first.curve] == [1] and first.done
    said[:] = []
    rep = repeat.repeat_table(ctx, table, 1, rows=['lenet_mnist_fp32'])[0]
    assert rep.done and [c.epoch for c in rep.curve] == [1, 2] and rep.epochs_done == 2
    assert rep.curve[0] == first.curve[0]
    assert '--seed 1' in rep.commands['train'] and '--resume True' in rep.commands['train']
    assert '--observe_test True' in rep.commands['train']
    assert rep.curve[-1].test_acc == rep.ann.accuracy and rep.ann.n == 40
    mine = load_checkpoint(os.path.join(out, 'MNIST', 'repeats', 'lenet_mnist_fp32_seed1.npz'))[0]
    row_params = load_checkpoint(os.path.join(out, 'MNIST', 'lenet_mnist_fp32.npz'))[0]
    assert not np.array_equal(mine[0], row_params[0]), 'another seed, another initialisation'
    assert os.path.getmtime(ctx.record_path(table.rows[0])) == row_stamp  # the row's record: untouched
    assert repeat.read_repeats(ctx.records, table.rows[0]) == {1: rep}
    said[:] = []
    repeat.repeat_table(ctx, table, 1, rows=['lenet_mnist_fp32'])
    assert not [s for s in said if s.startswith('  $ ')]  # finished: nothing runs again
    with pytest.raises(runner.UserError, match='seed 0 is the row itself'):
        repeat.RepeatRun(runner.RowRun(_ctx(out), table, table.rows[0], tiny_mnist), 0)
    with mock.patch.object(report, 'TABLES', {'tiny': table}):
        report.write_results(ctx, doc)
        text = open(doc).read()
    line = [l for l in text.splitlines() if l.startswith('| 20C5-P2-50C5-P2-500, full precision | 99.28 % | seed 0')][0]
    finals = [fp.ann.accuracy, rep.ann.accuracy]
    assert '| seed 0: %.2f %%, seed 1: %.2f %% | %.2f %% (2 runs) |' % (finals[0], finals[1], sum(finals) / 2) in line
    pooled = [c.test_acc for c in fp.curve + rep.curve]
    assert line.endswith('| %.2f ± %.2f (%.2f–%.2f) (2 runs) |' % (np.mean(pooled), np.std(pooled, ddof=1),
                                                                     min(pooled), max(pooled)))
    assert '`python reproduce.py tiny --rows ROW --repeat SEED`' in text


def _ctx(out, data_root=None, echo=lambda s: None):
    return RunContext(root=out, data_root=data_root, echo=echo)


def _results_doc(tmp_path):
    path = str(tmp_path / 'RESULTS.md')
    with open(path, 'w') as f:
        f.write('intro\n%s\n%s\ntail\n' % (report.BEGIN, report.END))
    return path


def _verify(finished, **kw):
    table, data_root, out, _ = finished
    said = []
    ok = verify.verify(_ctx(out, data_root, said.append), [table], **kw)
    return ok, [s for s in said if s.startswith('| ')][1:]  # the rows, without the header


def _edit_record(row, out, edit):
    """Change the row's record file under ``out`` as a hand edit does (its JSON); returns (path, the text before)."""
    path = _ctx(out).record_path(row)
    with open(path) as f:
        original = f.read()
    rec = json.loads(original)
    edit(rec)
    with open(path, 'w') as f:
        json.dump(rec, f)
    return path, original


def test_finished_rows_ship_their_checkpoint(finished):
    table, _, out, _ = finished
    for row in table.rows:
        rec = _ctx(out).read_record(row)
        shipped = os.path.join(out, 'MNIST', rec.pretrained.file)
        assert rec.pretrained.file == os.path.join('pretrained', row.id + '.npz')
        assert file_sha256(shipped) == rec.checkpoint_sha256 == rec.pretrained.sha256


def test_verify_equal_then_each_changed_number_is_named(finished):
    table, data_root, out, _ = finished
    ok, lines = _verify(finished)
    assert ok and len(lines) == 2 and all(l.endswith('| equal |') for l in lines), lines
    assert 'SNN correct' in lines[1] and 'float64 ANN correct' in lines[1] and 'SNN sops_per_image' in lines[1]
    # the numbers derived once, compared with records changed in one number each
    q = table.rows[1]
    ctx = _ctx(out, data_root)
    run = runner.RowRun.make(ctx, table, q)
    derived = verify.derive(run, run.pretrained_file(), echo=lambda s: None)
    rec = ctx.read_record(q)
    assert not [d for _, d in verify.compare(rec, derived) if d]
    for edit, named in [(lambda r: r['ann'].update(correct=r['ann']['correct'] + 1), 'ANN correct: recorded'),
                        (lambda r: r['ann_float64'].update(correct=r['ann_float64']['correct'] - 1),
                         'float64 ANN correct: recorded'),
                        (lambda r: r['snn']['correct'].__setitem__(3, r['snn']['correct'][3] + 1),
                         'SNN correct[step 4]: recorded'),
                        (lambda r: r['snn'].update(first_step=(r['snn']['first_step'] or 0) + 1),
                         'SNN first_step: recorded'),
                        (lambda r: r['snn'].update(spikes_per_image=r['snn']['spikes_per_image'] + 0.1),
                         'SNN spikes_per_image: recorded'),
                        (lambda r: r['snn'].update(sops_per_image=r['snn']['sops_per_image'] + 0.1),
                         'SNN sops_per_image: recorded'),
                        (lambda r: r['snn']['spikes_per_step'].__setitem__(2, 0.5),
                         'SNN spikes_per_step[step 3]: recorded')]:
        changed = rec.stored()  # (a record as a hand edit leaves it)
        edit(changed)
        diffs = [d for _, d in verify.compare(Record(changed), derived) if d]
        assert len(diffs) == 1 and diffs[0].startswith(named), diffs
    # --fill: a record written before the per-step and per-layer numbers existed gets them, and nothing else
    path, original = _edit_record(q, out, lambda r: [r['snn'].pop(name) for name in verify.SNN_STEP_FIELDS])
    try:
        older = ctx.read_record(q)
        assert not [d for _, d in verify.compare(older, derived) if d]
        assert verify.fill_record(ctx, q, older, derived) == list(verify.SNN_STEP_FIELDS)
        filled = ctx.read_record(q)
        assert filled.snn == rec.snn and filled.copy().update(updated='0') == rec.copy().update(updated='0')
        assert verify.fill_record(ctx, q, filled, derived) == []
    finally:
        with open(path, 'w') as f:
            f.write(original)


def test_verify_refuses_a_shipped_file_of_another_sha256(finished):
    table, _, out, _ = finished
    row = table.rows[0]
    path = os.path.join(out, 'MNIST', 'pretrained', row.id + '.npz')
    with open(path, 'rb') as f:
        original = f.read()
    with open(path, 'ab') as f:
        f.write(b'\0')
    try:
        ok, lines = _verify(finished, rows=[row.id])
        # --list and RESULTS.md show it as what it is: stale, never as done
        from unittest import mock
        from snn_conversion.reproduce import report
        with mock.patch.object(report, 'TABLES', {'tiny': table}):
            listed = [l for l in report.status_lines(_ctx(out)) if row.id in l][0]
            assert 'STALE' in listed and 'done' not in listed, listed
            assert '**Stale**: the shipped checkpoint of %s' % row.id in report.render_tables(_ctx(out))
    finally:
        with open(path, 'wb') as f:
            f.write(original)
    assert not ok and 'checkpoint sha256: recorded' in lines[0]


def test_a_fresh_clone_counts_shipped_rows_as_finished(finished, tmp_path):
    """Without the training's checkpoint (git does not carry it) the shipped one makes the row finished."""
    table, data_root, out, _ = finished
    moved = []
    for row in table.rows:
        local = os.path.join(out, 'MNIST', row.id + '.npz')
        os.rename(local, str(tmp_path / (row.id + '.npz')))
        moved.append((str(tmp_path / (row.id + '.npz')), local))
    try:
        said = []
        runner.run_table(_ctx(out, data_root, said.append), table)
        assert not [s for s in said if s.startswith('  $ ')] and sum('finished earlier' in s for s in said) == 2
    finally:
        for src, dst in moved:
            os.rename(src, dst)


def _cli(*args):
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--verify'] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stdout, p.stderr.strip().splitlines()


def test_verify_cli_bad_input_is_one_line():
    rc, _, err = _cli('--rows', 'no_such_row')
    assert rc == 2 and len(err) == 1 and 'no table has row no_such_row' in err[0]
    unfinished = [r.id for _, r in tables.all_rows() if not (RunContext().read_record(r) or Record()).done]
    if unfinished:  # a row of the repository's tables not at its budget yet
        rc, _, err = _cli('--rows', unfinished[0])
        assert rc == 2 and len(err) == 1 and '%s is not finished' % unfinished[0] in err[0]
    rc, _, err = _cli('--measure')
    assert rc == 2 and len(err) == 1 and 'separate runs' in err[0]
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--fill'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 2 and p.stderr.strip() == 'error: --fill goes with --verify (it fills records from a ' \
                                                    'verified run)'


SHIPPED_ROW = 'mlp_fashionmnist_k1'


def test_verify_a_shipped_row_end_to_end(tmp_path, capsys, derived_once):
    """CI's end-to-end check of a published row: its shipped checkpoint gives every number of its record.  The
    same with one number of the record changed by one image exits 1 and names it (the numbers derived once: the
    command line's run, in this process, derives them for the copy too)."""
    path = os.path.join(ROOT, 'FashionMNIST', 'pretrained', SHIPPED_ROW + '.npz')
    if not os.path.isfile(path):
        pytest.skip('%s is not shipped' % path)
    from snn_conversion.data.datasets import DatasetError, find_dataset_dir
    try:
        find_dataset_dir('fashion_mnist')
    except DatasetError:
        pytest.skip('Fashion-MNIST is not installed (make data)')
    derived = len(derived_once)
    rc = run_cli(cli.main, ['--verify', '--rows', SHIPPED_ROW])
    out, err = capsys.readouterr()
    assert rc == 0, (out, err)
    assert len(derived_once) == derived + 1, 'the row derived once'
    assert '| %s | ' % SHIPPED_ROW in out and out.rstrip().endswith('| equal |')
    # the same row with its record's ANN count changed by one image, in a copy of the workspace's files
    import shutil
    table = [t for t in tables.TABLES.values() if SHIPPED_ROW in [r.id for r in t.rows]][0]
    copy = str(tmp_path / 'copy')
    for sub in ('records', 'pretrained'):
        shutil.copytree(os.path.join(ROOT, 'FashionMNIST', sub), os.path.join(copy, 'FashionMNIST', sub))
    row = [r for r in table.rows if r.id == SHIPPED_ROW][0]
    _edit_record(row, copy, lambda r: r['ann'].update(correct=r['ann']['correct'] - 1))
    said = []
    assert not verify.verify(_ctx(copy, echo=said.append), rows=[SHIPPED_ROW])
    assert 'ANN correct: recorded' in said[-1] and 'SNN correct' not in said[-1].split('|')[3], said[-1]
    assert len(derived_once) == derived + 1, 'the copy is the same checkpoint, on the same data'


def test_usage_lists_every_shipped_checkpoint_and_nothing_else():
    """docs/usage.md's "Shipped networks" block names every shipped checkpoint (a quantized row by its Spiking_
    command, a full-precision one by its FP32_ inference), each in the workspace its `cd` line enters."""
    import glob
    import re
    with open(os.path.join(ROOT, 'docs', 'usage.md')) as f:
        text = f.read()
    section = text.split('## Shipped networks', 1)[1].split('\n## ', 1)[0]
    listed, workspace = set(), None
    for line in section.split('\n'):
        cd = re.match(r'^cd (?:\.\./)?(\w+)$', line)
        workspace = cd.group(1) if cd else workspace
        run = re.match(r'^python (?:Spiking|FP32)_\w+\.py .*--model_file (pretrained/\w+\.npz)', line)
        if run:
            listed.add((workspace, run.group(1)))
    shipped = set((p.split(os.sep)[-3], 'pretrained/' + os.path.basename(p))
                  for p in glob.glob(os.path.join(ROOT, '*', 'pretrained', '*.npz')))
    assert listed == shipped


def test_verify_of_a_whole_table_checks_what_ships_and_lists_the_rest(finished, tmp_path):
    """With no rows named, every row that ships its checkpoint is verified; the others are listed with the reason
    (not run here; finished, but its checkpoint not shipped) and do not make the run fail."""
    import shutil
    table, data_root, out, _ = finished
    copy = str(tmp_path / 'clone')
    shutil.copytree(out, copy)
    fp32 = table.rows[0]
    os.remove(os.path.join(copy, 'MNIST', 'pretrained', fp32.id + '.npz'))
    unrun = tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', 2, 2, 1e-3, 50, (None, None, None), time_steps=6)
    bigger = tables.Table('tiny', '001', 'tiny', '20C5-P2-50C5-P2-500', list(table.rows) + [unrun])
    said = []
    assert verify.verify(_ctx(copy, data_root, said.append), [bigger])
    rows = dict((line.split(' | ')[0][2:], line) for line in said if line.startswith('| lenet'))
    assert rows['lenet_mnist_k1'].endswith('| equal |')
    assert 'not verified: full precision not yet shipped' in rows['lenet_mnist_fp32']
    assert 'not verified: not run here (no record)' in rows['lenet_mnist_k2']
