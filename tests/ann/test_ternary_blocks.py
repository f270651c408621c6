"""``--ternary_blocks`` of the FP32 scripts: a full-precision network whose chosen hidden blocks still have ternary
weights, as the authors' ``FP32_LeNet_MNIST.py`` of the scatter-and-gather paper builds its 256-channel block."""
import os

import numpy as np
import pytest

from conftest import ROOT, make_mnist_like, run
from snn_conversion.ann.settings import Network
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import load_checkpoint

FP32 = os.path.join(ROOT, 'MNIST', 'FP32_LeNet_MNIST_SG.py')
ARCH = architectures.get('lenet_mnist_sg')


def _kernel(params, block):
    """The kernel of hidden block ``block`` (from 1) in the checkpoint order (kernel + 4 BatchNorm arrays each)."""
    return params[5 * (block - 1)]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp('ternary_blocks')
    data = make_mnist_like(str(folder / 'mnist'), n_train=150, n_test=30)  # 3 steps of 50 an epoch
    model = str(folder / 'fp.npz')
    out = run(FP32, '--ternary_blocks', '6', '--epochs', '1', '--batch_size', '50', '--data_dir', data,
              '--model_file', model, cwd=str(folder))
    return data, model, out.stdout


def test_only_the_chosen_block_is_ternary_and_the_checkpoint_says_so(trained):
    _, model, stdout = trained
    assert 'FP32 (ternary weights in block 6)' in stdout
    params, meta = load_checkpoint(model)
    assert meta['ternary_blocks'] == '6' and meta['k'] is None and meta['weight_quant'] == 'none'
    w6 = _kernel(params, 6)
    assert set(np.unique(w6)) <= {-1.0, 0.0, 1.0} and np.count_nonzero(w6) > 0
    for block in range(1, 6):  # the other blocks are float, as the authors' tl.layers.Conv2d
        assert len(np.unique(_kernel(params, block))) > 3, block


def test_resume_and_inference_keep_the_checkpoint_s_choice(trained, tmp_path):
    data, model, _ = trained
    common = ['--data_dir', data, '--model_file', model, '--batch_size', '50']
    out = run(FP32, *common, '--epochs', '2', '--resume', 'True', cwd=str(tmp_path))  # the flag left out: the record's
    assert 'epoch 2/2' in out.stdout and load_checkpoint(model)[1]['ternary_blocks'] == '6'
    assert set(np.unique(_kernel(load_checkpoint(model)[0], 6))) <= {-1.0, 0.0, 1.0}
    out = run(FP32, *common, '--mode', 'inference', cwd=str(tmp_path))
    assert 'ANN test accuracy (lenet_mnist_sg FP32 (ternary weights in block 6)' in out.stdout
    for flag in ('none', '5,6'):  # another choice than the record's is refused, in one line
        bad = run(FP32, *common, '--epochs', '3', '--resume', 'True', '--ternary_blocks', flag, cwd=str(tmp_path),
                  ok=False)
        assert bad.returncode == 2 and 'trained with ternary weights in block(s) 6' in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    assert load_checkpoint(model)[1]['epoch'] == 2


def test_a_plain_checkpoint_is_not_taken_for_one_with_ternary_blocks(tmp_path):
    data = make_mnist_like(str(tmp_path / 'mnist'), n_train=150, n_test=30)
    model = str(tmp_path / 'plain.npz')
    run(FP32, '--epochs', '1', '--batch_size', '50', '--data_dir', data, '--model_file', model, cwd=str(tmp_path))
    assert load_checkpoint(model)[1]['ternary_blocks'] is None
    bad = run(FP32, '--ternary_blocks', '6', '--mode', 'inference', '--data_dir', data, '--model_file', model,
              cwd=str(tmp_path), ok=False)
    assert bad.returncode == 2 and 'trained with no ternary block' in bad.stderr, bad.stderr


@pytest.mark.parametrize('value', ['7', '0', 'six', '', '6,'])
def test_bad_block_numbers_are_one_line_errors(value, tmp_path):
    bad = run(FP32, '--ternary_blocks', value, '--mode', 'inference', cwd=str(tmp_path), ok=False)
    assert bad.returncode == 2 and '--ternary_blocks' in bad.stderr and 'Traceback' not in bad.stderr


def test_network_settings():
    assert Network(ARCH, full_precision=True).weight_quant_of(5).full_precision
    net = Network(ARCH, full_precision=True, ternary_blocks=(6,))
    assert [net.weight_quant_of(i).name for i in range(6)] == ['none'] * 5 + ['ternary']
    assert net.checkpoint_meta()['ternary_blocks'] == '6'
    quant = Network(ARCH, k=1, B=2)  # a quantized network: its family's choice (first block float)
    assert [quant.weight_quant_of(i).name for i in range(6)] == ['none'] + ['ternary'] * 5
    assert quant.checkpoint_meta()['ternary_blocks'] is None
    with pytest.raises(ValueError):
        Network(ARCH, k=1, B=2, ternary_blocks=(6,))
    with pytest.raises(ValueError):
        Network(ARCH, full_precision=True, ternary_blocks=(7,))
