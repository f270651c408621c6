"""``--drop_last`` of the Quant_* / FP32_* scripts: each epoch leaves out its last partial batch, as TensorLayer's
``tl.iterate.minibatches`` does in the authors' loop (the scatter-and-gather MNIST LeNet: 390 steps of 128 over
50,000 images, not 391).  A recorded recipe choice: the checkpoint and the training state say which, a resumed run
must keep it, a checkpoint from before the flag counts as False, inference ignores it."""
import os

import numpy as np
import pytest

from conftest import ROOT, make_mnist_like, run
from snn_conversion.ann.settings import AnnRun, Network
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import (CheckpointError, load_checkpoint, object_array, resolve_drop_last,
                                            save_checkpoint, state_numbers, train_state_path)
from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import read_npz

FP32 = os.path.join(ROOT, 'MNIST', 'FP32_LeNet_MNIST_SG.py')
QUANT = os.path.join(ROOT, 'MNIST', 'Quant_LeNet_MNIST_SG.py')
ARCH = architectures.get('lenet_mnist_sg')
N_TRAIN, BATCH = 300, 128  # 360 training images: the last 60 validate (1/6), 300 train -> 3 steps, or 2 dropping


def _epoch_labels(drop_last, n=N_TRAIN, batch=BATCH, seed=3, epoch=1):
    """The batches' labels of one epoch of a TrainInput over n images whose label is their index."""
    import tensorlayer_patches
    from snn_conversion.ann.inputs import TrainInput
    tf = tensorlayer_patches.quiet_tensorflow()
    x = np.zeros((n, 28, 28, 1), np.float32)
    x[:, 0, 0, 0] = np.arange(n)
    y = np.arange(n, dtype=np.int64)
    with tf.Graph().as_default():
        inp = TrainInput('mnist', batch, (x, y), drop_last=drop_last)
        with tf.Session() as sess:
            inp.start(sess, seed, epoch)
            batches = [sess.run([inp.x, inp.y]) for _ in range(inp.steps)]
    for bx, by in batches:  # each image travels with its label
        assert np.array_equal(bx[:, 0, 0, 0], by.astype(np.float32))
    return inp.steps, [by for _, by in batches]


def test_an_epoch_trains_on_the_first_whole_batches_of_the_same_order():
    from snn_conversion.ann.inputs import epoch_order
    order = epoch_order(3, 1, N_TRAIN)
    steps, batches = _epoch_labels(False)
    assert steps == 3 and [len(b) for b in batches] == [128, 128, 44]
    assert np.array_equal(np.concatenate(batches), order)
    steps, batches = _epoch_labels(True)
    assert steps == 2 and [len(b) for b in batches] == [128, 128]
    assert np.array_equal(np.concatenate(batches), order[:256])  # the same order, its last 44 left out
    assert _epoch_labels(True, n=256)[0] == _epoch_labels(False, n=256)[0] == 2  # a dividing batch: no difference
    assert [len(b) for b in _epoch_labels(True, n=50000)[1]] == [128] * 390  # the table's 50,000 images


def test_fewer_images_than_one_batch_are_refused_when_dropping():
    with pytest.raises(UserError, match='100 training images are fewer than one batch of 128'):
        _epoch_labels(True, n=100)
    assert _epoch_labels(False, n=100)[0] == 1


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp('drop_last')
    data = make_mnist_like(str(folder / 'mnist'), n_train=N_TRAIN + 60, n_test=50)
    common = ['--epochs', '1', '--batch_size', str(BATCH), '--seed', '1', '--data_dir', data]
    models = {}
    for name, flags in (('plain', []), ('false', ['--drop_last', 'False']), ('true', ['--drop_last', 'True'])):
        models[name] = str(folder / ('%s.npz' % name))
        run(FP32, *(common + flags + ['--model_file', models[name]]), cwd=str(folder))
    return data, models


def test_the_default_is_bit_identical_and_dropping_trains_otherwise(trained):
    _, models = trained
    plain, false, true = (load_checkpoint(models[name])[0] for name in ('plain', 'false', 'true'))
    assert all(np.array_equal(a, b) for a, b in zip(plain, false))
    assert not all(np.array_equal(a, b) for a, b in zip(plain, true))


def test_the_setting_is_recorded_in_the_checkpoint_and_the_training_state(trained):
    _, models = trained
    for name, value in (('plain', False), ('false', False), ('true', True)):
        meta = load_checkpoint(models[name])[1]
        assert meta['drop_last'] is value and meta['ann_accuracy'] is not None  # kept by the accuracy's rewrite
        assert state_numbers(read_npz(train_state_path(models[name])))[3] is value


def test_resuming_with_the_other_setting_is_refused_in_one_line(trained, tmp_path):
    data, models = trained
    common = ['--epochs', '2', '--batch_size', str(BATCH), '--seed', '1', '--data_dir', data, '--resume', 'True']
    for name, other in (('true', []), ('plain', ['--drop_last', 'True'])):
        bad = run(FP32, *(common + other + ['--model_file', models[name]]), cwd=str(tmp_path), ok=False)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert 'was trained with --drop_last %s: resume it with the same setting' % (name == 'true') in bad.stderr
        assert load_checkpoint(models[name])[1]['epoch'] == 1
    # the training state alone (its checkpoint lost) is checked too
    state = str(tmp_path / 'lost.train_state.npz')
    with open(train_state_path(models['true']), 'rb') as src, open(state, 'wb') as dst:
        dst.write(src.read())
    bad = run(FP32, *(common + ['--model_file', str(tmp_path / 'lost.npz')]), cwd=str(tmp_path), ok=False)
    assert bad.returncode == 2 and 'lost.train_state.npz was trained with --drop_last True' in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_resuming_with_the_same_setting_continues_and_inference_ignores_it(trained, tmp_path, capsys):
    data, models = trained
    model = str(tmp_path / 'again.npz')
    for suffix in ('.npz', '.train_state.npz'):
        with open(models['true'][:-4] + suffix, 'rb') as src, open(model[:-4] + suffix, 'wb') as dst:
            dst.write(src.read())
    out = run(FP32, '--epochs', '2', '--batch_size', str(BATCH), '--seed', '1', '--data_dir', data, '--resume',
              'True', '--drop_last', 'True', '--model_file', model, cwd=str(tmp_path))
    assert 'epoch 2/2' in out.stdout and load_checkpoint(model)[1]['drop_last'] is True
    for name in ('plain', 'true'):
        for flag in ('True', 'False'):
            args = ('--mode', 'inference', '--drop_last', flag, '--data_dir', data, '--model_file', models[name])
            if (name, flag) == ('plain', 'True'):  # the script as a user types it
                stdout = run(FP32, *args, cwd=str(tmp_path)).stdout
            else:  # the same command line in this process (no TensorFlow start per case)
                stdout = _inference_in_process(capsys, args)
            assert 'ANN test accuracy' in stdout, (name, flag)


def _inference_in_process(capsys, args):
    """The FP32 script's command line run here; its stdout (the run must succeed)."""
    from snn_conversion.ann.cli import ann_main
    capsys.readouterr()
    ann_main('lenet_mnist_sg', FP32, full_precision=True, argv=list(args))
    return capsys.readouterr().out


def test_a_checkpoint_and_a_state_from_before_the_flag_count_as_false(tmp_path):
    path = str(tmp_path / 'old.npz')
    save_checkpoint(path, [np.zeros(s, np.float32) for _, s in ARCH.param_shapes()], architecture=ARCH.name,
                    k=None, dataset='mnist', epoch=1, learning_rate=1e-3)
    meta = load_checkpoint(path)[1]
    assert meta['drop_last'] is None
    assert resolve_drop_last(meta, path, False) is False
    with pytest.raises(CheckpointError, match='old.npz was trained with --drop_last False'):
        resolve_drop_last(meta, path, True)
    assert state_numbers({'__epoch__': np.array(1), '__learning_rate__': np.array(1e-3)})[3] is False
    np.savez(path, params=object_array([np.zeros(3)]), drop_last=np.array(True))  # a bool entry reads as one
    assert load_checkpoint(path)[1]['drop_last'] is True


def test_the_run_value_and_both_scripts_have_the_flag(tmp_path):
    net = Network(ARCH, full_precision=True)
    assert AnnRun(net, 'm.npz').drop_last is False and AnnRun(net, 'm.npz', drop_last=True).drop_last is True
    for script in (FP32, QUANT):
        out = run(script, '--help', cwd=str(tmp_path))
        assert '--drop_last' in out.stdout
        bad = run(script, '--drop_last', 'maybe', '--mode', 'inference', cwd=str(tmp_path), ok=False)
        assert bad.returncode == 2 and '--drop_last' in bad.stderr and 'Traceback' not in bad.stderr
