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


def test_json_record_and_the_generated_throughput_section(tmp_path):
    """--json writes what the run printed, with when, where, which BLAS kernels and which revision; RESULTS.md's
    throughput section is rendered from such files alone (a file lacking a field is refused, naming it)."""
    import json
    import pytest
    from snn_conversion.core.errors import UserError
    from snn_conversion.reproduce import throughput

    out = tmp_path / 'benchmarks' / 'results' / 'lenet.json'
    out.parent.mkdir(parents=True)
    p = _bench('--arch', 'lenet_fashionmnist', '--workers', '1', '--json', str(out))
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    rec = json.loads(out.read_text())
    assert rec['command'].startswith('python benchmarks/snn_speed.py --batch_size 4 --time_steps 12')
    assert rec['blas'] in p.stdout and rec['identical'] is True and rec['project_images'] == 10000
    assert len(rec['git_revision']) >= 40 and 'CPU' in rec['machine'] and rec['date'].endswith('UTC')
    assert rec['cpus_used'] == len(os.sched_getaffinity(0))
    for row in rec['rows']:  # the printed table is the record's
        assert ('%-60s %14.1f' % (row['label'], row['rate'])) in p.stdout
    assert [r['key'] for r in rec['rows']][:3] == ['base', 'strided', 'dense']
    text = throughput.render(str(tmp_path))
    assert '### lenet_fashionmnist' in text and rec['blas'] in text and rec['command'] in text
    assert '| %s | %.1f |' % (rec['rows'][-1]['label'], rec['rows'][-1]['rate']) in text
    assert 'Projected cost of 10,000 images at T=12' in text and 'Identical spike counts (baselines and every ' \
                                                                 'engine): yes.' in text
    del rec['blas']
    out.write_text(json.dumps(rec))
    with pytest.raises(UserError, match='lenet.json lacks blas: write it again'):
        throughput.render(str(tmp_path))
    assert throughput.BEGIN in open(os.path.join(ROOT, 'docs', 'performance.md')).read()
    with pytest.raises(UserError, match='lacks one of the throughput'):
        throughput.compose('head\n%s\n' % throughput.BEGIN, 'RESULTS.md', str(tmp_path))
    doc = 'head\n%s\nold\n%s\ntail' % (throughput.BEGIN, throughput.END)
    assert throughput.compose(doc, 'RESULTS.md', str(tmp_path / 'none')).startswith('head\n' + throughput.BEGIN
                                                                                    + '\nNo benchmark record yet')
