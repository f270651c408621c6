"""Figure scripts on the authors' published logs (../shared/reference_logs) and on generated logs."""
import os

import numpy as np
import pytest

from figs.logs import LogRun, infer_time_steps
from figs import accuracy_speed, sops, sparsity
from figs.logs import figure_cli
from tensorlayer_patches.errors import UserError


@pytest.mark.parametrize('rel,T,acc', [
    ('negative_spike/FashionMNIST/MLP/k1', 40, 88.79),     # paper: 88.79 %
    ('negative_spike/FashionMNIST/LeNet/k1', 20, 89.99),   # paper: 89.99 %
    ('negative_spike/MNIST/k1', 20, 99.32),                # paper: 99.32 %
    ('negative_spike/CIFAR10/CNN_1/k1', 100, 92.77),       # paper: 92.77 %
    ('negative_spike/CIFAR10/CNN_2/k1', 100, 93.35),       # paper: 93.35 %
])
def test_reference_logs_give_the_papers_accuracy(shared, rel, T, acc):
    run = LogRun(os.path.join(shared, 'reference_logs', rel))
    assert run.time_steps == T
    assert run.accuracy()[-1] == pytest.approx(acc, abs=0.005)


def test_three_figures_on_reference_logs(shared, tmp_path):
    base = os.path.join(shared, 'reference_logs', 'negative_spike', 'FashionMNIST', 'MLP')
    logs = ['%s/k%d=k=%d' % (base, k, k) for k in (0, 1, 2)]
    for module, name in ((accuracy_speed, 'acc'), (sparsity, 'sp'), (sops, 'sops')):
        out = str(tmp_path / name)
        assert figure_cli('', None, module.draw, argv=logs + ['--arch', 'mlp_fashionmnist', '--out', out]) == 0
        assert os.path.getsize(out + '.png') > 5000 and os.path.getsize(out + '.svg') > 5000
    run = LogRun(base + '/k1', arch='mlp_fashionmnist')
    assert run.spikes_per_neuron()[-1] == pytest.approx(run.spikes_per_image()[-1] / 800)
    assert run.ann_macs == 400 * 400 + 400 * 10


def test_scatter_gather_logs_single_step(shared):
    run = LogRun(os.path.join(shared, 'reference_logs', 'scatter_gather', 'VGG', 'CIFAR10', 'k0B1'), time_steps=1)
    assert run.time_steps == 1 and run.signed_spikes_per_image() is None
    assert 50 < run.accuracy()[-1] < 100


def test_infer_time_steps_and_bad_logs(tmp_path):
    counts = np.concatenate([np.cumsum(np.arange(1, 6)) + b for b in range(4)])  # 4 batches x T=5
    assert infer_time_steps(counts) == 5
    d = tmp_path / 'logs'
    d.mkdir()
    for name in ('accuracy', 'spike_num', 'sop_num'):
        (d / (name + '.txt')).write_text('1\n2\nx\n')
    with pytest.raises(UserError, match='every line must be a number'):
        LogRun(str(d))
    with pytest.raises(UserError, match='does not exist'):
        LogRun(str(tmp_path / 'nope'))
