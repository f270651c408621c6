"""Nothing lost on interruption, the same numbers from the same seed, and where every result came from.

Real runs of the workspace scripts are killed (SIGKILL, SIGINT) part-way -- from outside, and from inside at
the worst moment, half-way through writing a checkpoint or a batch's log lines -- then resumed; the results
must equal an uninterrupted run's: the same checkpoint arrays and training state, byte-identical log files.
This file: the trainings (and provenance); test_resume_simulation.py: the simulations (two files, so that the
two processes of `make test` share them).
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT
from resume_runs import ANN, INJECT, SNN, data, lenet  # noqa: F401 (data, lenet: fixtures)
from resume_runs import assert_same_training as _assert_same_training
from resume_runs import full_disk as _full_disk
from resume_runs import interruptible as _interruptible
from resume_runs import run_python as _run
from snn_conversion.core.checkpoint import load_checkpoint
from snn_conversion.core.fileio import read_npz


@pytest.fixture(scope='module')
def timed_reference(data, tmp_path_factory):
    """An uninterrupted 4-epoch training (seed 3), and the seconds of its epochs (see _train_until)."""
    model = str(tmp_path_factory.mktemp('reference') / 'm.npz')
    finished, seconds, _ = _train_until([sys.executable] + _train_args(data, model), None)
    assert finished and seconds
    return model, seconds


@pytest.fixture(scope='module')
def reference(timed_reference):
    return timed_reference[0]


def _train_args(data, model, *extra):
    return [ANN, '--k', '1', '--epochs', '4', '--batch_size', '50', '--seed', '3', '--data_dir', data,
            '--model_file', model] + list(extra)


# ----------------------------------------------------------------------------- training

def test_training_killed_while_writing_a_checkpoint_resumes_identically(data, reference, tmp_path):
    model = str(tmp_path / 'm.npz')
    # .npz writes: epoch 1 state, epoch 1 checkpoint, epoch 2 state, checkpoint, epoch 3 state (the 5th)
    p = _run(['-c', INJECT, 'checkpoint', '5'] + _train_args(data, model), ok=False)
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    assert 'epoch 2/4' in p.stdout and 'epoch 3/4' not in p.stdout
    params, meta = load_checkpoint(model)  # the last good checkpoint survived the kill
    assert meta['epoch'] == 2
    assert [f for f in os.listdir(str(tmp_path)) if '.tmp-' in f]  # the killed writer's partial file
    p = _run(_train_args(data, model, '--resume', 'True'))
    assert 'resumed %s: 2 epoch(s) done' % (model[:-4] + '.train_state.npz') in p.stdout
    assert 'epoch 1/4' not in p.stdout and 'epoch 3/4' in p.stdout
    _assert_same_training(model, reference)
    assert not [f for f in os.listdir(str(tmp_path)) if '.tmp-' in f]  # removed by the next write
    # the checkpoint records both commands that made it
    prov = load_checkpoint(model)[1]['provenance']
    assert '--resume True' in prov['command'] and '--resume' not in prov['previous']['command']


def _signalled_in_epoch_2(data, model, sig):
    """A training sent ``sig`` from outside during its epoch 2 (epoch 1 is saved); returns (its exit code, its
    stderr) once it has stopped part-way."""
    p = subprocess.Popen([sys.executable] + _train_args(data, model), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, preexec_fn=_interruptible)
    for line in p.stdout:  # 3 epochs of margin for a slow reader
        if line.startswith('epoch 1/4'):
            p.send_signal(sig)
            break
    out, err = p.communicate(timeout=120)
    assert load_checkpoint(model)[1]['epoch'] in (1, 2, 3), out + err[-3000:]  # interrupted part-way
    return p.returncode, err


def test_training_interrupted_from_outside_resumes_identically(data, reference, tmp_path):
    """Ctrl-C (SIGINT) during epoch 2: a clean stop naming what is saved; a bare --resume continues it.  (SIGKILL
    from outside: test_killed_at_random_points_always_resumes_identically.)"""
    model = str(tmp_path / 'm.npz')
    code, err = _signalled_in_epoch_2(data, model, signal.SIGINT)
    assert code == 130 and 'Traceback' not in err, err[-3000:]
    assert err.strip().splitlines()[-1].startswith('interrupted: '), err[-3000:]
    assert 'epoch(s) saved in %s; continue with --resume True' % model in err, err[-3000:]
    out = _run(_train_args(data, model, '--resume')).stdout  # a bare --resume means True
    assert 'epoch(s) done at learning rate' in out
    _assert_same_training(model, reference)


def test_training_is_deterministic_given_the_seed(data, reference, tmp_path):
    """Same --seed: identical checkpoint and training state (data order, initialisation), also when the test
    accuracy is observed after every epoch (it draws nothing and changes nothing); another seed: not."""
    again, other = str(tmp_path / 'again.npz'), str(tmp_path / 'other.npz')
    out = _run(_train_args(data, again, '--observe_test', 'True')).stdout
    _assert_same_training(again, reference)
    observed = re.findall(r'^epoch (\d)/4 .* val acc [0-9.]+%  test acc ([0-9.]+)% \(observed\)', out, re.M)
    assert [e for e, _ in observed] == ['1', '2', '3', '4'], out
    final = re.search(r'^ANN test accuracy \(.*, 100 images\): ([0-9.]+)%', out, re.M).group(1)
    assert observed[-1][1] == final  # the last epoch's observation is the result itself
    args = _train_args(data, other)
    args[args.index('--seed') + 1] = '4'
    _run(args)
    assert not np.array_equal(load_checkpoint(other)[0][0], load_checkpoint(reference)[0][0])


@pytest.mark.parametrize('site, state_epoch, checkpoint_epoch', [
    ('train_state@1', None, None), ('m.npz@1', 1, None), ('train_state@2/mid', 1, 1), ('m.npz@2/mid', 2, 1)])
def test_full_disk_during_training_then_resume(data, reference, tmp_path, site, state_epoch, checkpoint_epoch):
    """ENOSPC writing a training state or a checkpoint, in the first epoch or a later one, before the write or in
    its middle: one line, exit 2, the files of the last complete save intact (the training state is written
    first); resumed, the training ends with the arrays of an uninterrupted one and counts its epochs right."""
    model = str(tmp_path / 'm.npz')
    p = _run(_train_args(data, model), ok=False, env=_full_disk(site))
    err = [line for line in p.stderr.splitlines() if line.startswith('error:')]
    assert p.returncode == 2 and len(err) == 1 and 'Traceback' not in p.stderr and '(No space left on device)' in err[0], p.stderr
    state = model[:-4] + '.train_state.npz'
    assert (int(read_npz(state)['__epoch__']) if os.path.isfile(state) else None) == state_epoch
    assert (load_checkpoint(model)[1]['epoch'] if os.path.isfile(model) else None) == checkpoint_epoch
    assert not [f for f in os.listdir(str(tmp_path)) if '.tmp-' in f]
    p = _run(_train_args(data, model, '--resume', 'True'))
    done = state_epoch or 0
    assert ('epoch %d/4' % done) not in p.stdout and 'epoch 4/4' in p.stdout and 'epoch 5/' not in p.stdout
    assert p.stdout.count('(saved ') == 4 - done
    _assert_same_training(model, reference)


def _train_until(cmd, seconds):
    """Start a training; from the start of its first epoch (its first progress bar), let it run ``seconds``, then
    SIGKILL it if it still runs; ``seconds`` None: let it finish.  Returns (finished, the seconds from the start of
    its first epoch to the line of its last one, None where it has no such lines; its output)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
    out, t0, t1 = b'', None, None
    while t1 is None and (t0 is None or seconds is None):
        chunk = os.read(proc.stdout.fileno(), 1 << 16)
        if not chunk:
            break
        out += chunk
        if t0 is None and re.search(br'epoch \d/4: ', out):
            t0 = time.time()
        if b'epoch 4/4  ' in out:
            t1 = time.time()
    try:
        out += proc.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return False, None, None
    out = out.decode(errors='replace')
    assert proc.returncode == 0, out[-3000:]
    return True, (t1 - t0 if t0 and t1 else None), out


def test_killed_at_random_points_always_resumes_identically(timed_reference, data, tmp_path):
    """SIGKILL from outside, first during epoch 2 (epoch 1 saved), then at random moments of the epochs of the
    resumed runs (during the writes too), again and again on one training, each time followed by the same command
    with a bare --resume (True): the training ends with the arrays of an uninterrupted one."""
    import random
    whole, seconds = timed_reference
    model = str(tmp_path / 'm.npz')
    code, _ = _signalled_in_epoch_2(data, model, signal.SIGKILL)
    assert code == -signal.SIGKILL
    resume = [sys.executable] + _train_args(data, model, '--resume')  # a bare --resume means True
    rng = random.Random(7)
    kills = 0
    while kills < 2:
        finished, _, _ = _train_until(resume, rng.uniform(0.0, seconds))
        if finished:
            break
        kills += 1
    else:
        out = _train_until(resume, None)[2]
        assert 'epoch(s) done at learning rate' in out, out
    assert kills == 2, 'a resumed run finished before its random kill: too few kills to mean anything'
    _assert_same_training(model, whole)


def test_training_without_resume_refuses_to_replace_a_checkpoint(data, reference, tmp_path):
    """A training command without --resume on a checkpoint at epoch 4: one line naming the 4 epochs, files
    untouched; --overwrite True replaces it deliberately."""
    import shutil
    model = str(tmp_path / 'm.npz')
    for suffix in ('.npz', '.train_state.npz'):
        shutil.copy(reference[:-4] + suffix, model[:-4] + suffix)
    before = [open(model[:-4] + suffix, 'rb').read() for suffix in ('.npz', '.train_state.npz')]
    p = _run(_train_args(data, model), ok=False)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1, p.stderr
    assert 'm.npz already holds 4 epoch(s) of training; continue it with --resume True' in err[0]
    assert [open(model[:-4] + suffix, 'rb').read() for suffix in ('.npz', '.train_state.npz')] == before
    p = _run(_train_args(data, model, '--resume', 'False'), ok=False)  # the authors' first phase, typed again
    assert p.returncode == 2 and 'already holds 4 epoch(s)' in p.stderr
    _run(_train_args(data, model, '--epochs', '1', '--overwrite', 'True'))
    assert load_checkpoint(model)[1]['epoch'] == 1


# ----------------------------------------------------------------------------- provenance

def test_provenance_of_checkpoints_and_log_folders(reference, data, lenet, tmp_path):
    meta = load_checkpoint(reference)[1]
    prov = meta['provenance']
    assert 'Quant_MLP_FashionMNIST.py' in prov['command'] and '--seed 3' in prov['command']
    assert prov['packages']['numpy'] == np.__version__ and prov['packages']['tensorflow-gpu'] == '1.15.5'
    assert prov['packages']['tensorlayer'] == '1.11.1' and prov['packages']['python'].startswith('3.7')
    assert prov['git_revision'] == meta['git_revision'] and prov['epoch'] == 4
    shown = json.loads(_run(['-m', 'tensorlayer_patches.checkpoint', reference], cwd=ROOT).stdout)
    assert shown['provenance'] == prov and shown['k'] == 1 and shown['params'][0] == [28, 28, 1, 400]
    logs = str(tmp_path / 'logs')
    _run([SNN, '--data_dir', data, '--model_file', lenet, '--num_test', '20', '--time_steps', '20',
          '--log_dir', logs])
    run = json.load(open(os.path.join(logs, 'run.json')))
    assert 'Spiking_LeNet_FashionMNIST.py' in run['command'] and '--num_test 20' in run['command']
    assert run['packages']['numpy'] == np.__version__ and run['git_revision']
    assert run['checkpoint'] == lenet and len(run['checkpoint_sha256']) == 64


def test_second_training_on_one_checkpoint_fails_at_once(tmp_path, data):
    """A training holds its checkpoint: a second one on the same file stops before any work, in one line naming
    the holder; once the first is gone (killed), the lock is taken over with a note."""
    model = str(tmp_path / 'm.npz')
    cmd = [sys.executable, ANN, '--k', '1', '--mode', 'training', '--epochs', '100000', '--data_dir', data,
           '--model_file', model]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                             start_new_session=True)
    try:
        deadline = time.time() + 240
        while not os.path.isfile(model) and time.time() < deadline:  # the first one is training
            assert first.poll() is None
            time.sleep(0.02)
        second = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        err = second.stderr.strip().splitlines()
        assert second.returncode == 2 and len(err) == 1, second.stderr
        assert err[0].startswith('error: the checkpoint %s is in use by another run (pid %d' % (model, first.pid))
        assert 'Quant_MLP_FashionMNIST.py' in err[0]
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    third = subprocess.run(cmd[:-4] + ['--epochs', '1', '--data_dir', data, '--model_file', model,
                                       '--overwrite', 'True'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert third.returncode == 0, third.stderr
    assert 'note: taking over the checkpoint %s from a run that is gone (pid %d' % (model, first.pid) in third.stderr
