"""Nothing recorded is ever lost by the table runner, and every refusal says why in one line (issue 35).

A run whose record claims epochs that no checkpoint here and no shipped resume state holds is refused, never
restarted silently (``--restart`` is the explicit way, keeping the old numbers); the record changes only once a
training has really started; a resume state and its record change together; a shipped file without its record
is an error; selections and ``--data_root`` are checked; a failing child's own reason is in the runner's line.
"""
import json
import os
import shutil
import sys
from unittest import mock

import pytest

from conftest import make_cifar_like, make_mnist_like

from snn_conversion.core.checkpoint import train_state_path
from snn_conversion.core.errors import UserError, run_cli
from snn_conversion.core.fileio import file_sha256
from snn_conversion.core.lock import LockedError
from snn_conversion.reproduce import cli, repeat, report, resume, runner, scripts, tables
from snn_conversion.reproduce.context import RunContext
from snn_conversion.reproduce.data import dataset_dir


def _table(epochs=3):
    rows = [tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', 1, epochs, 1e-3, 50, (99.32, 99.32, 13), time_steps=4)]
    return tables.Table('tiny', '001', 'tiny MNIST LeNet', '20C5-P2-50C5-P2-500', rows)


ROW = _table().rows[0]


def _run(root, data=None, epochs=3, restart=False):
    table = _table(epochs)
    run = runner.RowRun(RunContext(root=root, echo=lambda s: None), table, table.rows[0], data)
    run.restart = restart
    return run


def _record(root):
    """The row's record under ``root``, as a fresh reader sees it."""
    return RunContext(root=root).read_record(ROW)


def _read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A tiny row's checkpoint and training state after epoch 1 and after epoch 2 (copies), and its data."""
    base = tmp_path_factory.mktemp('trained')
    data = make_mnist_like(str(base / 'data' / 'mnist'), n_train=300, n_test=40)
    root = str(base / 'run')
    out = {}
    for epochs in (1, 2):
        run = _run(root, data, epochs)
        run.train()
        keep = str(base / ('epoch%d' % epochs))
        os.makedirs(keep)
        for path in (run.model_file, train_state_path(run.model_file)):
            shutil.copy(path, keep)
        out[epochs] = keep
    out['data'] = data
    return out


def _put_checkpoint(trained, epoch, run):
    for name in os.listdir(trained[epoch]):
        dest = os.path.join(os.path.dirname(run.model_file), name)
        if not os.path.isdir(os.path.dirname(dest)):
            os.makedirs(os.path.dirname(dest))
        shutil.copy(os.path.join(trained[epoch], name), dest)


def _stop_at_training():
    """A stand-in for the runner's child processes: notes the step, then ends the run."""
    seen = []

    class Stop(Exception):
        pass

    def step(owner, run, name, argv, on_line, what, save=True):
        seen.append((name, argv))
        raise Stop()

    return seen, Stop, mock.patch.object(runner, 'run_recorded', step)


# ---- 1. a record's epochs are never dropped silently ------------------------------------------------------------

FINISHED = dict(status='done', epochs_done=3, curve=[[1, 90.0, 0.5, 10.0], [2, 91.0, 0.4, 10.0], [3, 92.0, 0.3, 10.0]],
                train_seconds=30.0, checkpoint_sha256='c' * 64,
                ann=dict(accuracy=92.5, correct=37, n=40, seconds=1.0, checkpoint_sha256='c' * 64),
                snn=dict(accuracy=[92.5] * 4, correct=[37] * 4, final=92.5, first_step=1, stable_step=1, n=40,
                         time_steps=4, spikes_per_image=10.0, sops_per_image=100.0, seconds=1.0))


@pytest.mark.parametrize('fields, missing', [
    (dict(status='training', epochs_done=2, curve=[[1, 90.0, 0.5, 10.0], [2, 91.0, 0.4, 10.0]]),
     'no checkpoint \\S+lenet_mnist_k1.npz is here and no resume state was shipped for them'),
    (dict(status='training', epochs_done=2, curve=[[1, 90.0, 0.5, 10.0], [2, 91.0, 0.4, 10.0]],
          resume=dict(epoch=2, sha256='d' * 64, file='resume/lenet_mnist_k1.npz', bytes=100)),
     'its shipped resume state \\S+lenet_mnist_k1.npz \\(epoch 2\\) is missing: restore it from git'),
    (FINISHED, 'its finished checkpoint is neither here'),
])
def test_a_row_whose_epochs_cannot_be_continued_is_refused_then_restarted_on_request(tmp_path, fields, missing):
    root = str(tmp_path)
    run = _run(root)
    run.save(**json.loads(json.dumps(fields)))
    before = _read_bytes(run.record_file)
    seen, Stop, patch = _stop_at_training()
    with patch, pytest.raises(UserError) as e:
        _run(root).run()
    message = str(e.value)
    assert '\n' not in message and message.startswith('lenet_mnist_k1: its record claims')
    assert __import__('re').search(missing, message), message
    assert '--restart' in message and not seen and _read_bytes(run.record_file) == before

    restarted = _run(root, restart=True)
    with patch, pytest.raises(Stop):
        restarted.run()
    assert seen[0][0] == 'train' and '--resume' not in seen[0][1]
    assert _read_bytes(run.record_file) == before, 'nothing changes before the training has really started'
    restarted._start.begin()
    rec = _record(root)
    earlier = rec.earlier_run
    assert rec.status == 'training' and rec.curve == [] and rec.epochs_done == 0
    assert earlier.stored()['curve'] == fields['curve'] and earlier.epochs_done == fields['epochs_done']
    assert (earlier.ann is not None) == ('ann' in fields) and rec.ann is None and rec.snn is None
    assert (earlier.resume is not None) == ('resume' in fields) and rec.resume is None


def test_a_run_that_can_continue_ignores_restart(tmp_path, trained):
    root = str(tmp_path)
    run = _run(root)
    _put_checkpoint(trained, 1, run)
    run.save(status='training', epochs_done=2, curve=[[1, 90.0, 0.5, 10.0], [2, 91.0, 0.4, 10.0]])
    said = []
    again = _run(root, restart=True)
    again.echo = said.append
    seen, Stop, patch = _stop_at_training()
    with patch, pytest.raises(Stop):
        again.run()
    assert '--resume' in seen[0][1] and any('nothing to restart: continuing from epoch 1' in s for s in said)


def test_a_failing_training_leaves_the_record_as_it_was(tmp_path, trained):
    """The training's child fails before its first epoch (here: another run holds the checkpoint): the record
    is not rewritten (no curve cut, no status, no command)."""
    root = str(tmp_path)
    run = _run(root, trained['data'])
    _put_checkpoint(trained, 1, run)
    run.save(status='training', epochs_done=1, curve=[[1, 90.0, 0.5, 10.0], [2, 91.0, 0.4, 10.0]])
    before = _read_bytes(run.record_file)
    from snn_conversion.core.lock import RunLock
    with RunLock(run.model_file[:-len('.npz')] + '.npz.lock', 'x'):
        pass  # (the scripts' own lock file name is theirs; the child is made to fail below instead)
    with mock.patch.object(runner, 'run_script', side_effect=UserError('train of x failed (exit 2): in use')):
        with pytest.raises(UserError, match='in use'):
            _run(root, trained['data']).run()
    assert _read_bytes(run.record_file) == before


def test_a_second_runner_on_the_same_row_or_repeat_fails_at_once(tmp_path):
    root = str(tmp_path)
    first = _run(root)
    with first.lock():
        with pytest.raises(LockedError, match='the row lenet_mnist_k1 is in use by another run'):
            _run(root).lock().acquire()
        # a repeat of the row is a run of its own
        rep = repeat.RepeatRun(_run(root), 1)
        with rep.lock():
            with pytest.raises(LockedError, match='the repeat lenet_mnist_k1, seed 1 is in use'):
                repeat.RepeatRun(_run(root), 1).lock().acquire()


# ---- 2. a resume state and its record change together ------------------------------------------------------------

def _exported(tmp_path, trained):
    """A run at epoch 1 exported, then its checkpoint moved on to epoch 2 (not exported yet)."""
    root = str(tmp_path / 'run')
    run = _run(root)
    _put_checkpoint(trained, 1, run)
    assert run.export_resume() == 1
    _put_checkpoint(trained, 2, run)
    return root, run


def _fresh_clone_epoch(root, dest):
    """The epoch a fresh clone (records and shipped states only) continues from."""
    shutil.copytree(os.path.join(root, 'MNIST', 'records'), os.path.join(dest, 'MNIST', 'records'))
    shutil.copytree(os.path.join(root, 'MNIST', 'resume'), os.path.join(dest, 'MNIST', 'resume'))
    clone = _run(dest)
    return clone.import_resume()


def _pair_agrees(run):
    entry = _record(run.root).resume
    return file_sha256(run.slot.path) in [entry.sha256] + ([entry.replaces.sha256] if entry.replaces else [])


def test_an_export_whose_record_write_fails_keeps_the_old_pair(tmp_path, trained, monkeypatch):
    root, run = _exported(tmp_path, trained)
    old = _record(root).resume
    monkeypatch.setenv('SNN_INJECT_WRITE_ERROR', 'lenet_mnist_k1.json')
    with pytest.raises(UserError, match='the export of lenet_mnist_k1 was stopped .*run the same --export_resume '
                                        'command again'):
        _run(root).export_resume()
    monkeypatch.delenv('SNN_INJECT_WRITE_ERROR')
    assert _record(root).resume == old and file_sha256(run.slot.path) == old.sha256
    assert not os.path.exists(run.slot.staged)
    assert _fresh_clone_epoch(root, str(tmp_path / 'clone')) == 1


def test_an_export_stopped_after_the_file_moved_is_mended_by_the_next_run(tmp_path, trained, monkeypatch):
    root, run = _exported(tmp_path, trained)
    from snn_conversion.core import fileio
    monkeypatch.setattr(fileio, '_INJECTED', [0])  # the injected failures this process has counted
    monkeypatch.setenv('SNN_INJECT_WRITE_ERROR', 'lenet_mnist_k1.json@2')  # the second record write fails
    with pytest.raises(UserError, match='was stopped'):
        _run(root).export_resume()
    monkeypatch.delenv('SNN_INJECT_WRITE_ERROR')
    entry = _record(root).resume
    assert entry.epoch == 2 and entry.replaces.epoch == 1 and _pair_agrees(run)
    assert _fresh_clone_epoch(root, str(tmp_path / 'clone')) == 2
    # the report claims no more than the earlier state until the record is mended
    assert report._kept(_record(root)) == 1
    again = _run(root)
    assert again.export_resume() == 2
    entry = _record(root).resume
    assert entry.replaces is None and entry.sha256 == file_sha256(run.slot.path)


def test_an_export_interrupted_before_the_file_moved_still_agrees(tmp_path, trained):
    root, run = _exported(tmp_path, trained)
    old_sha = file_sha256(run.slot.path)
    real_replace = os.replace

    def replace(src, dst):  # a SIGTERM just before the staged state takes the shipped one's place
        if src.endswith('.tmp-staged'):
            raise KeyboardInterrupt('SIGTERM received')
        return real_replace(src, dst)

    with mock.patch.object(resume.os, 'replace', side_effect=replace):
        with pytest.raises(UserError, match='was stopped \\(SIGTERM received\\)'):
            _run(root).export_resume()
    entry = _record(root).resume
    assert entry.epoch == 2 and entry.replaces.sha256 == old_sha == file_sha256(run.slot.path)
    assert not os.path.exists(run.slot.staged)
    assert _fresh_clone_epoch(root, str(tmp_path / 'clone')) == 1
    mended = _run(root)
    assert mended.slot.repair(mended.record)
    assert mended.record.resume.epoch == 1 and mended.record.resume.sha256 == old_sha


def test_a_resume_state_of_another_epoch_than_its_record_is_refused(tmp_path, trained):
    root, run = _exported(tmp_path, trained)
    rec = _record(root)
    os.remove(run.model_file)
    os.remove(train_state_path(run.model_file))
    rec.update(resume=rec.resume.replace(epoch=2))  # the file is epoch 1's
    with open(run.record_file, 'w') as f:
        f.write(rec.to_json())
    with pytest.raises(UserError, match='holds epoch 1, its record says 2'):
        _run(root).import_resume()
    assert not os.path.exists(run.model_file)


# ---- 4. a shipped file without its record ---------------------------------------------------------------------------

def _results_doc(tmp_path):
    path = str(tmp_path / 'RESULTS.md')
    with open(path, 'w') as f:
        f.write('intro\n%s\n%s\ntail\n' % (report.BEGIN, report.END))
    return path


@pytest.mark.parametrize('shipped', ['pretrained', 'resume', 'repeat'])
def test_a_shipped_file_without_its_record_is_an_error(tmp_path, shipped):
    root = str(tmp_path / 'clone')
    row = tables.TABLES['fashion_mnist'].rows[2]  # mlp_fashionmnist_k1
    folder = {'pretrained': 'pretrained', 'resume': 'resume', 'repeat': os.path.join('resume', 'repeats')}[shipped]
    name = row.id + ('_seed1' if shipped == 'repeat' else '') + '.npz'
    path = os.path.join(root, row.workspace, folder, name)
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as f:
        f.write(b'shipped')
    doc = _results_doc(tmp_path)
    before = _read_bytes(doc)
    with pytest.raises(UserError) as e:
        report.write_results(RunContext(root=root), doc)
    assert '\n' not in str(e.value) and 'is shipped but its record' in str(e.value) and name in str(e.value)
    assert _read_bytes(doc) == before and not os.path.isdir(os.path.join(root, 'figs'))
    assert any(line.startswith('RECORD MISSING: %s' % os.path.relpath(path, root))
               for line in report.status_lines(RunContext(root=root)))


def test_a_row_whose_shipped_checkpoint_lost_its_record_is_not_retrained_silently(tmp_path):
    root = str(tmp_path)
    run = _run(root)
    os.makedirs(os.path.dirname(run.pretrained_file()))
    with open(run.pretrained_file(), 'wb') as f:
        f.write(b'shipped')
    with pytest.raises(UserError, match='is shipped but its record \\S+ is missing: restore the record from git'):
        _run(root).run()
    assert not os.path.exists(run.record_file)


# ---- 3. a bad record leaves RESULTS.md and the figures as they were --------------------------------------------

def test_write_results_with_a_bad_record_writes_nothing(tmp_path):
    root = str(tmp_path / 'clone')
    row = tables.TABLES['fashion_mnist'].rows[2]
    ctx = RunContext(root=root)
    with open(RunContext().record_path(row)) as f:
        rec = json.load(f)
    rec['snn']['accuracy'][3] = float('nan')  # (the file as a hand edit leaves it)
    os.makedirs(os.path.dirname(ctx.record_path(row)))
    with open(ctx.record_path(row), 'w') as f:
        json.dump(rec, f)
    doc = _results_doc(tmp_path)
    before = _read_bytes(doc)
    with pytest.raises(UserError, match='field snn.accuracy is'):
        report.write_results(ctx, doc)
    with pytest.raises(UserError, match='field snn.accuracy is'):
        report.status_lines(ctx)
    assert _read_bytes(doc) == before and not os.path.isdir(os.path.join(root, 'figs'))


# ---- 5, 6. selections and --data_root -----------------------------------------------------------------------------

@pytest.mark.parametrize('argv, message', [
    (['fashion_mnist', '--rows', ''], "argument --rows: an empty row id in ''"),
    (['fashion_mnist', '--rows', 'mlp_fashionmnist_k1,'], 'an empty row id'),
    (['fashion_mnist', '--rows', 'mlp_fashionmnist_k1,mlp_fashionmnist_k1'], 'mlp_fashionmnist_k1 named twice in'),
    (['--list', '--write_results'], '--list only lists: give --write_results in a command of its own'),
    (['--list', '--verify'], '--list only lists: give --verify'),
    (['--restart'], '--restart goes with a table run'),
    (['fashion_mnist', '--verify', '--restart'], '--restart goes with a table run'),
    (['fashion_mnist', '--data_root', '/nonexistent/data'], '--data_root /nonexistent/data does not exist'),
])
def test_bad_selections_are_one_line_and_start_nothing(argv, message, capsys):
    with mock.patch.object(runner, 'run_table') as run_table, mock.patch.object(report, 'write_results') as write:
        with pytest.raises(SystemExit) as e:
            run_cli(cli.main, argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and message in err[0], err
    assert not write.called and (not run_table.called or '--data_root' in argv)


def test_list_names_only_the_tables_asked_for(capsys):
    assert run_cli(cli.main, ['--list', 'mnist_all_integer']) == 0
    out = capsys.readouterr().out
    assert out.startswith('mnist_all_integer (seed 002)') and 'fashion_mnist' not in out
    assert out.splitlines()[0].endswith('; data: mnist missing (the table command says where the files go)') or \
        out.splitlines()[0].endswith('; data: present')
    assert run_cli(cli.main, ['--list', 'cifar10_all_integer', '--data_root', os.path.dirname(os.path.abspath(
        __file__))]) == 0  # a folder holding no data set: listed as missing, not an error
    assert 'data: cifar10 missing' in capsys.readouterr().out


def test_a_data_root_without_the_data_set_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(UserError, match='--data_root \\S+ does not exist'):
        dataset_dir('mnist', str(tmp_path / 'nowhere'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(UserError, match='--data_root \\S+empty holds no data set \\(none of cifar10, '):
        dataset_dir('mnist', str(tmp_path / 'empty'))
    data = make_mnist_like(str(tmp_path / 'root' / 'mnist'), n_train=20, n_test=10)
    assert dataset_dir('mnist', str(tmp_path / 'root')) == os.path.abspath(data)
    # a root holding other data sets: one it lacks is an error naming its files and how to fetch them ...
    with pytest.raises(UserError, match='--data_root \\S+root holds no cifar10 data set: put its files '
                                        '\\(data_batch_1.*--download --data_dir \\S+root` fetches them'):
        dataset_dir('cifar10', str(tmp_path / 'root'))
    # ... unless the scripts' own search finds it, which is said
    monkeypatch.setenv('SNN_DATA_DIR', str(tmp_path / 'elsewhere'))
    make_cifar_like(str(tmp_path / 'elsewhere' / 'cifar-10-batches-py'), n_train=10, n_test=5)
    said = []
    assert dataset_dir('cifar10', str(tmp_path / 'root'), said.append) is None
    assert said == ['cifar10 is not under --data_root %s: the scripts\' own search finds it in %s'
                    % (tmp_path / 'root', tmp_path / 'elsewhere' / 'cifar-10-batches-py')]


# ---- 9. a failing child's own reason ----------------------------------------------------------------------------

def test_a_failing_child_step_says_its_own_reason(tmp_path):
    workspace = tmp_path / 'ws'
    workspace.mkdir()
    (workspace / 'fail.py').write_text('import sys\nprint("starting")\nsys.stderr.write("note: something\\n")\n'
                                       'sys.stderr.write("error: the checkpoint m.npz is in use by another run '
                                       '(pid 42)\\n")\nsys.exit(2)\n')
    log = str(tmp_path / 'out.log')
    with open(log, 'w') as f:
        f.write('error: an earlier run\'s reason, not this one\'s\n')
    with pytest.raises(UserError) as e:
        scripts.run_script(sys.executable, str(workspace), ['fail.py'], log, what='train of x')
    assert str(e.value) == ('train of x failed (exit 2): the checkpoint m.npz is in use by another run (pid 42); '
                            'see %s' % log)
    (workspace / 'crash.py').write_text('raise RuntimeError("boom")\n')
    with pytest.raises(UserError, match=r'failed \(exit 1\): RuntimeError: boom; see'):
        scripts.run_script(sys.executable, str(workspace), ['crash.py'], log, what='train of x')


def test_a_refused_repeat_leaves_no_folder_behind(tmp_path):
    """A repeat refused by its shipped state's sha256 creates no checkpoint folder (``<workspace>/repeats/``)."""
    root = str(tmp_path)
    rep = repeat.RepeatRun(_run(root), 1)
    os.makedirs(os.path.dirname(rep.slot.path))
    with open(rep.slot.path, 'wb') as f:
        f.write(b'not the shipped state')
    rep.save(status='training', epochs_done=2, curve=[[1, 90.0, 0.5, 10.0], [2, 91.0, 0.4, 10.0]],
             resume=dict(epoch=2, sha256='e' * 64, file='resume/repeats/lenet_mnist_k1_seed1.npz', bytes=21))
    with pytest.raises(UserError, match='does not match the sha256 its record names .*restore it from git'):
        repeat.RepeatRun(_run(root), 1).execute()
    assert not os.path.exists(os.path.join(root, 'MNIST', 'repeats'))
