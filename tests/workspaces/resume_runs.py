"""What the interruption tests of test_resume.py and test_resume_simulation.py share: the fault-injecting launcher,
the generated data, a calibrated LeNet checkpoint, and the comparisons of trainings and log folders."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, make_mnist_like
from spiking_utils import random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import load_checkpoint, save_checkpoint
from snn_conversion.core.fileio import read_npz

# The trainings train the 400-400 MLP: the one training loop, checkpoints and training state of every network
# (quantized blocks with BN, Adam), in the fewest seconds.
ANN = os.path.join(ROOT, 'FashionMNIST', 'Quant_MLP_FashionMNIST.py')
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


def interruptible():
    """In the child: SIGINT as in a terminal, even when this test runs with SIGINT ignored (a background job,
    nohup, some CI runners): Python then turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def backgrounded():
    """In the child: SIGINT ignored, as for a command started with ``&`` in a non-interactive shell."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_python(args, ok=True, **kw):
    p = subprocess.run([sys.executable] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, **kw)
    if ok:
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p


def arrays(model):
    """(params, training state) of a checkpoint, for exact comparison."""
    params, meta = load_checkpoint(model)
    state = read_npz(model[:-4] + '.train_state.npz')
    return params, state, meta


def assert_same_training(a, b):
    pa, sa, ma = arrays(a)
    pb, sb, mb = arrays(b)
    assert len(pa) == len(pb) and all(np.array_equal(x, y) for x, y in zip(pa, pb))
    assert sorted(sa) == sorted(sb)
    different = [key for key in sa if not np.array_equal(sa[key], sb[key])]
    assert not different, different
    assert ma['epoch'] == mb['epoch']


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_mnist_like(str(tmp_path_factory.mktemp('fashion')), n_train=300, n_test=100)


@pytest.fixture(scope='module')
def lenet(data, tmp_path_factory):
    from snn_conversion.data.datasets import load_test_inputs
    x, _ = load_test_inputs('fashion_mnist', data_dir=data)
    arch = architectures.get('lenet_fashionmnist')
    model = str(tmp_path_factory.mktemp('lenet') / 'lenet.npz')
    save_checkpoint(model, random_calibrated_params(arch, x[:64], np.random.RandomState(0), k=1),
                    architecture=arch.name, k=1)
    return model


def logs(folder):
    return {f: open(os.path.join(folder, f), 'rb').read() for f in sorted(os.listdir(folder)) if f.endswith('.txt')}


def same_run_json(a, b):
    ra, rb = (json.load(open(os.path.join(d, 'run.json'))) for d in (a, b))
    for key in ('command', 'date', 'cwd'):
        ra.pop(key), rb.pop(key)
    assert ra == rb


def full_disk(site):
    return dict(os.environ, SNN_INJECT_WRITE_ERROR=site)
