"""``reproduce.py TABLE --rows ROW --smoke``: a row's whole path at a tiny budget, for one row of every table added
for the CIFAR, N-MNIST and subset seeds, on generated files in the real formats (CIFAR python pickles, N-MNIST event
files made into frames by the workspace's own preprocessing script)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, make_mnist_like
from smoke_checks import ROWS, check_smoke_row, write_data_root

from snn_conversion.core.errors import UserError
from snn_conversion.core.records import Record
from snn_conversion.reproduce import smoke, tables
from snn_conversion.reproduce.context import RunContext

ROWS_HERE = ROWS[:2]  # the other rows, and the command line: test_smoke_sg_nmnist.py


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return write_data_root(tmp_path_factory.mktemp('smoke_data'), tmp_path_factory, ('cifar10', 'imagenet'))


def test_the_new_tables_are_listed_with_one_smoke_row_each():
    new = [name for name in tables.TABLES if name.startswith(('cifar', 'n_mnist', 'imagenet'))]
    assert sorted(new) == sorted([t for t, _ in ROWS] + ['imagenet_mobilenet'])


def test_smoke_of_the_imagenet_mobilenet(tmp_path, data_root, monkeypatch):
    """The MobileNet row's path on TFRecords of tfrecord_imagenet.py: its five towers (batch shrunk to fit the
    smoke's images), a small network (the row's smoke flags) to every script, the float64 ANN read from the
    validation records, the SNN equal to it; the row's paper column says the seed gives no numbers."""
    monkeypatch.setattr(smoke, 'TRAIN_IMAGES', 20)  # (the generated set holds 24 training, 12 validation images)
    monkeypatch.setattr(smoke, 'TEST_IMAGES', 6)
    root, said = str(tmp_path / 'clone'), []
    ctx = RunContext(root=root, data_root=data_root, echo=said.append)
    assert smoke.smoke_table(ctx, 'imagenet_mobilenet', rows=['mobilenet_imagenet_k1'])
    path = os.path.join(root, 'ImageNet_MobileNet', 'smoke', 'records', 'mobilenet_imagenet_k1.json')
    with open(path) as f:
        rec = Record.of(json.load(f), path)
    train = rec.commands['train']
    assert '--num_gpus 5 --width_multiplier 0.25 --image_size 32' in train and '--batch_size 2 ' in train
    assert '--width_multiplier 0.25 --image_size 32' in rec.commands['simulate']
    assert rec.ann.n == rec.ann_float64.n == rec.snn.n == 6 and 'TensorFlow 1.15' in rec.device
    assert rec.snn.correct[-1] == rec.ann_float64.correct and rec.snn.time_steps == 50
    assert rec.paper.stored() == dict(ann=None, snn=None, steps=None)
    assert any('| none (the seed reports no numbers) |' in s for s in said)
    summary = [s for s in said if s.startswith('smoke ')][0]
    assert '(a small network: --width_multiplier 0.25 --image_size 32)' in summary and summary.endswith(
        'ok (record ImageNet_MobileNet/smoke/records/mobilenet_imagenet_k1.json)')


@pytest.mark.parametrize('table, row', ROWS_HERE)
def test_smoke_runs_the_whole_path_of_a_row(tmp_path, data_root, table, row):
    check_smoke_row(tmp_path, data_root, table, row)


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
