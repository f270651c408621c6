"""``reproduce.py TABLE --rows ROW --smoke``: a row's whole path at a tiny budget, for one row of every table added
for the CIFAR, N-MNIST and subset seeds, on generated files in the real formats (CIFAR python pickles, N-MNIST event
files made into frames by the workspace's own preprocessing script)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, make_cifar_like, make_imagenet, make_mnist_like, make_nmnist_like

from snn_conversion.core import architectures
from snn_conversion.core.errors import UserError
from snn_conversion.core.records import Record
from snn_conversion.data import imagenet
from snn_conversion.reproduce import report, smoke, tables
from snn_conversion.reproduce.context import RunContext


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('smoke_data')
    make_cifar_like(str(root / 'cifar-10-batches-py'), n_train=50, n_test=20)
    make_cifar_like(str(root / 'cifar-100-python'), n_classes=100, n_train=50, n_test=20)
    events = make_nmnist_like(str(root / 'n_mnist_small'), n_train=60, n_test=20)
    subprocess.check_call([sys.executable, 'preprocessing_N_MNIST.py', '--data_dir', events, '--out_dir',
                           str(root / 'n_mnist')], cwd=os.path.join(ROOT, 'N_MNIST'), stdout=subprocess.DEVNULL)
    images = tmp_path_factory.mktemp('imagenet_images')  # ImageNet's folders, converted by the workspace's tool
    make_imagenet(str(images), n_train=8, n_val=4)
    imagenet.convert(str(images), str(root / 'imagenet'), train_shards=2, val_shards=2, workers=2, progress=False)
    return str(root)


# one row of each new table; the all-integer table's full-precision row: an all-integer network trained for one
# step of 50 generated images keeps its BN statistics untrained and needs thousands of steps to settle (its
# conversion is exact all the same: tests/snn/test_integer.py)
ROWS = [('cifar10_negative_spike', 'cnn1_cifar10_k1'), ('cifar10_all_integer', 'cnn1_cifar10_int_fp32'),
        ('cifar10_scatter_gather', 'vgg_cifar10_sg_k1B2'), ('cifar100_scatter_gather', 'vgg_cifar100_sg_k0B1'),
        ('n_mnist', 'lenet_nmnist_k1'), ('n_mnist_subset', 'mlp_nmnist_k1_subset')]


def test_the_new_tables_are_listed_with_one_smoke_row_each():
    new = [name for name in tables.TABLES if name.startswith(('cifar', 'n_mnist', 'imagenet'))]
    assert sorted(new) == sorted([t for t, _ in ROWS] + ['imagenet_mobilenet'])


def test_smoke_of_the_imagenet_mobilenet(tmp_path, data_root, monkeypatch):
    """The MobileNet row's path on TFRecords of tfrecord_imagenet.py: its five towers (batch shrunk to fit the
    smoke's images), a small network (the row's smoke flags) to every script, the float64 ANN read from the
    validation records, the SNN equal to it; the row's paper column says the seed gives no numbers."""
    monkeypatch.setattr(smoke, 'TRAIN_IMAGES', 20)  # (the generated set holds 24 training, 12 validation images)
    monkeypatch.setattr(smoke, 'TEST_IMAGES', 12)
    root, said = str(tmp_path / 'clone'), []
    ctx = RunContext(root=root, data_root=data_root, echo=said.append)
    assert smoke.smoke_table(ctx, 'imagenet_mobilenet', rows=['mobilenet_imagenet_k1'])
    path = os.path.join(root, 'ImageNet_MobileNet', 'smoke', 'records', 'mobilenet_imagenet_k1.json')
    with open(path) as f:
        rec = Record.of(json.load(f), path)
    train = rec.commands['train']
    assert '--num_gpus 5 --width_multiplier 0.25 --image_size 32' in train and '--batch_size 2 ' in train
    assert '--width_multiplier 0.25 --image_size 32' in rec.commands['simulate']
    assert rec.ann.n == rec.ann_float64.n == rec.snn.n == 12 and 'TensorFlow 1.15' in rec.device
    assert rec.snn.correct[-1] == rec.ann_float64.correct and rec.snn.time_steps == 50
    assert rec.paper.stored() == dict(ann=None, snn=None, steps=None)
    assert any('| none (the seed reports no numbers) |' in s for s in said)
    summary = [s for s in said if s.startswith('smoke ')][0]
    assert '(a small network: --width_multiplier 0.25 --image_size 32)' in summary and summary.endswith(
        'ok (record ImageNet_MobileNet/smoke/records/mobilenet_imagenet_k1.json)')


@pytest.mark.parametrize('table, row', ROWS)
def test_smoke_runs_the_whole_path_of_a_row(tmp_path, data_root, table, row):
    root = str(tmp_path / 'clone')
    said = []
    assert smoke.smoke_table(RunContext(root=root, data_root=data_root, echo=said.append), table, rows=[row])
    real = [r for r in tables.TABLES[table].rows if r.id == row][0]
    path = os.path.join(root, real.workspace, 'smoke', 'records', row + '.json')
    with open(path) as f:
        rec = Record.of(json.load(f), path)
    assert rec.done and rec.epochs_done == len(real.phases)
    assert [c.epoch for c in rec.curve] == list(range(1, len(real.phases) + 1))
    assert '--num_train 500' in rec.commands['train'] and '--num_test 200' in rec.commands['inference']
    assert 'TensorFlow 1.15' in rec.device  # where it trained, and the TensorFlow build
    if not real.full_precision:
        assert rec.snn.correct[-1] == rec.ann_float64.correct and rec.snn.n == rec.ann.n
        T = real.time_steps or architectures.get(real.arch).defaults['time_steps']
        assert rec.snn.time_steps == min(T, smoke.TIME_STEPS)
    summary = [s for s in said if s.startswith('smoke ')]
    assert len(summary) == 1 and summary[0].startswith('smoke %s / %s: ' % (table, row)) and '; ok (' in summary[0]
    assert any(s.startswith('| %s, %s |' % (real.network, real.label)) for s in said)  # its RESULTS.md line
    # nothing but the smoke folder is written (a subset's frames too): no record, checkpoint or RESULTS.md of the row
    assert os.listdir(os.path.join(root, real.workspace)) == ['smoke']
    assert not os.path.exists(os.path.join(root, 'RESULTS.md'))


def test_smoke_from_the_command_line(tmp_path, data_root):
    """As a user types it: one summary line, exit 0; the real records and RESULTS.md stay as they are."""
    before = [report.stale(RunContext())]
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), 'n_mnist_subset', '--rows',
                        'mlp_nmnist_k1_subset', '--data_root', data_root, '--smoke'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [line for line in p.stdout.splitlines() if line.startswith('smoke ')]
    assert len(lines) == 1 and lines[0].endswith('(record N_MNIST/smoke/records/mlp_nmnist_k1_subset.json)')
    assert not os.path.exists(os.path.join(ROOT, 'N_MNIST', 'records', 'mlp_nmnist_k1_subset.json')) or \
        json.load(open(os.path.join(ROOT, 'N_MNIST', 'records', 'mlp_nmnist_k1_subset.json')))['budget_epochs'] == 150
    assert [report.stale(RunContext())] == before
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--smoke'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 2 and p.stderr.strip().startswith('error: --smoke needs the tables')


def test_a_table_whose_data_is_missing_exits_2_and_writes_nothing(tmp_path):
    root = tmp_path / 'data'
    make_mnist_like(str(root / 'mnist'), n_train=20, n_test=10)  # a data root holding another data set
    clone = str(tmp_path / 'clone')
    quiet = RunContext(root=clone, data_root=str(root), echo=lambda s: None)
    for run in (lambda: smoke.smoke_table(quiet, 'cifar10_negative_spike', rows=['cnn1_cifar10_k1']),):
        with pytest.raises(UserError, match='holds no cifar10 data set: put its files .*--download'):
            run()
    with pytest.raises(UserError, match='holds no imagenet data set: put its files \\(meta.json.*tfrecord_imagenet.py '
                                        'makes them'):
        smoke.smoke_table(quiet, 'imagenet_mobilenet', rows=['mobilenet_imagenet_k0'])
    assert not os.path.exists(clone)
    (tmp_path / 'empty').mkdir()  # the scripts' own search finds nothing either (no training can start here)
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), 'cifar10_negative_spike', '--rows',
                        'cnn1_cifar10_k1', '--data_root', str(root), '--smoke'], cwd=str(tmp_path / 'empty'),
                       env=dict(os.environ, SNN_DATA_DIR=str(tmp_path / 'empty')),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1 and 'holds no cifar10 data set' in err[0]
