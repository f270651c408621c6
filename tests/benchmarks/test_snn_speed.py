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


def test_the_peer_line_only_where_the_record_has_the_peer(tmp_path):
    """snn_speed.py --peer records SpikingJelly's rates and the ratios (per computed step: the early stop taken
    out); the throughput section shows them only for a record that has them."""
    import json
    import importlib.util
    from snn_conversion.reproduce import throughput

    spec = importlib.util.spec_from_file_location('snn_speed', SCRIPT)
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    rec = dict(benchmark='snn_speed', date='2026-01-01 00:00 UTC', machine='2 CPU cores (X)', cpu='X', blas='b',
               git_revision='0' * 40, command='python benchmarks/snn_speed.py', network='cnn1', k=1, batch=50,
               time_steps=100, inputs='random', steps_run=20, spikes_per_image=1.0, sops_per_image=1.0,
               identical=True, rows=[dict(key='compiled', label='compiled', rate=600.0, gsops=None, peak_mib=None,
                                          speedup=1.0, vs_strided=1.0),
                                     dict(key='par', label='workers', rate=1000.0, gsops=None, peak_mib=None,
                                          speedup=1.0, vs_strided=1.0)])
    peer = dict(peer='SpikingJelly 2.0.0 on torch 2.13.0+cpu', threads=2, single_rate=200.0, multi_rate=100.0,
                check=dict(checked_images=4, neurons=1000, exact_node_differing=0, ifnode_same_fraction=0.7,
                           ifnode_same_class=3))
    ratios = speed.peer_ratios(peer, rec)
    assert ratios == dict(per_computed_step=0.6, overall=3.0, per_computed_step_rate=120.0, overall_workers=5.0,
                          per_computed_step_workers=1.0)
    out = tmp_path / 'benchmarks' / 'results' / 'a.json'
    out.parent.mkdir(parents=True)
    out.write_text(json.dumps(rec))
    assert 'SpikingJelly' not in throughput.render(str(tmp_path))
    rec['peer'] = dict(peer, ratios=ratios)
    out.write_text(json.dumps(rec))
    text = throughput.render(str(tmp_path))
    assert 'single-step 200.0, multi-step 100.0 images × steps / s' in text
    assert '0.60× per computed step (120.0 images × computed steps / s' in text and '3.00× overall' in text
    assert '5.00× with the workers (1.00× per computed step)' in text
    assert 'differs on 0 of 1000 spike counts' in text and '70.0 % of them equal and 3 of 4 classes' in text
