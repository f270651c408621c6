"""The BLAS kernels change speed, never a spike: a Spiking_* script gives byte-identical logs under OpenBLAS's
old SSE kernels and under the AVX2 kernels spiking_utils selects (snn_conversion/core/blas.py), and names the
kernels it ran in its header and run.json -- never in the logs.

Each run is a child process: OpenBLAS reads $OPENBLAS_CORETYPE once, as numpy loads it."""
import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from spiking_utils import random_calibrated_params
from snn_conversion.core import architectures, blas
from snn_conversion.core.checkpoint import save_checkpoint

SCRIPT = os.path.join(ROOT, 'FashionMNIST', 'Spiking_LeNet_FashionMNIST.py')
VENDOR, FLAGS = blas.read_cpuinfo()
SELECTED = blas.avx2_coretype(VENDOR, FLAGS)
# the old kernels: those the pinned builds fall back to on a newer AMD CPU; Prescott (SSE3) on any other x86-64
OLD = 'Barcelona' if VENDOR == 'AuthenticAMD' else 'Prescott'

pytestmark = pytest.mark.skipif(platform.machine() not in ('x86_64', 'AMD64'),
                                reason='OpenBLAS core types are named here for x86-64')


def _simulate(model, data, log_dir, engine, coretype=None):
    env = {k: v for k, v in os.environ.items() if k not in (blas.CORETYPE, blas.MARKER)}
    if coretype is not None:
        env[blas.CORETYPE] = coretype
    p = subprocess.run([sys.executable, SCRIPT, '--model_file', model, '--data_dir', data, '--batch_size', '50',
                        '--time_steps', '25', '--engine', engine, '--log_dir', log_dir], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stderr[-2000:]
    header = [line for line in p.stdout.splitlines() if line.startswith('BLAS: ')]
    logs = {f: open(os.path.join(log_dir, f), 'rb').read() for f in sorted(os.listdir(log_dir)) if f.endswith('.txt')}
    return header, logs, json.load(open(os.path.join(log_dir, 'run.json')))['blas']


@pytest.mark.parametrize('engine', ['compiled', 'sparse'])
def test_old_and_selected_kernels_give_identical_logs(tmp_path, tiny_fashion, engine):
    arch = architectures.get('lenet_fashionmnist')
    rng = np.random.RandomState(3)
    model = str(tmp_path / 'lenet.npz')
    save_checkpoint(model, random_calibrated_params(arch, rng.rand(16, 28, 28, 1).astype(np.float32), rng, k=1),
                    architecture=arch.name, k=1)
    old = _simulate(model, tiny_fashion, str(tmp_path / 'old'), engine, coretype=OLD)
    new = _simulate(model, tiny_fashion, str(tmp_path / 'new'), engine)

    assert old[1] == new[1]  # every log file, byte for byte
    assert set(new[1]) >= {'accuracy.txt', 'sop_num.txt', 'spike_num.txt'}
    assert int(new[1]['spike_num.txt'].split()[-1]) > 0, 'a silent network makes the comparison trivial'
    assert not any(b'OpenBLAS' in text or b'BLAS' in text for text in new[1].values())

    # the header line and run.json name the kernels each run used
    assert old[0] == ['BLAS: ' + old[2]] and new[0] == ['BLAS: ' + new[2]]
    assert old[2].endswith('; user: OPENBLAS_CORETYPE=%s' % OLD) and ' %s (numpy)' % OLD in old[2]
    if SELECTED is None:
        assert new[2].endswith('; build default (no AVX2 and FMA)')
    else:
        assert new[2].endswith('; selected: %s (AVX2)' % SELECTED)
        assert ' %s (numpy)' % SELECTED in new[2] and OLD not in new[2]
