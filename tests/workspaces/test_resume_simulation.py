"""Nothing lost on interruption (the simulations; the trainings are in test_resume.py): real runs of the spiking
scripts killed part-way (SIGKILL, SIGTERM), from outside and from inside between the log files of one batch, or out
of disk space, then resumed, give byte-identical log files; the same seed gives the same noisy logs and the same
augmented training."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import make_mnist_like
from resume_runs import CIFAR_ANN, INJECT, SG_SNN, SNN, data, lenet  # noqa: F401 (data, lenet: fixtures)
from resume_runs import assert_same_training as _assert_same_training
from resume_runs import backgrounded as _backgrounded
from resume_runs import full_disk as _full_disk
from resume_runs import interruptible as _interruptible
from resume_runs import logs as _logs
from resume_runs import run_python as _run
from resume_runs import same_run_json as _same_run_json
from spiking_utils import random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import save_checkpoint


@pytest.fixture(scope='module')
def uninterrupted(data, lenet, tmp_path_factory):
    """The log folder of an uninterrupted simulation in batches of 20, T=30: what each interrupted one below must end
    with (run once for them all; they only read it)."""
    full = str(tmp_path_factory.mktemp('uninterrupted') / 'full')
    _run([SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '20', '--time_steps', '30', '--log_dir',
          full])
    return full


def test_simulation_killed_between_log_files_resumes_byte_identical(data, lenet, uninterrupted, tmp_path):
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '20', '--time_steps', '30']
    full, cut = uninterrupted, str(tmp_path / 'cut')
    p = _run(['-c', INJECT, 'logs', '4'] + common + ['--log_dir', cut], ok=False)
    assert p.returncode == -signal.SIGKILL
    assert not os.path.exists(os.path.join(cut, 'run.json'))
    progress = json.load(open(os.path.join(cut, 'progress.json')))
    assert progress['done'] == 3
    # batch 4 reached accuracy.txt only: lines beyond the recorded size, which the resume must drop
    assert os.path.getsize(os.path.join(cut, 'accuracy.txt')) > progress['sizes']['accuracy.txt']
    assert os.path.getsize(os.path.join(cut, 'sop_num.txt')) == progress['sizes']['sop_num.txt']
    out = _run(common + ['--log_dir', cut, '--resume', 'True']).stdout
    assert 'resuming %s: 3 of 5 batches already complete' % cut in out
    assert _logs(cut) == _logs(full)
    _same_run_json(cut, full)
    # resuming a finished run changes nothing
    out = _run(common + ['--log_dir', cut, '--resume']).stdout
    assert '5 of 5 batches already complete' in out and _logs(cut) == _logs(full)
    # another configuration in the same folder is refused, not mixed in
    p = _run(common[:-1] + ['31', '--log_dir', cut, '--resume'], ok=False)
    assert p.returncode == 2 and 'holds a run with another time_steps' in p.stderr


def _small_batches(data, lenet, workers):
    return [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '2', '--time_steps', '40', '--workers',
            str(workers)]


@pytest.fixture(scope='module')
def uninterrupted_small_batches(data, lenet, tmp_path_factory):
    """The log folder of an uninterrupted simulation in 50 batches of 2, in one process: what the runs killed from
    outside below, with one or two worker processes, must end with (the workers do not change a byte)."""
    full = str(tmp_path_factory.mktemp('small_batches') / 'full')
    _run(_small_batches(data, lenet, 1) + ['--log_dir', full])
    return full


@pytest.mark.parametrize('sig,workers', [(signal.SIGKILL, 1), (signal.SIGTERM, 2)])  # SIGINT: the training case
def test_simulation_killed_from_outside_resumes_byte_identical(data, lenet, uninterrupted_small_batches, tmp_path,
                                                               sig, workers):
    """The signal goes to the whole process group, as Ctrl-C in a terminal does.  SIGTERM is sent to a run
    started as in the background of a shell, SIGINT ignored: it stops at a batch boundary all the same (what the
    table runner relies on to stop its child); its workers, in a process group of their own, do not get it (killed
    with a task in hand, they would leave the parent waiting for ever)."""
    common = _small_batches(data, lenet, workers)
    full, cut = uninterrupted_small_batches, str(tmp_path / 'cut')
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
    assert 2 <= done < 50, 'the run was not interrupted part-way'
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


@pytest.mark.parametrize('site', ['accuracy.txt@4', 'sop_num.txt@3', 'progress.json@4', 'run.json'])
def test_full_disk_during_a_simulation_then_resume(data, lenet, uninterrupted, tmp_path, site):
    """ENOSPC at a log append, at the progress record or at run.json: one line, exit 2; once there is space the
    same command with --resume finishes with the logs of an uninterrupted run."""
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '20', '--time_steps', '30']
    full, cut = uninterrupted, str(tmp_path / 'cut')
    p = _run(common + ['--log_dir', cut], ok=False, env=_full_disk(site))
    err = [line for line in p.stderr.splitlines() if line.startswith('error:')]  # beside progress-bar frames
    assert p.returncode == 2 and len(err) == 1 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    assert 'No space left on device' in err[0] and 'everything written before it is intact' in err[0]
    _run(common + ['--log_dir', cut, '--resume'])
    assert _logs(cut) == _logs(full)
    _same_run_json(cut, full)


def _compiled(data, lenet):
    return [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '50', '--time_steps', '12', '--engine',
            'compiled']


@pytest.fixture(scope='module')
def compiled_cached(data, lenet, tmp_path_factory):
    """The log folder of a compiled-engine run that cached its kernels."""
    cached = str(tmp_path_factory.mktemp('compiled') / 'cached')
    p = _run(_compiled(data, lenet) + ['--log_dir', cached])
    assert 'cannot be cached' not in p.stderr
    return cached


@pytest.mark.parametrize('site', ['snn_numba_probe', 'snn_numba_probe/mid'])
def test_no_room_for_the_numba_cache_is_one_warning(site):
    """The cache folder's probe write fails (at its start, or half-way): the kernels are not cached, and one warning
    line says so."""
    p = _run(['-c', 'from snn_conversion.snn.backends import numba_kernels as k; print(k.CACHE)'],
             env=_full_disk(site))
    warnings = [line for line in p.stderr.splitlines() if line.startswith('warning:')]
    assert len(warnings) == 1 and 'compiled kernels cannot be cached here (No space left on device)' in warnings[0]
    assert 'Traceback' not in p.stderr and p.stdout.split() == ['False']


def test_compiled_engine_without_a_usable_numba_cache(data, lenet, compiled_cached, tmp_path):
    """No room in the numba cache folder: the compiled kernels are compiled without caching, one warning line says
    so, and the logs are those of a run that cached them (the probe's other failure point: the test above)."""
    common = _compiled(data, lenet)
    cached, uncached = compiled_cached, str(tmp_path / 'uncached')
    p = _run(common + ['--log_dir', uncached], env=_full_disk('snn_numba_probe'))
    warnings = [line for line in p.stderr.splitlines() if line.startswith('warning:')]
    assert len(warnings) == 1 and 'compiled kernels cannot be cached here (No space left on device)' in warnings[0]
    assert 'Traceback' not in p.stderr
    assert _logs(uncached) == _logs(cached)
    _same_run_json(uncached, cached)


def test_simulation_into_a_folder_of_another_run_refuses_unless_asked(data, lenet, tmp_path):
    """Logs of a finished run in the folder: the same command again finds it complete (logs unchanged); another
    command refuses in one line naming what differs; --overwrite True replaces them."""
    common = [SNN, '--data_dir', data, '--model_file', lenet, '--batch_size', '50']
    folder = str(tmp_path / 'logs')
    _run(common + ['--time_steps', '10', '--log_dir', folder])
    first = _logs(folder)
    p = _run(common + ['--time_steps', '10', '--log_dir', folder])
    assert '2 of 2 batches already complete' in p.stdout and _logs(folder) == first
    p = _run(common + ['--time_steps', '12', '--log_dir', folder], ok=False)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1 and 'holds the logs of another run (2 batches; another time_steps' \
        in err[0] and '--overwrite True' in err[0], p.stderr
    assert _logs(folder) == first
    _run(common + ['--time_steps', '12', '--log_dir', folder, '--overwrite', 'True'])
    assert _logs(folder) != first


def test_augmented_training_is_deterministic_given_the_seed(tmp_path):
    """CIFAR: random crops and flips are seeded too (two trainings with one seed: the same arrays; that another
    seed gives others is test_resume.py's case, through the same trainer)."""
    from conftest import make_cifar_like
    data = make_cifar_like(str(tmp_path / 'cifar'), n_train=10, n_test=5)
    models = [str(tmp_path / ('%s.npz' % name)) for name in ('a', 'b')]
    for model in models:
        _run([CIFAR_ANN, '--k', '0', '--epochs', '1', '--batch_size', '5', '--seed', '1', '--data_dir', data,
              '--model_file', model])
    _assert_same_training(models[0], models[1])
