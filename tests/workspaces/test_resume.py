"""Nothing lost on interruption, the same numbers from the same seed, and where every result came from.

Real runs of the workspace scripts are killed (SIGKILL, SIGINT) part-way -- from outside, and from inside at
the worst moment, half-way through writing a checkpoint or a batch's log lines -- then resumed; the results
must equal an uninterrupted run's: the same checkpoint arrays and training state, byte-identical log files.
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

from conftest import ROOT, make_mnist_like
from spiking_utils import random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import load_checkpoint, save_checkpoint
from snn_conversion.core.fileio import read_npz

ANN = os.path.join(ROOT, 'FashionMNIST', 'Quant_LeNet_FashionMNIST.py')
SNN = os.path.join(ROOT, 'FashionMNIST', 'Spiking_LeNet_FashionMNIST.py')
SG_SNN = os.path.join(ROOT, 'MNIST', 'Spiking_LeNet_MNIST_SG.py')
CIFAR_ANN = os.path.join(ROOT, 'CIFAR10', 'Quant_CNN1_CIFAR10.py')

# Runs a workspace script in this process after installing a fault: ``python -c INJECT <fault> <N> script args``.
# 'checkpoint': the N-th .npz file write puts half of its bytes in its temporary file, then the process is
#   SIGKILLed (a kill in the middle of writing a checkpoint);
# 'logs': the N-th batch appends its first log file, then the process is SIGKILLed (a kill between the files of
#   one batch).
INJECT = r'''
import os, runpy, signal, sys
fault, n, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.argv = [script] + sys.argv[4:]
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(script))))
calls = [0]
def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
if fault == 'checkpoint':
    import io
    import snn_conversion.core.fileio as fileio
    real = fileio.atomic_write
    def atomic_write(path, mode, write):
        if not path.endswith('.npz'):
            return real(path, mode, write)
        calls[0] += 1
        if calls[0] != n:
            return real(path, mode, write)
        buf = io.BytesIO()
        write(buf)
        def half(f):
            f.write(buf.getvalue()[:len(buf.getvalue()) // 2])
            f.flush()
            die()
        return real(path, mode, half)
    fileio.atomic_write = atomic_write
else:
    import snn_conversion.snn.runs as runs
    real = runs.write_logs
    def write_logs(log_dir, lines):
        calls[0] += 1
        if calls[0] != n:
            return real(log_dir, lines)
        first = sorted(lines)[0]
        real(log_dir, {first: lines[first]})
        die()
    runs.write_logs = write_logs
runpy.run_path(script, run_name='__main__')
'''


def _interruptible():
    """In the child: SIGINT as in a terminal, even when this test runs with SIGINT ignored (a background job,
    nohup, some CI runners): Python then turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _backgrounded():
    """In the child: SIGINT ignored, as for a command started with ``&`` in a non-interactive shell."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(args, ok=True, **kw):
    p = subprocess.run([sys.executable] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, **kw)
    if ok:
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p


def _arrays(model):
    """(params, training state) of a checkpoint, for exact comparison."""
    params, meta = load_checkpoint(model)
    state = read_npz(model[:-4] + '.train_state.npz')
    return params, state, meta


def _assert_same_training(a, b):
    pa, sa, ma = _arrays(a)
    pb, sb, mb = _arrays(b)
    assert len(pa) == len(pb) and all(np.array_equal(x, y) for x, y in zip(pa, pb))
    assert sorted(sa) == sorted(sb)
    different = [key for key in sa if not np.array_equal(sa[key], sb[key])]
    assert not different, different
    assert ma['epoch'] == mb['epoch']


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_mnist_like(str(tmp_path_factory.mktemp('fashion')), n_train=300, n_test=200)


@pytest.fixture(scope='module')
def reference(data, tmp_path_factory):
    """An uninterrupted 4-epoch training (seed 3)."""
    model = str(tmp_path_factory.mktemp('reference') / 'm.npz')
    _run([ANN, '--k', '1', '--epochs', '4', '--batch_size', '50', '--seed', '3', '--data_dir', data,
          '--model_file', model])
    return model


def _train_args(data, model, *extra):
    return [ANN, '--k', '1', '--epochs', '4', '--batch_size', '50', '--seed', '3', '--data_dir', data,
            '--model_file', model] + list(extra)


# ----------------------------------------------------------------------------- training

def test_training_killed_while_writing_a_checkpoint_resumes_identically(data, reference, tmp_path):
    model = str(tmp_path / 'm.npz')
    # .npz writes: epoch 1 checkpoint, epoch 1 state, epoch 2 checkpoint, state, epoch 3 checkpoint (5th)
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


@pytest.mark.parametrize('sig', [signal.SIGKILL, signal.SIGINT])
def test_training_killed_from_outside_resumes_identically(data, reference, tmp_path, sig):
    model = str(tmp_path / 'm.npz')
    p = subprocess.Popen([sys.executable] + _train_args(data, model), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, preexec_fn=_interruptible)
    for line in p.stdout:  # kill during epoch 2 (epoch 1 is saved): 3 epochs of margin for a slow reader
        if line.startswith('epoch 1/4'):
            p.send_signal(sig)
            break
    out, err = p.communicate(timeout=120)
    assert load_checkpoint(model)[1]['epoch'] in (1, 2, 3), out + err[-3000:]  # interrupted part-way
    if sig == signal.SIGINT:
        assert p.returncode == 130 and 'Traceback' not in err, err[-3000:]
        assert err.strip().splitlines()[-1].startswith('interrupted: '), err[-3000:]
        assert 'epoch(s) saved in %s; continue with --resume True' % model in err, err[-3000:]
    else:
        assert p.returncode == -signal.SIGKILL
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
    final = re.search(r'^ANN test accuracy \(.*, 200 images\): ([0-9.]+)%', out, re.M).group(1)
    assert observed[-1][1] == final  # the last epoch's observation is the result itself
    args = _train_args(data, other)
    args[args.index('--seed') + 1] = '4'
    _run(args)
    assert not np.array_equal(load_checkpoint(other)[0][0], load_checkpoint(reference)[0][0])


def test_augmented_training_is_deterministic_given_the_seed(tmp_path):
    """CIFAR: random crops and flips are seeded too."""
    from conftest import make_cifar_like
    data = make_cifar_like(str(tmp_path / 'cifar'), n_train=40, n_test=10)
    models = [str(tmp_path / ('%s.npz' % name)) for name in ('a', 'b', 'c')]
    for model, seed in zip(models, ('1', '1', '2')):
        _run([CIFAR_ANN, '--k', '0', '--epochs', '1', '--batch_size', '20', '--seed', seed, '--data_dir', data,
              '--model_file', model])
    _assert_same_training(models[0], models[1])
    assert not np.array_equal(load_checkpoint(models[0])[0][0], load_checkpoint(models[2])[0][0])


# ----------------------------------------------------------------------------- simulation

@pytest.fixture(scope='module')
def lenet(data, tmp_path_factory):
    from snn_conversion.data.datasets import load_test_inputs
    x, _ = load_test_inputs('fashion_mnist', data_dir=data)
    arch = architectures.get('lenet_fashionmnist')
    model = str(tmp_path_factory.mktemp('lenet') / 'lenet.npz')
    save_checkpoint(model, random_calibrated_params(arch, x[:64], np.random.RandomState(0), k=1),
                    architecture=arch.name, k=1)
    return model


def _logs(folder):
    return {f: open(os.path.join(folder, f), 'rb').read() for f in sorted(os.listdir(folder)) if f.endswith('.txt')}


def _same_run_json(a, b):
    ra, rb = (json.load(open(os.path.join(d, 'run.json'))) for d in (a, b))
    for key in ('command', 'date', 'cwd'):
        ra.pop(key), rb.pop(key)
    assert ra == rb


def test_simulation_killed_between_log_files_resumes_byte_identical(data, lenet, tmp_path):
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '20', '--time_steps', '30']
    full, cut = str(tmp_path / 'full'), str(tmp_path / 'cut')
    _run(common + ['--log_dir', full])
    p = _run(['-c', INJECT, 'logs', '4'] + common + ['--log_dir', cut], ok=False)
    assert p.returncode == -signal.SIGKILL
    assert not os.path.exists(os.path.join(cut, 'run.json'))
    progress = json.load(open(os.path.join(cut, 'progress.json')))
    assert progress['done'] == 3
    # batch 4 reached accuracy.txt only: lines beyond the recorded size, which the resume must drop
    assert os.path.getsize(os.path.join(cut, 'accuracy.txt')) > progress['sizes']['accuracy.txt']
    assert os.path.getsize(os.path.join(cut, 'sop_num.txt')) == progress['sizes']['sop_num.txt']
    out = _run(common + ['--log_dir', cut, '--resume', 'True']).stdout
    assert 'resuming %s: 3 of 10 batches already complete' % cut in out
    assert _logs(cut) == _logs(full)
    _same_run_json(cut, full)
    # resuming a finished run changes nothing
    out = _run(common + ['--log_dir', cut, '--resume']).stdout
    assert '10 of 10 batches already complete' in out and _logs(cut) == _logs(full)
    # another configuration in the same folder is refused, not mixed in
    p = _run(common[:-1] + ['31', '--log_dir', cut, '--resume'], ok=False)
    assert p.returncode == 2 and 'holds a run with another time_steps' in p.stderr


@pytest.mark.parametrize('sig,workers', [(signal.SIGKILL, 1), (signal.SIGTERM, 2)])  # SIGINT: the training case
def test_simulation_killed_from_outside_resumes_byte_identical(data, lenet, tmp_path, sig, workers):
    """The signal goes to the whole process group, as Ctrl-C in a terminal does.  SIGTERM is sent to a run
    started as in the background of a shell, SIGINT ignored: it stops at a batch boundary all the same (what the
    table runner relies on to stop its child); its workers, in a process group of their own, do not get it (killed
    with a task in hand, they would leave the parent waiting for ever)."""
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '2', '--time_steps', '40',
              '--workers', str(workers)]
    full, cut = str(tmp_path / 'full'), str(tmp_path / 'cut')
    _run(common + ['--log_dir', full])
    p = subprocess.Popen([sys.executable] + common + ['--log_dir', cut], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, start_new_session=True,
                         preexec_fn=_backgrounded if sig == signal.SIGTERM else _interruptible)
    progress = os.path.join(cut, 'progress.json')
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        try:
            if json.load(open(progress))['done'] >= 2:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.01)
    os.killpg(p.pid, sig)
    out, err = p.communicate(timeout=60)
    done = json.load(open(progress))['done']
    assert 2 <= done < 100, 'the run was not interrupted part-way'
    if sig in (signal.SIGINT, signal.SIGTERM):
        assert p.returncode == 130 and 'Traceback' not in err
        assert 'batches logged in %s; continue with --resume' % cut in err
    else:
        assert p.returncode == -signal.SIGKILL
    _run(common + ['--log_dir', cut, '--resume'])
    assert _logs(cut) == _logs(full)
    _same_run_json(cut, full)


def test_noisy_simulation_is_deterministic_and_resumes_identically(tmp_path):
    """Scatter-and-gather threshold-drop noise: the same --seed gives the same logs, also across a kill and a
    resume; another seed gives other logs."""
    data = make_mnist_like(str(tmp_path / 'mnist'), n_train=10, n_test=60)
    from snn_conversion.data.datasets import load_test_inputs
    x, _ = load_test_inputs('mnist', data_dir=data)
    arch = architectures.get('lenet_mnist_sg')
    model = str(tmp_path / 'sg.npz')
    save_checkpoint(model, random_calibrated_params(arch, x[:32], np.random.RandomState(1), k=1, B=2),
                    architecture=arch.name, k=1, B=2)
    common = [SG_SNN, '--data_dir', data, '--model_file', model, '--batch_size', '10', '--noise_ratio', '0.3']
    logs = {}
    for name, seed in (('a', '5'), ('b', '5'), ('c', '6')):
        _run(common + ['--seed', seed, '--log_dir', str(tmp_path / name)])
        logs[name] = _logs(str(tmp_path / name))
    assert logs['a'] == logs['b'] and logs['a'] != logs['c']
    cut = str(tmp_path / 'cut')
    assert _run(['-c', INJECT, 'logs', '3'] + common + ['--seed', '5', '--log_dir', cut], ok=False).returncode < 0
    _run(common + ['--seed', '5', '--log_dir', cut, '--resume'])
    assert _logs(cut) == logs['a']


# ----------------------------------------------------------------------------- provenance

def test_provenance_of_checkpoints_and_log_folders(reference, data, lenet, tmp_path):
    meta = load_checkpoint(reference)[1]
    prov = meta['provenance']
    assert 'Quant_LeNet_FashionMNIST.py' in prov['command'] and '--seed 3' in prov['command']
    assert prov['packages']['numpy'] == np.__version__ and prov['packages']['tensorflow-gpu'] == '1.15.5'
    assert prov['packages']['tensorlayer'] == '1.11.1' and prov['packages']['python'].startswith('3.7')
    assert prov['git_revision'] == meta['git_revision'] and prov['epoch'] == 4
    shown = json.loads(_run(['-m', 'tensorlayer_patches.checkpoint', reference], cwd=ROOT).stdout)
    assert shown['provenance'] == prov and shown['k'] == 1 and shown['params'][0] == [5, 5, 1, 32]
    logs = str(tmp_path / 'logs')
    _run([SNN, '--data_dir', data, '--model_file', lenet, '--num_test', '20', '--time_steps', '20',
          '--log_dir', logs])
    run = json.load(open(os.path.join(logs, 'run.json')))
    assert 'Spiking_LeNet_FashionMNIST.py' in run['command'] and '--num_test 20' in run['command']
    assert run['packages']['numpy'] == np.__version__ and run['git_revision']
    assert run['checkpoint'] == lenet and len(run['checkpoint_sha256']) == 64


def test_second_training_on_one_checkpoint_fails_at_once(tmp_path, tiny_fashion):
    """A training holds its checkpoint: a second one on the same file stops before any work, in one line naming
    the holder; once the first is gone (killed), the lock is taken over with a note."""
    model = str(tmp_path / 'm.npz')
    cmd = [sys.executable, os.path.join(ROOT, 'FashionMNIST', 'Quant_MLP_FashionMNIST.py'), '--k', '1', '--mode',
           'training', '--epochs', '100000', '--data_dir', tiny_fashion, '--model_file', model]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                             start_new_session=True)
    try:
        deadline = time.time() + 240
        while not os.path.isfile(model) and time.time() < deadline:  # the first one is training
            assert first.poll() is None
            time.sleep(0.2)
        second = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        err = second.stderr.strip().splitlines()
        assert second.returncode == 2 and len(err) == 1, second.stderr
        assert err[0].startswith('error: the checkpoint %s is in use by another run (pid %d' % (model, first.pid))
        assert 'Quant_MLP_FashionMNIST.py' in err[0]
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    third = subprocess.run(cmd[:-4] + ['--epochs', '1', '--data_dir', tiny_fashion, '--model_file', model,
                                       '--overwrite', 'True'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert third.returncode == 0, third.stderr
    assert 'note: taking over the checkpoint %s from a run that is gone (pid %d' % (model, first.pid) in third.stderr


def _full_disk(site):
    return dict(os.environ, SNN_INJECT_WRITE_ERROR=site)


@pytest.mark.parametrize('site', ['accuracy.txt@4', 'sop_num.txt@3', 'progress.json@4', 'run.json'])
def test_full_disk_during_a_simulation_then_resume(data, lenet, tmp_path, site):
    """ENOSPC at a log append, at the progress record or at run.json: one line, exit 2; once there is space the
    same command with --resume finishes with the logs of an uninterrupted run."""
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '20', '--time_steps', '30']
    full, cut = str(tmp_path / 'full'), str(tmp_path / 'cut')
    _run(common + ['--log_dir', full])
    p = _run(common + ['--log_dir', cut], ok=False, env=_full_disk(site))
    err = [line for line in p.stderr.splitlines() if line.startswith('error:')]  # beside progress-bar frames
    assert p.returncode == 2 and len(err) == 1 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    assert 'No space left on device' in err[0] and 'everything written before it is intact' in err[0]
    _run(common + ['--log_dir', cut, '--resume'])
    assert _logs(cut) == _logs(full)
    _same_run_json(cut, full)


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
    """Start a training; once it reaches its first step (its 'device:' line), let it run ``seconds`` (None: to
    its end), then SIGKILL it if it still runs.  Returns (finished, seconds it trained)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
    for line in proc.stdout:
        if line.startswith('device:'):
            break
    t0 = time.time()
    try:
        proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return False, time.time() - t0
    assert proc.returncode == 0
    return True, time.time() - t0


def test_killed_at_random_points_always_resumes_identically(tmp_path):
    """SIGKILL at a random moment of a random epoch (the first included, and during the writes), again and again
    on one training, each time followed by the same command with --resume True: the training ends with the
    arrays of an uninterrupted one."""
    import random
    data = make_mnist_like(str(tmp_path / 'fashion'), n_train=2500, n_test=100)
    whole, model = str(tmp_path / 'whole.npz'), str(tmp_path / 'm.npz')
    _, seconds = _train_until([sys.executable] + _train_args(data, whole), None)
    rng = random.Random(7)
    kills = 0
    while kills < 3:
        finished, _ = _train_until([sys.executable] + _train_args(data, model, '--resume', 'True'),
                                   rng.uniform(0.0, seconds))
        if finished:
            break
        kills += 1
    else:
        _train_until([sys.executable] + _train_args(data, model, '--resume', 'True'), None)
    assert kills >= 2, 'too few kills to mean anything (%d)' % kills
    _assert_same_training(model, whole)


@pytest.mark.parametrize('site', ['snn_numba_probe', 'snn_numba_probe/mid'])
def test_compiled_engine_without_a_usable_numba_cache(data, lenet, tmp_path, site):
    """No writable numba cache folder, or no room in it: the compiled kernels are compiled without caching, one
    warning line says so, and the logs are those of a run that cached them."""
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '50', '--time_steps', '12',
              '--engine', 'compiled']
    cached, uncached = str(tmp_path / 'cached'), str(tmp_path / 'uncached')
    p = _run(common + ['--log_dir', cached])
    assert 'cannot be cached' not in p.stderr
    p = _run(common + ['--log_dir', uncached], env=_full_disk(site))
    warnings = [line for line in p.stderr.splitlines() if line.startswith('warning:')]
    assert len(warnings) == 1 and 'compiled kernels cannot be cached here (No space left on device)' in warnings[0]
    assert 'Traceback' not in p.stderr
    assert _logs(uncached) == _logs(cached)
    _same_run_json(uncached, cached)


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


def test_simulation_into_a_folder_of_another_run_refuses_unless_asked(data, lenet, tmp_path):
    """Logs of a finished run in the folder: the same command again finds it complete (logs unchanged); another
    command refuses in one line naming what differs; --overwrite True replaces them."""
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '50']
    folder = str(tmp_path / 'logs')
    _run(common + ['--time_steps', '10', '--log_dir', folder])
    first = _logs(folder)
    p = _run(common + ['--time_steps', '10', '--log_dir', folder])
    assert '4 of 4 batches already complete' in p.stdout and _logs(folder) == first
    p = _run(common + ['--time_steps', '12', '--log_dir', folder], ok=False)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1 and 'holds the logs of another run (4 batches; another time_steps' \
        in err[0] and '--overwrite True' in err[0], p.stderr
    assert _logs(folder) == first
    _run(common + ['--time_steps', '12', '--log_dir', folder, '--overwrite', 'True'])
    assert _logs(folder) != first
