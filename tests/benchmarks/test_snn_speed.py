"""benchmarks/snn_speed.py runs end to end (random and trained-checkpoint networks) and checks its engines
agree; it prints figures and asserts no timing (speed is measured, not asserted)."""
import os
import subprocess
import sys

import numpy as np

from conftest import ROOT
from spiking_utils import random_calibrated_params
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import save_checkpoint

SCRIPT = os.path.join(ROOT, 'benchmarks', 'snn_speed.py')


def _bench(*args):
    return subprocess.run([sys.executable, SCRIPT, '--batch_size', '4', '--time_steps', '12', '--baseline_steps', '2']
                          + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=600)


def test_random_network_every_engine_agrees():
    p = _bench('--arch', 'lenet_fashionmnist', '--workers', '2')
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    for label in ("engine='dense'", "engine='sparse'", "engine='compiled'", '--workers 2', 'where engine=',
                  'certified float32:'):
        assert label in p.stdout
    assert 'engines after 12 steps: True' in p.stdout


def test_trained_checkpoint_with_its_test_set(tmp_path, tiny_fashion):
    arch = architectures.get('lenet_fashionmnist')
    rng = np.random.RandomState(0)
    model = str(tmp_path / 'lenet.npz')
    save_checkpoint(model, random_calibrated_params(arch, rng.rand(8, 28, 28, 1).astype(np.float32), rng, k=1),
                    architecture=arch.name, k=1)
    p = _bench('--arch', 'lenet_fashionmnist', '--checkpoint', model, '--data_dir', tiny_fashion, '--workers', '1')
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    assert 'trained checkpoint lenet.npz, the first 4 test images' in p.stdout
    bad = _bench('--arch', 'lenet_fashionmnist', '--checkpoint', str(tmp_path / 'none.npz'))
    assert bad.returncode == 2 and 'none.npz not found' in bad.stderr
