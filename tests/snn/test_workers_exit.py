"""--workers N leaves no named semaphore behind: multiprocessing's semaphore tracker prints "There appear to be N
leaked semaphores" when a process ends with its pool's semaphores still registered.  Real processes: a normal
exit with the pool left open, an exception, a SIGTERM outside any safe point (it used to end the process outright,
pool open), a SIGKILL after close(), and a Spiking_* script stopped by SIGTERM while its pool starts and at a
safe point."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, make_mnist_like
from spiking_utils import random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import save_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(signal, 'pthread_sigmask') or not os.path.isdir('/proc'),
                                reason='POSIX signals and /proc')

LEAK = 'leaked semaphore'
PROGRAM = r'''
import os, signal, sys
sys.path.insert(0, %(root)r)
import numpy as np
from spiking_utils import SpikingNetwork, random_calibrated_params
from snn_conversion.core import architectures


def main(mode):
    arch = architectures.get('mlp_fashionmnist')
    rng = np.random.RandomState(0)
    x = rng.rand(6, 28, 28, 1).astype(np.float32)
    net = SpikingNetwork.from_params(arch, random_calibrated_params(arch, x, rng, k=1), 1).set_workers(2)
    if mode == 'sigterm':  # outside any safe point: ended the process outright, the pool open
        os.kill(os.getpid(), signal.SIGTERM)
    net.simulate(x, 5)
    if mode == 'raise':
        with net:
            raise RuntimeError('boom')
    if mode == 'kill_closed':  # close() frees the pool at once: nothing left for the exit to unlink
        net.close()
        os.kill(os.getpid(), signal.SIGKILL)
    print('simulated')  # 'exit': the pool left open


if __name__ == '__main__':
    main(sys.argv[1])
'''


def _run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                          **kw)


@pytest.mark.parametrize('mode,rc,err', [('exit', 0, ''), ('raise', 1, 'RuntimeError: boom'),
                                         ('sigterm', 1, 'KeyboardInterrupt'), ('kill_closed', -signal.SIGKILL, '')])
def test_no_leaked_semaphores(tmp_path, mode, rc, err):
    program = tmp_path / 'prog.py'
    program.write_text(PROGRAM % dict(root=ROOT))
    p = _run([sys.executable, str(program), mode])
    assert LEAK not in p.stderr, p.stderr[-2000:]
    assert p.returncode == rc and err in p.stderr, (p.returncode, p.stderr[-2000:])


def _children(pid):
    found = []
    for entry in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % entry) as f:
                if entry.isdigit() and int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, IOError, ValueError, IndexError):
            pass
    return found


def _interruptible():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_script_stopped_by_sigterm_leaks_no_semaphore(tmp_path):
    """SIGTERM to the script's process group as soon as it starts its pool (its first child processes), then
    at a safe point (two batches logged): both end in 'interrupted' (exit 130), no traceback, no leak."""
    data = make_mnist_like(str(tmp_path / 'data'), n_train=10, n_test=200)
    arch = architectures.get('mlp_fashionmnist')
    rng = np.random.RandomState(0)
    model = str(tmp_path / 'm.npz')
    save_checkpoint(model, random_calibrated_params(arch, rng.rand(16, 28, 28, 1), rng, k=1),
                    architecture=arch.name, k=1)
    script = os.path.join(ROOT, 'FashionMNIST', 'Spiking_MLP_FashionMNIST.py')
    for when in ('start', 'safe point'):
        log_dir = str(tmp_path / when.replace(' ', '_'))
        p = subprocess.Popen([sys.executable, '-u', script, '--model_file', model, '--data_dir', data, '--batch_size',
                              '2', '--time_steps', '60', '--log_dir', log_dir, '--workers', '2'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                             start_new_session=True, preexec_fn=_interruptible)
        if when == 'start':
            deadline = time.time() + 120
            while time.time() < deadline and p.poll() is None and len(_children(p.pid)) < 2:
                time.sleep(0.005)  # the semaphore tracker and a worker: the pool is starting
        else:
            deadline = time.time() + 120
            while time.time() < deadline and p.poll() is None:
                try:
                    if json.load(open(os.path.join(log_dir, 'progress.json')))['done'] >= 2:
                        break
                except (OSError, ValueError, KeyError):
                    pass
                time.sleep(0.01)
        os.killpg(p.pid, signal.SIGTERM)
        out, err = p.communicate(timeout=120)
        assert LEAK not in err, (when, err[-2000:])
        assert p.returncode == 130 and 'Traceback' not in err and '\ninterrupted' in '\n' + err, (when, err[-2000:])
