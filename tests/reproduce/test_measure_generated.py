"""``reproduce.py TABLE --measure`` where the data set is absent: one epoch timed on generated files of the real
format (the real size by default; smaller here), and the record and RESULTS.md say so."""
import os
import re

import numpy as np
import pytest

from snn_conversion.core.machine import gpu_visible
from snn_conversion.data import synthetic
from snn_conversion.data.datasets import load_dataset
from snn_conversion.reproduce import observe, report, tables
from snn_conversion.reproduce.context import RunContext


@pytest.mark.parametrize('dataset, shape, classes', [('mnist', (28, 28, 1), 10), ('fashion_mnist', (28, 28, 1), 10),
                                                     ('cifar10', (32, 32, 3), 10), ('cifar100', (32, 32, 3), 100),
                                                     ('n_mnist', (34, 34, 1), 10), ('n_mnist_2p', (34, 34, 2), 10)])
def test_generated_sets_read_as_the_real_ones(tmp_path, dataset, shape, classes):
    folder = synthetic.write_synthetic(dataset, str(tmp_path), sizes=(60, 12))
    data = load_dataset(dataset, splits=('train', 'test'), data_dir=str(tmp_path))
    assert os.path.dirname(folder) == str(tmp_path)
    x, y = data['test']
    assert x.shape == (12,) + shape and y.shape == (12,) and 0 <= y.min() and y.max() < classes
    assert len(data['train'][0]) + len(data.get('val', ((),))[0]) in (60, 50)  # (MNIST-like sets hold out 1/6)
    assert np.isfinite(x).all()
    assert synthetic.SIZES['cifar10'] == (50000, 10000) and synthetic.SIZES['n_mnist'] == (60000, 10000)


def _no_data_context(tmp_path, root, said):
    """A run context whose --data_root holds no data set (the rows are timed on generated data)."""
    empty = tmp_path / 'no_data'
    empty.mkdir()
    return RunContext(root=root, data_root=str(empty), echo=said.append)


def test_measure_times_a_row_on_generated_data_where_the_set_is_absent(tmp_path, monkeypatch):
    monkeypatch.setitem(synthetic.SIZES, 'cifar10', (20, 4))  # (the real size takes an hour an epoch here)
    root, said = str(tmp_path / 'clone'), []
    table = tables.TABLES['cifar10_negative_spike']
    ctx = _no_data_context(tmp_path, root, said)
    timed = observe.measure_table(ctx, table, rows=['cnn1_cifar10_k1'])
    assert list(timed) == ['cnn1_cifar10_k1'] and timed['cnn1_cifar10_k1'] > 0
    assert any('timing on generated data of its real size and format (20 training, 4 test images)' in s
               for s in said)
    rec = ctx.read_record(table.rows[1])
    assert rec.measured.data == 'generated: 20 training and 4 test images of the real format'
    assert '--epochs 1 --learning_rate 0.001' in rec.measured.command and not rec.curve
    line = [l for l in report.status_lines(RunContext(root=root), tables=[table.name]) if 'cnn1_cifar10_k1' in l][0]
    assert 'one epoch timed at' in line and 'on generated data' in line and '200 epochs' in line


def test_measure_projects_a_whole_epoch_from_part_of_one(tmp_path, monkeypatch):
    """``--measure_images N``: an epoch of N training images (validated on the same share) is timed, and the
    whole epoch projected from it linearly; the record, the echo and RESULTS.md's line say so."""
    monkeypatch.setitem(synthetic.SIZES, 'cifar10', (50, 10))
    root, said = str(tmp_path / 'clone'), []
    table = tables.TABLES['cifar10_negative_spike']
    ctx = _no_data_context(tmp_path, root, said)
    timed = observe.measure_table(ctx, table, rows=['cnn1_cifar10_fp32'], images=10)
    m = ctx.read_record(table.rows[0]).measured
    assert (m.images, m.of) == (10, 50) and '--num_train 10' in m.command
    assert '--data_dir <generated> ' in m.command and 'snn_generated' not in m.command
    assert m.epoch_seconds == timed['cnn1_cifar10_fp32'] == round(m.part_seconds * 50 / 10.0, 1)
    assert any('projected from 10 of 50 images' in s for s in said)
    log = open(os.path.join(root, 'CIFAR10', 'records', 'cnn1_cifar10_fp32.log')).read()
    assert 'part of the data (--num_train): 10 of 50 training images, 2 of 10 validation images' in log
    line = [l for l in report.status_lines(RunContext(root=root), tables=[table.name]) if 'cnn1_cifar10_fp32' in l][0]
    assert 'one epoch projected at' in line and 'from an epoch of 10 of its 50 training images' in line


def test_measure_of_the_mobilenet_on_generated_imagenet_records(tmp_path, monkeypatch):
    """ImageNet is too large to generate whole: a part of it in the real format (JPEG photographs in the standard
    folders, converted by tfrecord_imagenet.py's code into TFRecords, 1,000 classes), timed whole and projected to
    the real 1,281,167 training images.  (A small network and few images here: the flags of the row's smoke run.)"""
    monkeypatch.setitem(synthetic.PARTS, 'imagenet', (20, 2))
    table = tables.TABLES['imagenet_mobilenet']
    row = table.rows[1]._replace(train_flags=('--num_gpus', '2') + table.rows[1].smoke_flags, batch_size=4)
    small = table._replace(rows=[row])
    root = str(tmp_path / 'clone')
    empty = tmp_path / 'no_data'
    empty.mkdir()
    said = []
    ctx = RunContext(root=root, data_root=str(empty), echo=said.append)
    timed = observe.measure_table(ctx, small)
    m = ctx.read_record(row).measured
    assert (m.images, m.of) == (20, 1281167) and m.data == 'generated: 20 training and 2 test images of the real format'
    assert timed[row.id] == m.epoch_seconds == round(m.part_seconds * 1281167 / 20.0, 1)
    assert any("of the real set's 1281167 and 50000" in s for s in said)
    log = open(os.path.join(root, 'ImageNet_MobileNet', 'records', row.id + '.log')).read()
    assert re.search(r'epoch 1/1 .* val acc', log)
    if gpu_visible():  # the row's 2 towers side by side: 20 images / (2 towers x 4)
        assert 'global step 2;' in log and m.towers is None and timed[row.id] == row.timed_seconds(m)
        return
    # no GPU: one of the 2 towers timed (they would run one after another), 20 images / 4, and the record says so
    assert 'global step 5;' in log and m.towers == 1 and '--num_gpus 1 ' in m.command
    assert any('with one of its 2 towers (no GPU here)' in s for s in said)
    assert row.timed_seconds(m) == m.epoch_seconds  # (it counts as the row's epoch)
    line = [l for l in report.status_lines(RunContext(root=root), tables=[table.name]) if row.id in l][0]
    assert 'one of its 5 towers (no GPU: they run one after another)' in line  # (the row's own 5)
