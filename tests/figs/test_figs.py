"""Figure scripts on the authors' published logs (../shared/reference_logs) and on generated logs."""
import os

import numpy as np
import pytest

from figs.logs import LogRun, infer_time_steps
from figs import accuracy_speed, sops, sparsity
from figs.logs import figure_cli
from snn_conversion.core.errors import UserError


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


def test_bare_figure_scripts_find_the_workspace_logs(shared, tmp_path):
    """`python accuracy_speed.py` with no folders (as the seeds run it): every log folder below ./figs, or
    below . inside figs/; shard folders skipped; none found -> one-line error."""
    import shutil
    import subprocess
    import sys

    from conftest import copy_workspace
    from figs.logs import find_log_dirs

    ws = copy_workspace(tmp_path, 'FashionMNIST', 'figs/accuracy_speed.py', 'figs/sops.py')
    src = os.path.join(shared, 'reference_logs', 'negative_spike', 'FashionMNIST')
    for rel in ('MLP/k0', 'MLP/k1', 'LeNet/k1'):
        shutil.copytree(os.path.join(src, rel), str(ws / 'figs' / rel))
    shutil.copytree(os.path.join(src, 'MLP/k2'), str(ws / 'figs' / 'MLP' / 'k1' / 'shard-1-of-2'))
    root, specs = find_log_dirs(str(ws))
    assert root == str(ws / 'figs')
    assert [s.split('=')[1] for s in specs] == ['LeNet/k1', 'MLP/k0', 'MLP/k1']
    assert find_log_dirs(str(ws / 'figs'))[1] == specs

    def script(name, cwd, *args):
        return subprocess.run([sys.executable, str(ws / 'figs' / name)] + list(args), cwd=str(cwd),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)

    p = script('accuracy_speed.py', ws / 'figs')
    assert p.returncode == 0, p.stderr
    assert 'MLP/k1' in p.stdout and '88.79' in p.stdout and '89.99' in p.stdout
    assert (ws / 'figs' / 'accuracy_speed.png').exists() and (ws / 'figs' / 'accuracy_speed.svg').exists()
    p = script('sops.py', ws, '--arch', 'mlp_fashionmnist')  # from the workspace: ./figs searched, output there
    assert p.returncode == 0, p.stderr
    assert (ws / 'figs' / 'sops.png').exists()
    shutil.rmtree(str(ws / 'figs' / 'MLP'))
    shutil.rmtree(str(ws / 'figs' / 'LeNet'))
    p = script('accuracy_speed.py', ws / 'figs')
    assert p.returncode == 2 and p.stderr.startswith('error: no SNN log folders') and 'Traceback' not in p.stderr


def test_committed_reference_curves_are_what_the_published_logs_give(shared):
    """RESULTS.md's figures draw the authors' curves from figs/reference_curves.json: it must be exactly what
    ``python figs/reference_curves.py`` makes of ../shared/reference_logs."""
    from figs import reference_curves
    built = reference_curves.build(os.path.join(shared, 'reference_logs'))
    with open(reference_curves.CURVES) as f:
        assert f.read() == reference_curves.render(built), 'run python figs/reference_curves.py'
    folder, curve = reference_curves.curve_for('mlp_fashionmnist', 'k1', built)
    assert folder == 'negative_spike/FashionMNIST/MLP/k1' and curve['time_steps'] == 40
    assert curve['accuracy'][-1] == 88.79  # the paper's figure
    assert reference_curves.curve_for('lenet_mnist_sg', 'k1B1', built) == ('scatter_gather/LeNet/k1B1', None)  # empty
    assert reference_curves.curve_for('lenet_mnist_int', 'k0_WQ', built) == (None, None)


def test_reference_curves_name_registered_networks():
    from figs import reference_curves
    from snn_conversion.core import architectures
    assert set(reference_curves.AUTHORS_LOGS) <= set(architectures.names())
    curves = reference_curves.load()
    for arch, folder in reference_curves.AUTHORS_LOGS.items():
        assert any(rel.startswith(folder + '/') for rel in curves), arch


def test_reference_curves_cli_bad_input_is_one_line(tmp_path):
    from figs import reference_curves
    with pytest.raises(SystemExit) as e:
        reference_curves.main(['--reference_logs', str(tmp_path / 'none'), '--out', str(tmp_path / 'c.json')])
    assert e.value.code == 2
