"""--shard I/N and --merge: the merged logs are byte-identical to an unsharded run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from spiking_utils import SpikingNetwork, merge_shards, random_calibrated_params, run_test_set, shard_batches, shard_dir
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import save_checkpoint
from snn_conversion.core.errors import UserError

SCRIPT = os.path.join(ROOT, 'FashionMNIST', 'Spiking_MLP_FashionMNIST.py')


def _read(d):
    return {f: open(os.path.join(d, f), 'rb').read() for f in sorted(os.listdir(d)) if f.endswith('.txt')}


def test_shard_batches_cover_every_batch_once():
    for n_images, bs, n in ((10000, 50, 7), (100, 40, 2), (5, 1, 5)):
        seen = [b for i in range(1, n + 1) for b in shard_batches(n_images, bs, (i, n))]
        assert seen == list(range(-(-n_images // bs)))
    for bad in ((3, 2), (0, 2), (1, 0)):
        with pytest.raises(UserError, match='1 <= I <= N'):
            shard_batches(100, 10, bad)


def test_cli_shards_merge_byte_identical(tmp_path, tiny_fashion):
    arch = architectures.get('mlp_fashionmnist')
    rng = np.random.RandomState(0)
    x = rng.rand(32, 28, 28, 1).astype(np.float32)
    model = str(tmp_path / 'm.npz')
    save_checkpoint(model, random_calibrated_params(arch, x, rng, k=1), architecture=arch.name, k=1)
    common = [sys.executable, SCRIPT, '--model_file', model, '--data_dir', tiny_fashion, '--batch_size', '30']

    def run(*args, ok=True):
        p = subprocess.run(common + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        assert (p.returncode == 0) == ok, p.stderr[-2000:]
        return p

    run('--log_dir', str(tmp_path / 'full'))
    for i in (1, 2, 3):  # 100 images / 30 = 4 batches over 3 shards
        run('--log_dir', str(tmp_path / 'sharded'), '--shard', '%d/3' % i)
    out = run('--log_dir', str(tmp_path / 'sharded'), '--merge')
    assert 'merged 3 shards' in out.stdout
    full, merged = _read(str(tmp_path / 'full')), _read(str(tmp_path / 'sharded'))
    assert set(full) == {'accuracy.txt', 'sop_num.txt', 'spike_collect.txt', 'spike_num.txt'}
    assert full == merged
    infos = [json.load(open(str(tmp_path / d / 'run.json'))) for d in ('full', 'sharded')]
    assert infos[0]['layer_labels'] == ['fc400', 'fc400'] and sum(infos[0]['layer_spikes']) > 0
    assert infos[0]['layer_spikes'] == infos[1]['layer_spikes']
    bad = run('--log_dir', str(tmp_path / 'x'), '--shard', '3/2', ok=False)
    assert bad.returncode == 2 and '1 <= I <= N' in bad.stderr and 'Traceback' not in bad.stderr
    os.makedirs(str(tmp_path / 'partial'))
    run('--log_dir', str(tmp_path / 'partial'), '--shard', '1/2')
    bad = run('--log_dir', str(tmp_path / 'partial'), '--merge', ok=False)
    assert 'shard 2/2 is missing or unfinished' in bad.stderr


@pytest.mark.parametrize('name,kw,steps', [('lenet_mnist_sg', dict(B=2), 1),  # threshold-drop noise
                                            ('lenet_mnist_int', dict(use_int=True), 12)])  # input noise
def test_noise_does_not_depend_on_sharding(tmp_path, name, kw, steps):
    arch = architectures.get(name)
    rng = np.random.RandomState(1)
    x = rng.rand(50, 28, 28, 1).astype(np.float32)
    y = rng.randint(0, 10, 50)
    k = 1
    params = random_calibrated_params(arch, x, rng, k=k, B=kw.get('B'))

    def net(seed=3):
        return SpikingNetwork.from_params(arch, params, k, noise_ratio=0.2, seed=seed, **kw)

    run_test_set(net(), x, y, steps, 10, log_dir=str(tmp_path / 'full'), progress=False)
    base = str(tmp_path / 'sharded')
    for i in (1, 2):
        d = shard_dir(base, (i, 2))
        run_test_set(net(), x, y, steps, 10, log_dir=d, progress=False, shard=(i, 2))
        with open(os.path.join(d, 'run.json'), 'w') as f:
            f.write('{"architecture": "%s", "time_steps": %d, "num_images": 25, "steps_run": 1}' % (name, steps))
    merge_shards(base)
    full = _read(str(tmp_path / 'full'))
    assert full == _read(base) and set(full) == set(net().log_files)
    run_test_set(net(seed=4), x, y, steps, 10, log_dir=str(tmp_path / 'seed4'), progress=False)
    assert _read(str(tmp_path / 'seed4')) != full  # the seed matters


@pytest.mark.parametrize('name,kw', [('lenet_fashionmnist', {}), ('lenet_mnist_int', dict(use_int=True, noise_ratio=0.3))])
def test_worker_processes_give_identical_logs(tmp_path, name, kw):
    """--workers N splits each batch over N processes; the merged traces equal a single process's."""
    arch = architectures.get(name)
    rng = np.random.RandomState(2)
    x = rng.rand(30, 28, 28, 1).astype(np.float32)
    y = rng.randint(0, 10, 30)
    params = random_calibrated_params(arch, x, rng, k=1)
    single = SpikingNetwork.from_params(arch, params, 1, seed=5, **kw)
    run_test_set(single, x, y, 25, 14, log_dir=str(tmp_path / 'one'), progress=False)
    with SpikingNetwork.from_params(arch, params, 1, seed=5, **kw).set_workers(2) as net:
        run_test_set(net, x, y, 25, 14, log_dir=str(tmp_path / 'two'), progress=False)
        trace = net.simulate(x[:5], 25)
    assert _read(str(tmp_path / 'one')) == _read(str(tmp_path / 'two'))
    reference = single.simulate(x[:5], 25)
    for a, b in zip(trace.counts, reference.counts):
        np.testing.assert_array_equal(a, b)


def test_two_runs_on_one_log_folder(tmp_path):
    """Two identical simulations started together on one log folder: one finishes with the logs of a single run,
    the other stops at once in one line (exit 2) naming the holder -- real processes."""
    from conftest import make_mnist_like
    data = make_mnist_like(str(tmp_path / 'data'), n_train=10, n_test=200)
    arch = architectures.get('lenet_fashionmnist')
    rng = np.random.RandomState(0)
    model = str(tmp_path / 'm.npz')
    save_checkpoint(model, random_calibrated_params(arch, rng.rand(16, 28, 28, 1), rng, k=1),
                    architecture=arch.name, k=1)
    script = os.path.join(ROOT, 'FashionMNIST', 'Spiking_LeNet_FashionMNIST.py')
    cmd = [sys.executable, script, '--model_file', model, '--data_dir', data, '--batch_size', '10',
           '--log_dir', str(tmp_path / 'logs')]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
             for _ in range(2)]
    outs = [p.communicate() + (p.returncode,) for p in procs]
    assert sorted(rc for _, _, rc in outs) == [0, 2], [o[1][-500:] for o in outs]
    loser = [o for o in outs if o[2] == 2][0]
    winner = procs[[o[2] for o in outs].index(0)]
    err = loser[1].strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: the log folder %s is in use by another run (pid %d'
                                               % (tmp_path / 'logs', winner.pid)), loser[1]
    single = cmd[:-1] + [str(tmp_path / 'single')]
    assert subprocess.run(single, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    assert _read(str(tmp_path / 'logs')) == _read(str(tmp_path / 'single'))
    # the lock is free again: the same command resumes (nothing left to do) without a word about a holder
    again = subprocess.run(cmd + ['--resume'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert again.returncode == 0 and 'taking over' not in again.stderr
