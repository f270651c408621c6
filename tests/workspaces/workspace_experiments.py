"""The seed experiments that test_workspaces.py and test_workspaces_cifar10.py run from their workspaces (two
files, so that the two processes of `make test` share them), and the run and checks of one experiment."""
import collections
import os
import re

import numpy as np
import pytest

from conftest import copy_workspace, make_cifar_like, make_mnist_like, make_nmnist_like, run

Experiment = collections.namedtuple('Experiment', 'workspace arch quant spiking train infer snn logs k B use_int T '
                                                  'inference_script')
Experiment.__new__.__defaults__ = (None,)  # inference_script: the Quant script unless the seed names another

DATA = {  # data set -> writes tiny data where the workspace's default search finds it (<workspace>/data/...)
    'mnist': lambda ws: make_mnist_like(str(ws / 'data' / 'mnist'), n_train=120, n_test=30),
    'cifar10': lambda ws: make_cifar_like(str(ws / 'data' / 'cifar-10-batches-py'), 10, n_train=20, n_test=6),
    'cifar100': lambda ws: make_cifar_like(str(ws / 'data' / 'cifar-100-python'), 100, n_train=20, n_test=6),
}
# Batches of 5: the steps of batches of 10 on half the images.  One epoch where it trains every layer of the
# network into spiking (checked below), three where it does not.
FAST = ['--batch_size', '5']
EPOCHS = collections.defaultdict(lambda: 3, cifar10_cnn2=1, cifar10_sg_vgg=1, nmnist_mlp=1)

EXPERIMENTS = {
    # seed 003: scatter-and-gather LeNet on MNIST
    'mnist_sg_lenet': Experiment(
        'MNIST', 'lenet_mnist_sg', 'Quant_LeNet_MNIST_SG.py', 'Spiking_LeNet_MNIST_SG.py',
        ['--k', '0', '--B', '1', '--resume', 'False', '--learning_rate', '0.001', '--mode', 'training'],
        ['--k', '0', '--B', '1', '--resume', 'True', '--mode', 'inference'], ['--k', '0', '--B', '1'],
        'figs/k0B1', 0, 1, False, 1),
    # seed 004: N-MNIST with the seed's per-setting script names
    'nmnist_mlp': Experiment(
        'N_MNIST', 'mlp_nmnist', 'training_k1_mlp_N_MNIST.py', 'inference_k1_smlp_N_MNIST.py', ['--learning_rate', '0.01'],
        [], [], 'figs/MLP/k1', 1, None, False, 30, 'inference_k1_mlp_N_MNIST.py'),
    'nmnist_lenet_two_polarity': Experiment(
        'N_MNIST', 'lenet_nmnist_2p', 'Quant_LeNet_N_MNIST.py', 'Spiking_LeNet_N_MNIST.py',
        ['--polarity', 'both', '--k', '2', '--learning_rate', '0.01', '--mode', 'training'],
        ['--polarity', 'both', '--k', '2', '--mode', 'inference'], ['--polarity', 'both', '--k', '2'],
        'figs/LeNet_2p/k2', 2, None, False, 30),
    # seed 001: CIFAR-10 CNN1 / CNN2 (the design card's two command lines for CNN1)
    'cifar10_cnn1': Experiment(
        'CIFAR10', 'cnn1_cifar10', 'Quant_CNN1_CIFAR10.py', 'Spiking_CNN1_CIFAR10.py',
        ['--k', '0', '--mode', 'training'], ['--k', '0', '--resume', 'True', '--mode', 'inference'],
        ['--k', '0'], 'figs/CNN1/k0', 0, None, False, 100),
    'cifar10_cnn2': Experiment(
        'CIFAR10', 'cnn2_cifar10', 'Quant_CNN2_CIFAR10.py', 'Spiking_CNN2_CIFAR10.py',
        ['--k', '1', '--resume', 'False', '--learning_rate', '0.001', '--mode', 'training'],
        ['--k', '1', '--resume', 'True', '--mode', 'inference'], ['--k', '1', '--time_steps', '25'],
        'figs/CNN2/k1', 1, None, False, 25),
    # seed 002: all-integer VGG-Net, simulated by Spiking_CNN1_CIFAR10.py exactly as the seed types it
    'cifar10_all_integer_vggnet': Experiment(
        'CIFAR10', 'cnn1_cifar10_int', 'Quant_VGGNet_CIFAR10.py', 'Spiking_CNN1_CIFAR10.py',
        ['--k', '0', '--resume', 'False', '--use_ternary', 'True', '--learning_rate', '0.001', '--mode', 'training'],
        ['--k', '0', '--resume', 'True', '--use_ternary', 'True', '--mode', 'inference'],
        ['--k', '0', '--use_ternary', 'True', '--use_int', 'True', '--noise_ratio', '0'],
        'figs/WQ_INT/k0', 0, None, True, 30),
    # seed 003: scatter-and-gather VGG-Net on CIFAR-10 and CIFAR-100
    'cifar10_sg_vgg': Experiment(
        'CIFAR10', 'vgg_cifar10_sg', 'Quant_VGG_CIFAR10.py', 'Spiking_VGG_CIFAR10.py',
        ['--k', '1', '--B', '2', '--resume', 'False', '--learning_rate', '0.001', '--mode', 'training'],
        ['--k', '1', '--B', '2', '--resume', 'True', '--mode', 'inference'], ['--k', '1', '--B', '2'],
        'figs/VGG/k1B2', 1, 2, False, 1),
    'cifar100_sg_vgg': Experiment(
        'CIFAR100', 'vgg_cifar100_sg', 'Quant_VGG_CIFAR100.py', 'Spiking_VGG_CIFAR100.py',
        ['--k', '0', '--B', '4', '--mode', 'training'], ['--k', '0', '--B', '4', '--mode', 'inference'],
        ['--k', '0', '--B', '4'], 'figs/VGG/k0B4', 0, 4, False, 1),
}


def _accuracy(text, what):
    return float(re.search(r'%s[^:]*: ([0-9.]+)%%' % what, text).group(1))


def _nmnist_data(ws, polarity):
    make_nmnist_like(str(ws / 'data'), n_train=30, n_test=20)
    copy_workspace(ws.parent, ws.name, 'preprocessing_N_MNIST.py')
    out = run('preprocessing_N_MNIST.py', '--polarity', polarity, cwd=str(ws))  # default --data_dir/--out_dir
    assert '-> %s' % (ws / 'data' / 'n_mnist') in out.stdout


def check_experiment(tmp_path, name):
    """The seed's training (EPOCHS[name] epochs, batches of 5), inference and spiking commands of experiment
    ``name``, and the checks of the module docstring of test_workspaces.py."""
    from spiking_utils import SpikingNetwork, quantized_forward
    from snn_conversion.core import architectures
    from snn_conversion.core.checkpoint import load_checkpoint
    from snn_conversion.data.datasets import load_test_inputs

    e = EXPERIMENTS[name]
    arch = architectures.get(e.arch)
    infer_script = e.inference_script or e.quant
    ws = copy_workspace(tmp_path, e.workspace, e.quant, e.spiking, infer_script)
    if arch.dataset.startswith('n_mnist'):
        _nmnist_data(ws, 'both' if arch.dataset.endswith('_2p') else 'on')
    else:
        DATA[arch.dataset](ws)
    out = run(e.quant, *(e.train + FAST + ['--epochs', str(EPOCHS[name])]), cwd=str(ws))
    model = ws / ('%s_%s.npz' % (e.arch, arch.config_tag(e.k, e.B, True if e.use_int else None)))
    assert model.exists(), out.stdout
    ann = _accuracy(run(infer_script, *e.infer, cwd=str(ws)).stdout, 'ANN test accuracy')
    out = run(e.spiking, *e.snn, cwd=str(ws))
    snn = _accuracy(out.stdout, 'SNN accuracy at T=%d' % e.T)
    assert snn == ann, out.stdout  # lossless on the trained checkpoint

    # log files in the default folder, one line per (batch, step), well formed
    logs = ws / e.logs
    x, y = load_test_inputs(arch.dataset, data_dir=str(ws / 'data'))
    batches = -(-len(x) // arch.defaults['sim_batch_size'])
    for log in ('accuracy', 'spike_num', 'spike_collect', 'sop_num') + (('abs_spike', 'sum_spike') if e.use_int else ()):
        if arch.uses_B and log == 'spike_collect':
            continue
        lines = (logs / (log + '.txt')).read_text().splitlines()
        assert len(lines) == batches * e.T, log
        assert all(re.match(r'^-?[0-9]+(\.0)?$', v) for v in lines), log
    assert (logs / 'run.json').exists()

    # neuron by neuron: SNN counts = the quantized ANN's integer levels (float64 / integer reference)
    params, meta = load_checkpoint(str(model))
    assert meta['architecture'] == e.arch and meta['k'] == e.k
    levels, logits = quantized_forward(arch, params, x, e.k, B=e.B, use_int=e.use_int)
    trace = SpikingNetwork.from_checkpoint(str(model), e.arch, k=e.k, B=e.B, use_int=e.use_int).simulate(x, 200)
    assert trace.converged, [int(np.abs(lv).max()) for lv in levels]
    for i, (count, level) in enumerate(zip(trace.counts, levels)):
        np.testing.assert_array_equal(count, level, err_msg='%s layer %d' % (name, i + 1))
    print(name, 'spikes per layer:', [int(np.abs(c).sum()) for c in trace.counts], 'steps', trace.steps_run)
    assert all(c.any() for c in trace.counts), 'a silent layer makes the comparison trivial'
    assert 100.0 * np.mean(np.argmax(logits, 1) == y) == pytest.approx(snn, abs=0.006)  # printed to 0.01 %

    if e.workspace == 'N_MNIST':  # seed 004's last command: `python accuracy_speed.py` in the workspace's figs/
        copy_workspace(tmp_path, e.workspace, 'figs/accuracy_speed.py')
        out = run('accuracy_speed.py', cwd=str(ws / 'figs'))
        assert re.search(r'^%s +%d +%.2f' % (re.escape(os.path.relpath(e.logs, 'figs')), e.T, snn), out.stdout, re.M)
        assert (ws / 'figs' / 'accuracy_speed.png').stat().st_size > 5000
