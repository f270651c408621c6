"""The workspace scripts as a user runs them: train -> infer -> simulate -> plot on tiny generated data."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, copy_workspace, make_mnist_like, run

WS = os.path.join(ROOT, 'FashionMNIST')


@pytest.fixture(scope='module')
def tiny_fashion(tmp_path_factory):
    """Fashion-MNIST-like data, read only by this file's tests: 100 test images (3 simulation batches of 40, the
    last one partial), and training images for one step of batch 50 and a validation split (1/6)."""
    return make_mnist_like(str(tmp_path_factory.mktemp('fashion')), n_train=60, n_test=100)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_fashion):
    """trained(name) -> (workspace, output): a copy of the FashionMNIST workspace in which Quant_<name> trained one
    epoch at k=1 without --model_file or --mode (so: training, to the default checkpoint path); trained once in
    this file, for the tests that start from that checkpoint (a later one may find it resumed)."""
    done = {}

    def train(name):
        if name not in done:
            ws = copy_workspace(tmp_path_factory.mktemp(name), 'FashionMNIST', 'Quant_%s_FashionMNIST.py' % name,
                                'Spiking_%s_FashionMNIST.py' % name)
            done[name] = ws, run('Quant_%s_FashionMNIST.py' % name, '--k', '1', '--data_dir', tiny_fashion,
                                 '--epochs', '1', '--batch_size', '50', cwd=str(ws))
        return done[name]
    return train


@pytest.mark.parametrize('name', ['MLP', 'LeNet'])
def test_train_infer_simulate_plot(tmp_path, tiny_fashion, trained, name):
    ws, out = trained(name)
    model = str(ws / ('%s_fashionmnist_k1.npz' % name.lower()))
    logs = str(tmp_path / 'logs')
    common = ['--k', '1', '--data_dir', tiny_fashion, '--model_file', model]
    assert 'ANN test accuracy' in out.stdout and os.path.isfile(model)
    # resume continues at the right epoch
    out = run('Quant_%s_FashionMNIST.py' % name, *common, '--epochs', '2', '--batch_size', '50', '--resume', 'True')
    assert '1 epoch(s) done' in out.stdout and 'epoch 2/2' in out.stdout and 'epoch 1/2' not in out.stdout
    out = run('Quant_%s_FashionMNIST.py' % name, *common, '--mode', 'inference')
    ann = float(out.stdout.split('ANN test accuracy')[1].split(':')[1].split('%')[0])
    out = run('Spiking_%s_FashionMNIST.py' % name, *common, '--time_steps', '30', '--batch_size', '40',
              '--log_dir', logs)
    snn = float(out.stdout.split('SNN accuracy at T=30:')[1].split('%')[0])
    assert snn == pytest.approx(ann, abs=1e-9), out.stdout  # lossless on a real trained checkpoint
    lines = {f: open(os.path.join(logs, f)).read().splitlines() for f in
             ('accuracy.txt', 'spike_num.txt', 'spike_collect.txt', 'sop_num.txt')}
    assert all(len(v) == 3 * 30 for v in lines.values())  # 100 images / batch 40 = 3 batches x T
    assert all(v.isdigit() for v in lines['accuracy.txt'] + lines['spike_num.txt'] + lines['sop_num.txt'])
    assert all(v.endswith('.0') for v in lines['spike_collect.txt'])
    info = json.load(open(os.path.join(logs, 'run.json')))
    assert info['num_images'] == 100 and info['time_steps'] == 30 and info['k'] == 1
    printed = {}
    for fig in ('accuracy_speed', 'sparsity', 'sops'):
        printed[fig] = run(os.path.join(ROOT, 'figs', fig + '.py'), logs, '--out', str(tmp_path / fig),
                           cwd=str(tmp_path)).stdout
        assert os.path.getsize(str(tmp_path / (fig + '.png'))) > 1000
        assert os.path.isfile(str(tmp_path / (fig + '.svg')))
    assert '%.2f' % snn in printed['accuracy_speed']


def test_default_paths_and_k_mismatch(tiny_fashion, trained):
    """Without --model_file / --log_dir the scripts use <arch>_k<K>.npz and figs/MLP/k<K>/ of the workspace."""
    ws, _ = trained('MLP')
    assert (ws / 'mlp_fashionmnist_k1.npz').exists()
    run('Spiking_MLP_FashionMNIST.py', '--k', '1', '--data_dir', tiny_fashion, '--num_test', '20', cwd=str(ws))
    assert len((ws / 'figs' / 'MLP' / 'k1' / 'accuracy.txt').read_text().splitlines()) == 40  # 1 batch x T=40
    bad = run('Spiking_MLP_FashionMNIST.py', '--k', '2', '--data_dir', tiny_fashion,
              '--model_file', str(ws / 'mlp_fashionmnist_k1.npz'), cwd=str(ws), ok=False)
    assert bad.returncode == 2 and bad.stderr.strip().count('\n') == 0 and 'trained with k=1' in bad.stderr
    assert 'Traceback' not in bad.stderr


@pytest.mark.parametrize('args,message', [
    (['--k', '-1'], "argument --k: expected an integer from 0 to 16, got '-1'"),
    (['--time_steps', '0'], "argument --time_steps: expected an integer from 1 to 1000000, got '0'"),
    (['--model_file', 'does_not_exist.npz'], 'not found'),
])
def test_spiking_bad_input_one_line(tmp_path, args, message):
    from snn_conversion.core import architectures
    from snn_conversion.core.checkpoint import save_checkpoint
    model = str(tmp_path / 'm.npz')
    arch = architectures.get('mlp_fashionmnist')
    save_checkpoint(model, [np.ones(s, np.float32) for _, s in arch.param_shapes()], k=1)
    args = [a.replace('__MODEL__', model) for a in args]
    env = dict(os.environ, SNN_DATA_DIR=str(tmp_path / 'none'))
    p = subprocess.run([sys.executable, os.path.join(WS, 'Spiking_MLP_FashionMNIST.py')] + args, cwd=str(tmp_path),
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and 'Traceback' not in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize('script', ['Quant_MLP_FashionMNIST.py', 'Quant_LeNet_FashionMNIST.py',
                                    'FP32_MLP_FashionMNIST.py', 'FP32_LeNet_FashionMNIST.py',
                                    'Spiking_MLP_FashionMNIST.py', 'Spiking_LeNet_FashionMNIST.py',
                                    'Demo_MLP_FashionMNIST.py'])
def test_help(script):
    out = run(os.path.join(WS, script), '--help', cwd=str(ROOT))
    assert 'usage' in out.stdout


def test_fp32_baseline_trains_and_is_not_convertible(tmp_path, tiny_fashion):
    model = str(tmp_path / 'fp.npz')
    out = run('FP32_MLP_FashionMNIST.py', '--epochs', '1', '--data_dir', tiny_fashion, '--model_file', model)
    assert 'FP32' in out.stdout
    bad = run('Spiking_MLP_FashionMNIST.py', '--data_dir', tiny_fashion, '--model_file', model, ok=False)
    assert bad.returncode == 2 and 'full-precision' in bad.stderr


def test_missing_dataset_one_line(tmp_path, monkeypatch, capsys):
    """In-process (so the Debian folder can be hidden): the error lists every place looked, exit code 2."""
    import spiking_utils
    from snn_conversion.core import architectures
    from snn_conversion.data import locate
    from snn_conversion.core.checkpoint import save_checkpoint
    monkeypatch.setattr(locate, 'DEBIAN_ROOT', str(tmp_path / 'debian'))
    monkeypatch.delenv('SNN_DATA_DIR', raising=False)
    monkeypatch.chdir(str(tmp_path))
    model = str(tmp_path / 'm.npz')
    save_checkpoint(model, [np.ones(s, np.float32) for _, s in architectures.get('mlp_fashionmnist').param_shapes()],
                    k=1)
    with pytest.raises(SystemExit) as e:
        spiking_utils.snn_main('mlp_fashionmnist', os.path.join(WS, 'x.py'),
                               ['--model_file', model])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and 'looked in: %s' % (tmp_path / 'data') in err
    assert str(tmp_path / 'debian') in err and 'dataset-fashion-mnist' in err


def _mnist_workspace(tmp_path, *scripts):
    """Tiny MNIST-like data and a copy of the MNIST workspace scripts (so their default paths land in tmp)."""
    return make_mnist_like(str(tmp_path / 'mnist'), n_train=120, n_test=60), copy_workspace(tmp_path, 'MNIST', *scripts)


def test_all_integer_lenet_seed_commands(tmp_path):
    """Seed 002's command lines on tiny MNIST-like data: Quant --use_ternary True, then Spiking --use_ternary True
    --use_int True --noise_ratio 0 -> figs/WQ_INT/k0/ with six log files; the SNN equals the integer ANN."""
    from spiking_utils import quantized_forward
    from snn_conversion.core.checkpoint import load_checkpoint
    from snn_conversion.data.datasets import load_dataset
    mnist, ws = _mnist_workspace(tmp_path, 'Quant_LeNet_MNIST_INT.py', 'Spiking_LeNet_MNIST_INT.py')
    common = ['--k', '0', '--data_dir', mnist]
    trained = run('Quant_LeNet_MNIST_INT.py', *common, '--resume', 'False', '--use_ternary', 'True',
                  '--learning_rate', '0.001', '--mode', 'training', '--epochs', '1', '--batch_size', '50', cwd=str(ws))
    assert 'device: ' in trained.stdout  # which device TensorFlow trains on (CPU here, or the GPUs it sees)
    model = ws / 'lenet_mnist_int_k0_WQ.npz'
    assert model.exists()
    run('Quant_LeNet_MNIST_INT.py', *common, '--resume', 'True', '--use_ternary', 'True', '--mode', 'inference',
        cwd=str(ws))
    out = run('Spiking_LeNet_MNIST_INT.py', *common, '--use_ternary', 'True', '--use_int', 'True', '--noise_ratio',
              '0', '--batch_size', '25', cwd=str(ws))
    snn = float(out.stdout.split('SNN accuracy at T=30:')[1].split('%')[0])
    logs = ws / 'figs' / 'WQ_INT' / 'k0'
    for name in ('accuracy', 'spike_num', 'spike_collect', 'sop_num', 'abs_spike', 'sum_spike'):
        assert len((logs / (name + '.txt')).read_text().splitlines()) == 3 * 30  # 60 images / 25 = 3 batches x T
    params, meta = load_checkpoint(str(model))
    assert meta['weight_quant'] == 'ternary'
    assert all(set(np.unique(params[5 * i])) <= {-1.0, 0.0, 1.0} for i in range(1, 5))
    x, y = load_dataset('mnist', splits=('test',), data_dir=mnist)['test']
    _, logits = quantized_forward('lenet_mnist_int', params, x, 0, use_int=True)
    info = json.load(open(str(logs / 'run.json')))
    assert info['use_int'] and info['use_ternary'] and snn == pytest.approx(info['snn_accuracy'], abs=0.006)
    assert info['snn_accuracy'] == pytest.approx(100.0 * np.mean(np.argmax(logits, 1) == y), abs=1e-9)
    bad = run('Spiking_LeNet_MNIST_INT.py', *common, '--use_ternary', 'False', '--model_file', str(model),
              cwd=str(ws), ok=False)
    assert bad.returncode == 2 and 'trained with ternary hidden weights' in bad.stderr


def test_mnist_negative_spike_lenet_seed_commands(tmp_path):
    """Seed 001's MNIST commands on tiny MNIST-like data: train, resume-infer, simulate; SNN = ANN accuracy."""
    mnist, ws = _mnist_workspace(tmp_path, 'Quant_LeNet_MNIST.py', 'Spiking_LeNet_MNIST.py')
    common = ['--k', '1', '--data_dir', mnist]
    run('Quant_LeNet_MNIST.py', *common, '--resume', 'False', '--mode', 'training', '--epochs', '1',
        '--batch_size', '50', cwd=str(ws))
    out = run('Quant_LeNet_MNIST.py', *common, '--resume', 'True', '--mode', 'inference', cwd=str(ws))
    ann = float(out.stdout.split('ANN test accuracy')[1].split(':')[1].split('%')[0])
    out = run('Spiking_LeNet_MNIST.py', *common, cwd=str(ws))
    snn = float(out.stdout.split('SNN accuracy at T=20:')[1].split('%')[0])
    assert snn == pytest.approx(ann, abs=1e-9)
    assert len((ws / 'figs' / 'k1' / 'sop_num.txt').read_text().splitlines()) == 20  # one batch of 60 x T=20
