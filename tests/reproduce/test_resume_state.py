"""A row's resume state shipped in the repository: a fresh clone continues the training identically."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from unittest import mock

from conftest import ROOT, make_mnist_like

from snn_conversion.core.checkpoint import load_checkpoint, train_state_path
from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import file_sha256, read_npz
from snn_conversion.core.records import Record
from snn_conversion.reproduce import repeat, report, resume, runner, tables
from snn_conversion.reproduce.context import RunContext


def _table(epochs):
    row = tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', 1, epochs, 1e-3, 50, (99.32, 99.32, 13), time_steps=4)
    return tables.Table('tiny', '001', 'tiny MNIST LeNet', '20C5-P2-50C5-P2-500', [row])


def _row_run(epochs, data, root, echo=lambda s: None):
    table = _table(epochs)
    return runner.RowRun(RunContext(root=root, echo=echo), table, table.rows[0], data)


def _train(epochs, data, root):
    run = _row_run(epochs, data, root)
    run.train()
    return run


def _weights_and_state(run):
    params = load_checkpoint(run.model_file)[0]
    return params, read_npz(train_state_path(run.model_file))


def _clone(src, dst):
    """What git carries of a run folder: the records and the shipped resume states (checkpoints are ignored)."""
    for sub in ('records', 'resume'):  # (with their repeats/ folders)
        if os.path.isdir(os.path.join(src, 'MNIST', sub)):
            shutil.copytree(os.path.join(src, 'MNIST', sub), os.path.join(dst, 'MNIST', sub),
                            ignore=shutil.ignore_patterns('*.log'))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_mnist_like(str(tmp_path_factory.mktemp('data') / 'mnist'), n_train=300, n_test=40)


@pytest.fixture(scope='module')
def one_epoch(tmp_path_factory, data):
    """A run folder whose row has trained one epoch (of a budget of one): its checkpoint, state and record."""
    root = str(tmp_path_factory.mktemp('one_epoch'))
    _train(1, data, root)
    return root


def _trained_one_epoch(one_epoch, root):
    """A copy of the run folder :func:`one_epoch` at ``root`` (as if its epoch had been trained there)."""
    shutil.copytree(one_epoch, root)
    return root


def test_export_then_fresh_clone_continues_identically(tmp_path, data, one_epoch):
    whole = _train(2, data, str(tmp_path / 'whole'))  # 2 epochs without a break
    first = _row_run(1, data, _trained_one_epoch(one_epoch, str(tmp_path / 'first')))  # 1 epoch, then work pauses
    paused = _row_run(2, data, str(tmp_path / 'first'))
    assert paused.export_resume() == 1
    shipped = paused.record.resume
    assert shipped.epoch == 1 and shipped.file == os.path.join('resume', 'lenet_mnist_k1.npz')
    assert os.path.isfile(first.resume_file()) and shipped.sha256 == file_sha256(first.resume_file())

    fresh = str(tmp_path / 'fresh')
    _clone(str(tmp_path / 'first'), fresh)
    assert not os.path.exists(os.path.join(fresh, 'MNIST', 'lenet_mnist_k1.npz'))
    said = []
    cont = _row_run(2, data, fresh, said.append)
    cont.train()
    assert any('resume state of epoch 1 unpacked' in s for s in said)
    with open(cont.log_file) as f:
        assert 'resumed %s: 1 epoch(s) done' % train_state_path(cont.model_file) in f.read()
    (p_whole, s_whole), (p_cont, s_cont) = _weights_and_state(whole), _weights_and_state(cont)
    assert len(p_whole) == len(p_cont) and all(np.array_equal(a, b) for a, b in zip(p_whole, p_cont))
    assert sorted(s_whole) == sorted(s_cont) and all(np.array_equal(s_whole[k], s_cont[k]) for k in s_whole)
    # the curve is the uninterrupted run's, and the finished row no longer ships a resume state
    assert [c[:3] for c in cont.record.curve] == [c[:3] for c in whole.record.curve]
    assert cont.record.resume is None and not os.path.exists(cont.resume_file())


def test_resume_state_that_does_not_match_its_record_is_refused(tmp_path, data, one_epoch):
    _trained_one_epoch(one_epoch, str(tmp_path / 'a'))
    run = _row_run(3, data, str(tmp_path / 'a'))
    run.export_resume()
    fresh = str(tmp_path / 'fresh')
    _clone(str(tmp_path / 'a'), fresh)
    path = os.path.join(fresh, 'MNIST', 'resume', 'lenet_mnist_k1.npz')
    with open(path, 'ab') as f:
        f.write(b'x')
    cont = _row_run(3, data, fresh)
    with pytest.raises(UserError, match='does not match the sha256 its record names'):
        cont.train()
    assert not os.path.exists(cont.model_file)
    # a resume state the record does not name at all
    os.remove(cont.record_file)
    cont = _row_run(3, data, fresh)
    with pytest.raises(UserError, match='has no record of'):
        cont.train()


def test_export_waits_for_the_two_files_to_agree(tmp_path, data, one_epoch):
    run = _row_run(1, data, _trained_one_epoch(one_epoch, str(tmp_path / 'a')))
    state = read_npz(train_state_path(run.model_file))
    state['__epoch__'] = np.array(0)  # as if the training had written the checkpoint and not yet its state
    np.savez(train_state_path(run.model_file), **state)
    with pytest.raises(UserError, match='at epoch 1 but .* at epoch 0'):
        resume.export_state(run.model_file, str(tmp_path / 'b.npz'), tries=2, wait=0.01)
    assert not os.path.exists(str(tmp_path / 'b.npz'))


def test_report_says_where_an_unfinished_row_continues_from():
    row = _table(10).rows[0]
    curve = [[e, 90.0 + e, 0.1, 30.0] for e in range(1, 7)]
    lost = Record(curve=curve, epochs_done=6, status='training')
    cells = report._row_cells(RunContext(), row, lost)
    assert '6 epochs were trained but not kept' in cells[3] and '`--restart` trains it again from epoch 0' in cells[3]
    kept = lost.copy().update(resume=dict(epoch=4, file='resume/lenet_mnist_k1.npz', sha256='0' * 64))
    cells = report._row_cells(RunContext(), row, kept)
    assert '4 of 10 epochs (resume state `MNIST/resume/lenet_mnist_k1.npz` shipped), val acc 94.00 %' in cells[3]
    assert 'trained to 6 on a machine that has not shipped it' in cells[3] and '≈ 3 min left' in cells[3]


def test_cli_export_resume(tmp_path):
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), 'fashion_mnist', '--export_resume',
                        '--measure'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and 'separate runs' in p.stderr
    # --export_resume with --repeat SEED: the repeats' states, not the rows'
    from snn_conversion.reproduce import cli
    calls = []
    with mock.patch.object(repeat, 'export_repeats', lambda ctx, *a, **k: calls.append(('repeats', a, k)) or {}), \
            mock.patch.object(runner, 'export_table', lambda ctx, *a, **k: calls.append(('rows', a, k)) or {}), \
            mock.patch.object(report, 'write_results', lambda ctx: False):
        assert cli.main(['fashion_mnist', '--rows', 'mlp_fashionmnist_k1', '--repeat', '2', '--export_resume']) == 0
        assert cli.main(['fashion_mnist', '--export_resume']) == 0
    assert calls == [('repeats', ('fashion_mnist', 2), dict(rows=['mlp_fashionmnist_k1'], variant=None)),
                     ('rows', ('fashion_mnist',), dict(rows=None))]


def test_export_beside_a_running_training_stays_in_its_record(tmp_path, data, one_epoch):
    """``--export_resume`` while the runner trains: the runner's next record write keeps the export."""
    root = _trained_one_epoch(one_epoch, str(tmp_path / 'a'))
    training, exporter = _row_run(4, data, root), _row_run(4, data, root)
    assert exporter.export_resume() == 1
    training.save(epochs_done=1)  # the training's own record, loaded before the export
    assert RunContext(root=root).read_record(training.row).resume.epoch == 1
    os.remove(exporter.resume_file())  # a resume state whose file is gone is not kept
    training.record.drop('resume')
    training.save()
    assert RunContext(root=root).read_record(training.row).resume is None


def _repeat(epochs, data, root, echo=lambda s: None):
    return repeat.RepeatRun(_row_run(epochs, data, root, echo), 1)


def _repeats(run, root):
    """{seed: record} of the repeats of ``run``'s row under ``root``, as a fresh reader sees them."""
    return repeat.read_repeats(RunContext(root=root).records, run.row)


def _train_only(rep):
    """``rep.execute()`` up to its training's end: the work pauses before the evaluation."""
    real = repeat.RepeatRun._script

    class Paused(Exception):
        pass

    def train(self, step, argv, on_line):
        if step != 'train':
            raise Paused()
        real(self, step, argv, on_line)
    with mock.patch.object(repeat.RepeatRun, '_script', train), pytest.raises(Paused):
        rep.execute()


def test_repeat_export_then_fresh_clone_continues_identically(tmp_path, data):
    """A repeat (the row trained again with another seed) ships its resume state as a row does."""
    whole = _repeat(3, data, str(tmp_path / 'whole'))
    whole.execute()
    _train_only(_repeat(1, data, str(tmp_path / 'first')))  # 1 epoch, then work pauses
    paused = _repeat(3, data, str(tmp_path / 'first'))
    assert paused.export_resume() == 1
    shipped = _repeats(paused.run, str(tmp_path / 'first'))[1].resume
    assert shipped.file == os.path.join('resume', 'repeats', 'lenet_mnist_k1_seed1.npz')
    assert shipped.sha256 == file_sha256(paused.slot.path)
    assert _repeat(1, data, str(tmp_path / 'whole')).export_resume() is None  # trained: nothing to export

    fresh = str(tmp_path / 'fresh')
    _clone(str(tmp_path / 'first'), fresh)
    said = []
    cont = _repeat(3, data, fresh, said.append)
    assert not os.path.exists(cont.model_file)
    rec = cont.execute()
    assert any('seed 1: resume state of epoch 1 unpacked' in s for s in said)
    assert '--resume True' in rec.commands['train']
    p_whole, p_cont = load_checkpoint(whole.model_file)[0], load_checkpoint(cont.model_file)[0]
    assert all(np.array_equal(a, b) for a, b in zip(p_whole, p_cont))
    assert [c[:3] for c in rec.curve] == [c[:3] for c in whole.record.curve]
    assert rec.ann.accuracy == whole.record.ann.accuracy and rec.done
    assert rec.resume is None and not os.path.exists(cont.slot.path)
    # a finished repeat whose checkpoint is gone (a fresh clone) is its record: not trained again
    os.remove(cont.model_file)
    said[:] = []
    assert _repeat(3, data, fresh, said.append).execute() == rec
    assert not [s for s in said if s.startswith('  $ ')]


def _stop_at_training(root):
    """A stand-in for the training's child process: it notes the command and the record as it is when the training
    starts, then ends the run (nothing is trained)."""
    seen = []

    class Stop(Exception):
        pass

    def train(owner, run, step, argv, on_line, what, save=True):
        seen.append((step, argv, _repeats(run, root)[1]))
        raise Stop()

    return seen, Stop, mock.patch.object(repeat, 'run_recorded', train)


def test_repeat_without_its_checkpoint_is_not_restarted_silently(tmp_path, data):
    """A repeat record whose checkpoint is gone and whose epochs no shipped resume state holds is refused in one
    line naming what is missing and the two ways on; nothing in the record changes.  With --restart it trains from
    epoch 0 and the record keeps the earlier numbers as earlier_run."""
    root = str(tmp_path / 'a')
    run = _repeat(2, data, root)
    curve = [[1, 80.0, 1.0, 30.0, 79.5], [2, 85.0, 0.5, 30.0, 84.0]]
    run.save(curve=curve, epochs_done=2, status='training', train_seconds=60.0)
    before = _repeats(run.run, root)[1]
    seen, Stop, patch = _stop_at_training(root)
    with patch, pytest.raises(UserError) as e:
        _repeat(2, data, root).execute()
    message = str(e.value)
    assert '\n' not in message and 'its record claims 2 trained epochs' in message and '--restart' in message
    assert not seen and _repeats(run.run, root)[1] == before

    # the same when its shipped resume state is missing: the message names the file and how to restore it
    run.save(resume=dict(epoch=2, sha256='a' * 64, file='resume/repeats/x.npz', bytes=10))
    before = _repeats(run.run, root)[1]
    with patch, pytest.raises(UserError, match=r'shipped resume state \S+lenet_mnist_k1_seed1.npz \(epoch 2\) is '
                                                r'missing: restore it from git'):
        _repeat(2, data, root).execute()
    assert _repeats(run.run, root)[1] == before

    restarted = _repeat(2, data, root)
    restarted.restart = True
    with patch, pytest.raises(Stop):
        restarted.execute()
    (step, argv, rec), = seen
    assert step == 'train' and '--resume' not in argv
    assert rec == before, 'the record changes only once the training has finished an epoch'
    restarted._start.begin()  # its first epoch
    rec = _repeats(run.run, root)[1]
    assert rec.curve == [] and rec.epochs_done == 0 and rec.status == 'training' and rec.resume is None
    assert rec.earlier_run.stored()['curve'] == curve and rec.earlier_run.epochs_done == 2
    assert rec.earlier_run.train_seconds == 60.0 and rec.earlier_run.resume.epoch == 2
    text = report._run_final(RunContext(), run.run.row,
                             Record(curve=[[1, 80.0, 1.0, 30.0]], epochs_done=1, status='training'))
    assert 'not kept: no resume state shipped' in text
