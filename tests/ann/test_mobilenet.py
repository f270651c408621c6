"""ImageNet MobileNet workspace on tiny generated JPEG folders: TFRecord conversion, training (towers, two
worker processes on loopback through TF_CONFIG), and the lossless spiking MobileNet."""
import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, WNIDS, make_imagenet
from spiking_utils import SpikingNetwork, quantized_forward
from snn_conversion.core import architectures
from snn_conversion.data import imagenet
from snn_conversion.core.checkpoint import load_checkpoint
from snn_conversion.ann.cluster import cluster_from_env
from snn_conversion.core.errors import UserError

WS = os.path.join(ROOT, 'ImageNet_MobileNet')
TINY = ['--width_multiplier', '0.25', '--image_size', '32']


@pytest.fixture(scope='module')
def tiny_imagenet(tmp_path_factory):
    base = tmp_path_factory.mktemp('imagenet')
    make_imagenet(str(base / 'src'))
    out = str(base / 'tfrecords')
    imagenet.convert(str(base / 'src'), out, train_shards=2, val_shards=2, workers=2, progress=False)
    return str(base), out


def _run(args, cwd=WS, env=None, timeout=300):
    e = dict(os.environ)
    e.pop('TF_CONFIG', None)
    e.update(env or {})
    return subprocess.run([sys.executable] + args, cwd=cwd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)


def _files(folder):
    return {f: open(os.path.join(folder, f), 'rb').read() for f in sorted(os.listdir(folder))}


def test_conversion_is_deterministic_resumable_and_reads_back(tiny_imagenet, tmp_path):
    base, out = tiny_imagenet
    with open(os.path.join(out, 'synsets.txt')) as f:
        assert f.read().split() == sorted(WNIDS)
    # a second conversion by the script (other worker count) gives byte-identical files
    again = str(tmp_path / 'again')
    r = _run(['tfrecord_imagenet.py', '--data_dir', os.path.join(base, 'src'), '--out_dir', again,
              '--train_shards', '2', '--val_shards', '2', '--workers', '1'])
    assert r.returncode == 0, r.stderr
    assert _files(again) == _files(out)
    # interrupted conversion: a missing shard (and a stale temporary file) -> only that shard is written again
    os.remove(os.path.join(again, 'train-00001-of-00002.tfrecord'))
    open(os.path.join(again, 'train-00001-of-00002.tfrecord.tmp-1'), 'wb').close()
    r = _run(['tfrecord_imagenet.py', '--data_dir', os.path.join(base, 'src'), '--out_dir', again,
              '--train_shards', '2', '--val_shards', '2'])
    assert r.returncode == 0 and '3 of 4 shards already written' in r.stdout, r.stdout + r.stderr
    os.remove(os.path.join(again, 'train-00001-of-00002.tfrecord.tmp-1'))
    assert _files(again) == _files(out)
    # reading back: every validation image once, labels = sorted class index, standardized 32x32 inputs
    split = imagenet.EvalSplit(out, 'validation', 32)
    x, y = split.images[0:len(split)], split.labels[0:len(split)]
    assert x.shape == (6, 32, 32, 3) and list(y) == [0, 0, 1, 1, 2, 2]
    np.testing.assert_allclose(x.reshape(6, -1).mean(axis=1), 0, atol=1e-5)
    # a flat val/ folder with a labels file gives the same records
    flat = str(tmp_path / 'flat')
    labels = make_imagenet(flat, flat_val=True)
    with open(str(tmp_path / 'labels.txt'), 'w') as f:
        f.write(''.join('%s\n' % w for _, w in sorted(labels)))
    flat_out = str(tmp_path / 'flat_out')
    imagenet.convert(flat, flat_out, 2, 2, workers=1, val_labels=str(tmp_path / 'labels.txt'), progress=False)
    xf = imagenet.EvalSplit(flat_out, 'validation', 32)
    assert list(xf.labels[0:6]) == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize('case, message', [
    ('nothing', 'neither train/<wnid>/ nor val/<wnid>/'),
    ('flat_no_labels', 'pass --val_labels'),
    ('corrupt', 'not a readable image'),
])
def test_conversion_bad_input_one_line(tmp_path, case, message):
    src = str(tmp_path / 'src')
    os.makedirs(src)
    if case == 'flat_no_labels':
        make_imagenet(src, flat_val=True)
    elif case == 'corrupt':
        make_imagenet(src)
        with open(os.path.join(src, 'train', WNIDS[0], '%s_0.JPEG' % WNIDS[0]), 'wb') as f:
            f.write(b'\xff\xd8 not a jpeg')
    r = _run(['tfrecord_imagenet.py', '--data_dir', src, '--out_dir', str(tmp_path / 'out'), '--workers', '1'])
    assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith('error: ')


def test_truncated_shard_is_refused(tiny_imagenet, tmp_path):
    _, out = tiny_imagenet
    bad = str(tmp_path / 'bad')
    os.makedirs(bad)
    for name, data in _files(out).items():
        open(os.path.join(bad, name), 'wb').write(data[:len(data) // 2] if name.startswith('validation-00001') else data)
    with pytest.raises(UserError, match='truncated'):
        imagenet.EvalSplit(bad, 'validation', 32)


def test_train_towers_infer_and_lossless_snn(tiny_imagenet, tmp_path):
    """Two training epochs with two towers, inference, then the spiking MobileNet: counts = ANN levels."""
    _, out = tiny_imagenet
    model = str(tmp_path / 'm.npz')
    common = TINY + ['--data_dir', out, '--model_file', model]
    r = _run(['Quant_MobileNet_ImageNet.py', '--k', '1', '--mode', 'training', '--epochs', '2', '--batch_size', '2',
              '--num_gpus', '2', '--learning_rate', '0.01'] + common)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r'global step 6;', r.stdout), r.stdout  # 12 images / (2 towers x 2) = 3 steps x 2 epochs
    ann = float(re.search(r'ANN validation accuracy .*: ([0-9.]+)%', r.stdout).group(1))
    r = _run(['running_distributed_mobilenet.py', '--quant_level', '1', '--mode', 'inference'] + common)
    assert r.returncode == 0 and ('%.2f%%' % ann) in r.stdout, r.stdout + r.stderr
    logs = str(tmp_path / 'logs')
    r = _run(['Spiking_MobileNet_ImageNet.py', '--time_steps', '400', '--batch_size', '4', '--log_dir', logs] + common)
    assert r.returncode == 0, r.stderr[-2000:]
    snn = float(re.search(r'SNN accuracy at T=400: ([0-9.]+)%', r.stdout).group(1))
    assert snn == ann
    info = json.load(open(os.path.join(logs, 'run.json')))
    assert info['num_images'] == 6 and info['steps_run'] < 400
    assert len(open(os.path.join(logs, 'accuracy.txt')).read().split()) == 2 * 400  # 2 batches x T lines
    for fig in ('accuracy_speed', 'sparsity', 'sops'):  # the workspace's figure scripts read these logs
        r = _run([os.path.join('figs', fig + '.py'), logs, '--out', str(tmp_path / fig)])
        assert r.returncode == 0 and (tmp_path / (fig + '.png')).stat().st_size > 5000, r.stderr[-2000:]
    # neuron by neuron on the real checkpoint and the real inputs
    params, meta = load_checkpoint(model)
    arch = architectures.get(meta['architecture'])
    assert arch.name == architectures.mobilenet(0.25, 32, 3).name
    split = imagenet.EvalSplit(out, 'validation', 32)
    x = split.images[0:6]
    levels, _ = quantized_forward(arch, params, x, 1)
    trace = SpikingNetwork.from_params(arch, params, 1).simulate(x, 400)
    assert trace.converged
    for count, level in zip(trace.counts, levels):
        np.testing.assert_array_equal(count, level)


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('localhost', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.parametrize('with_ps', [False, True])
def test_two_worker_processes_on_loopback(tiny_imagenet, tmp_path, with_ps):
    """Synchronous training by two real TensorFlow worker processes (TF_CONFIG), with and without a parameter
    server: both end with identical variables and one global step per synchronous step."""
    _, out = tiny_imagenet
    ports = _free_ports(3)
    cluster = {'worker': ['localhost:%d' % p for p in ports[:2]]}
    if with_ps:
        cluster['ps'] = ['localhost:%d' % ports[2]]
    tasks = [('worker', 0), ('worker', 1)] + ([('ps', 0)] if with_ps else [])
    procs = []
    for ttype, index in tasks:
        env = dict(os.environ, TF_CONFIG=json.dumps({'cluster': cluster, 'task': {'type': ttype, 'index': index}}))
        args = [sys.executable, 'Quant_MobileNet_ImageNet.py', '--k', '1', '--epochs', '2', '--batch_size', '2',
                '--data_dir', out, '--model_file', str(tmp_path / 'dist.npz')] + TINY
        procs.append(subprocess.Popen(args, cwd=WS, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True))
    outs = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=240)
            outs.append((p.returncode, stdout, stderr))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for rc, stdout, stderr in outs:
        assert rc == 0, stderr[-2000:]
    digests = [re.search(r'global step (\d+); variables digest (\w+)', o[1]).groups() for o in outs[:2]]
    # 12 training images / (2 workers x batch 2) = 3 synchronous steps per epoch, 2 epochs
    assert digests[0] == digests[1] and digests[0][0] == '6', digests
    assert 'val acc' in outs[0][1] and 'val acc' not in outs[1][1]  # the chief evaluates and checkpoints
    assert os.path.isfile(str(tmp_path / 'dist.npz'))
    if with_ps:
        assert 'every worker has finished' in outs[2][1]


_HOST = """
import sys, tensorlayer_patches
tf = tensorlayer_patches.quiet_tensorflow()
spec = tf.train.ClusterSpec({'ps': [sys.argv[1]], 'worker': [sys.argv[2]]})
tf.distribute.Server(spec, job_name='ps', task_index=0).join()
"""

_SIGNALLING_WORKER = """
import os, sys, tensorlayer_patches
from snn_conversion.ann.cluster import signal_finished
tf = tensorlayer_patches.quiet_tensorflow()
spec = tf.train.ClusterSpec({'ps': [sys.argv[1]], 'worker': [sys.argv[2]]})
server = tf.distribute.Server(spec, job_name='worker', task_index=0)
with tf.device('/job:ps/task:0'):
    signal_op = tf.FIFOQueue(2, [tf.int32], shapes=[()], shared_name='done').enqueue(1)
sess = tf.Session(server.target, config=tf.ConfigProto(device_filters=['/job:ps/task:0', '/job:worker/task:0']))
print('host alive:', signal_finished(sess, signal_op))
sys.stdout.flush()
sys.stdin.readline()  # the test has ended the host meanwhile: it has left, as after the last signal
print('host gone:', signal_finished(sess, signal_op, 'worker/0: ', timeout_s=2))
sys.stdout.flush()
os._exit(0)
"""


def test_finished_signal_to_a_host_that_never_replies_ends():
    """A worker's last signal has a deadline: TensorFlow 1.15 would wait for ever for the reply of a host that
    left right after receiving it (seen in CI as a hang of the two-worker run with a ps)."""
    host_addr, worker_addr = ['localhost:%d' % p for p in _free_ports(2)]
    host = subprocess.Popen([sys.executable, '-c', _HOST, host_addr, worker_addr], cwd=ROOT)
    worker = subprocess.Popen([sys.executable, '-c', _SIGNALLING_WORKER, host_addr, worker_addr], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
    try:
        first = worker.stdout.readline()
        host.kill()
        host.wait()
        stdout, stderr = worker.communicate('go\n', timeout=120)
    finally:
        for p in (host, worker):
            if p.poll() is None:
                p.kill()
    assert worker.returncode == 0, stderr[-2000:]
    assert first == 'host alive: True\n' and 'host gone: False' in stdout, first + stdout
    assert "worker/0: no reply to the finished signal within 2 s: the variables' host has left" in stdout


@pytest.mark.parametrize('text, message', [
    ('{not json', 'not valid JSON'),
    ('{"cluster": {"worker": ["localhost:1"]}}', 'needs "cluster"'),
    ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}', 'not in the cluster'),
    ('{"cluster": {"evaluator": ["localhost:1"]}, "task": {"type": "evaluator", "index": 0}}', 'not supported'),
])
def test_bad_tf_config(text, message):
    with pytest.raises(UserError, match=message):
        cluster_from_env({'TF_CONFIG': text})
    assert cluster_from_env({}) is None
