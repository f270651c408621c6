"""What test_smoke.py and test_smoke_sg_nmnist.py share (two files, so that the two processes of `make test`
share the smoke runs): the generated data sets in the real formats, the rows run, and the checks of a row's smoke
run."""
import json
import os
import subprocess
import sys

from conftest import ROOT, make_cifar_like, make_imagenet, make_nmnist_like

from snn_conversion.core import architectures
from snn_conversion.core.records import Record
from snn_conversion.reproduce import smoke, tables
from snn_conversion.reproduce.context import RunContext


def write_data_root(root, tmp_path_factory, sets):
    """The data sets named in ``sets`` ('cifar10', 'cifar100', 'n_mnist', 'imagenet') under ``root``."""
    # (a few images: the smoke budget's 500 training and 200 test images are a bound, and a row's cost is in its
    # networks' size, its steps and its processes)
    if 'cifar10' in sets:
        make_cifar_like(str(root / 'cifar-10-batches-py'), n_train=10, n_test=4)
    if 'cifar100' in sets:
        make_cifar_like(str(root / 'cifar-100-python'), n_classes=100, n_train=10, n_test=4)
    if 'n_mnist' in sets:
        events = make_nmnist_like(str(root / 'n_mnist_small'), n_train=60, n_test=20)
        subprocess.check_call([sys.executable, 'preprocessing_N_MNIST.py', '--data_dir', events, '--out_dir',
                               str(root / 'n_mnist')], cwd=os.path.join(ROOT, 'N_MNIST'), stdout=subprocess.DEVNULL)
    if 'imagenet' in sets:
        images = tmp_path_factory.mktemp('imagenet_images')  # ImageNet's folders, converted by the workspace's tool
        make_imagenet(str(images), n_train=8, n_val=4)
        subprocess.check_call([sys.executable, 'tfrecord_imagenet.py', '--data_dir', str(images), '--out_dir',
                               str(root / 'imagenet'), '--train_shards', '2', '--val_shards', '2', '--workers', '1'],
                              cwd=os.path.join(ROOT, 'ImageNet_MobileNet'), stdout=subprocess.DEVNULL)
    return str(root)


# one row of each new table; the all-integer table's full-precision row: an all-integer network trained for one
# step of 50 generated images keeps its BN statistics untrained and needs thousands of steps to settle (its
# conversion is exact all the same: tests/snn/test_integer.py)
ROWS = [('cifar10_negative_spike', 'cnn1_cifar10_k1'), ('cifar10_all_integer', 'cnn1_cifar10_int_fp32'),
        ('cifar10_scatter_gather', 'vgg_cifar10_sg_k1B2'), ('cifar100_scatter_gather', 'vgg_cifar100_sg_k0B1'),
        ('n_mnist', 'lenet_nmnist_k1'), ('n_mnist_subset', 'mlp_nmnist_k1_subset')]


def check_smoke_row(tmp_path, data_root, table, row):
    """``reproduce.py TABLE --rows ROW --smoke`` in a clone of its own: the record's whole path, its RESULTS.md
    line, and nothing written but the smoke folder."""
    root = str(tmp_path / 'clone')
    said = []
    assert smoke.smoke_table(RunContext(root=root, data_root=data_root, echo=said.append), table, rows=[row])
    real = check_smoke_record(root, table, row, said)
    # nothing but the smoke folder is written (a subset's frames too): no record, checkpoint or RESULTS.md of the row
    assert os.listdir(os.path.join(root, real.workspace)) == ['smoke']
    assert not os.path.exists(os.path.join(root, 'RESULTS.md'))


def check_smoke_record(root, table, row, said):
    """The smoke record of ``row`` under ``root`` (its whole path) and the run's lines ``said`` (its one summary
    line, its RESULTS.md line); returns the table's row."""
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
    return real
