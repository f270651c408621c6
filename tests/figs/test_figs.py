"""Figure scripts on the authors' published logs (../shared/reference_logs) and on generated logs."""
import os
import shutil

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


# ---------------------------------------------------------------- log folders without run.json that do not fit
# Log folders without run.json (the authors' published format) whose files do not fit together are refused in one
# line naming the folder and what does not fit -- never a plot of NaN, never a guessed T=1 -- and figs/results.py
# has a command line of its own.  (Here rather than in a file of its own: .gitignore's */figs/* hides new files.)

FILES = ('accuracy', 'spike_num', 'sop_num', 'spike_collect')


def _write(folder, cols):
    os.makedirs(folder, exist_ok=True)
    for name, lines in cols.items():
        with open(os.path.join(folder, name + '.txt'), 'w') as f:
            f.write(''.join('%s\n' % v for v in lines))


def _authors_cols(T=5, batches=4, sizes=None):
    """The columns of an authors'-format log (no run.json): one line per (batch, t), batches outer; spike_num and
    sop_num cumulative within a batch, spike_collect (net spikes) a float, accuracy the count correct at step t.
    ``sizes``: the steps of each batch (uneven batches, for the broken cases)."""
    sizes = sizes or [T] * batches
    cols = {name: [] for name in FILES}
    for b, steps in enumerate(sizes):
        for t in range(steps):
            spikes = (t + 1) * (100 + b)
            cols['spike_num'].append('%d' % spikes)
            cols['sop_num'].append('%d' % (7 * spikes))
            cols['spike_collect'].append('%.1f' % (spikes - 3 * t))
            cols['accuracy'].append('%d' % (20 + t + b))
    return cols


def _set(cols, name, line, value):
    cols = {k: list(v) for k, v in cols.items()}
    cols[name][line - 1] = value
    return cols


def _refused(folder, capsys, *flags):
    """Run figs/accuracy_speed.py on ``folder``: exit 2, one ``error:`` line naming the folder, no figure."""
    out = os.path.join(os.path.dirname(folder), 'figure')
    with pytest.raises(SystemExit) as e:
        figure_cli('', None, accuracy_speed.draw, argv=[folder, '--out', out] + list(flags))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert e.value.code == 2 and len(lines) == 1 and lines[0].startswith('error: '), err
    assert folder in lines[0] and 'Traceback' not in err
    assert not os.path.exists(out + '.png')
    return lines[0]


BROKEN = [
    # (case, columns (or a function of the sound ones), flags, what the message must say)
    ('negative_spike_num', lambda c: _set(c, 'spike_num', 7, '-5'), [], r'spike_num.txt line 7 holds -5'),
    ('negative_accuracy', lambda c: _set(c, 'accuracy', 12, '-1'), [], r'accuracy.txt line 12 holds -1'),
    ('negative_sop_num', lambda c: _set(c, 'sop_num', 20, '-70'), [], r'sop_num.txt line 20 holds -70'),
    ('nan_accuracy', lambda c: _set(c, 'accuracy', 3, 'nan'), [], r'accuracy.txt line 3 holds nan'),
    ('nan_spike_num', lambda c: _set(c, 'spike_num', 9, 'NaN'), [], r'spike_num.txt line 9 holds nan'),
    ('inf_sop_num', lambda c: _set(c, 'sop_num', 2, 'inf'), [], r'sop_num.txt line 2 holds inf'),
    ('nan_spike_collect', lambda c: _set(c, 'spike_collect', 4, 'nan'), [], r'spike_collect.txt line 4 holds nan'),
    ('fraction_accuracy', lambda c: _set(c, 'accuracy', 5, '21.5'), [], r'accuracy.txt line 5 holds 21.5'),
    ('fraction_spike_num', lambda c: _set(c, 'spike_num', 6, '101.25'), [], r'spike_num.txt line 6 holds 101.25'),
    ('fraction_spike_collect', lambda c: _set(c, 'spike_collect', 6, '99.5'), [],
     r'spike_collect.txt line 6 holds 99.5'),
    ('sop_num_shorter', lambda c: dict(c, sop_num=c['sop_num'][:-1]), [],
     r'accuracy.txt 20 lines, sop_num.txt 19 lines'),
    ('spike_collect_longer', lambda c: dict(c, spike_collect=c['spike_collect'] * 2), [],
     r'spike_collect.txt 40 lines'),
    ('accuracy_empty', lambda c: dict(c, accuracy=[]), [], r'accuracy.txt 0 lines'),
    ('all_empty', lambda c: {k: [] for k in c}, [], r': its log files are empty'),
    ('net_spikes_above_all', lambda c: _set(c, 'spike_collect', 8, '999999.0'), [],
     r'spike_collect.txt line 8 .*more than .*spike_num.txt'),
    # T cannot be determined
    ('per_batch_lines', lambda c: {k: v[4::5][::-1] for k, v in c.items()}, [], r'cannot tell T'),  # a line a batch
    ('one_line', lambda c: {k: v[:1] for k, v in c.items()}, [], r'cannot tell T'),
    ('uneven_batches', lambda c: _authors_cols(sizes=[6, 4, 6, 4]), [], r'cannot tell T'),  # was read as T=2
    ('a_line_lost', lambda c: {k: v[:7] + v[8:] for k, v in c.items()}, [], r'cannot tell T'),
    # T given, but the files say otherwise
    ('time_steps_too_long', lambda c: c, ['--time_steps', '10'], r'spike_num.txt .*line 6.* inside a batch of T=10'),
    ('batch_structure', lambda c: _set(c, 'accuracy', 1, '100'), ['--num_images', '200'],  # 4 batches of <= 66
     r'accuracy.txt line 1 holds 100 correct predictions'),
]


@pytest.mark.parametrize('name,broken,flags,expect', BROKEN, ids=[b[0] for b in BROKEN])
def test_inconsistent_authors_logs_are_refused(tmp_path, capsys, name, broken, flags, expect):
    import re
    sound = str(tmp_path / 'sound')  # what each broken folder is made from is read: T inferred from the restarts
    _write(sound, _authors_cols())
    run = LogRun(sound)
    assert (run.time_steps, run.n_batches) == (5, 4) and np.all(np.isfinite(run.accuracy()))
    d = str(tmp_path / name)
    _write(d, broken(_authors_cols()))
    line = _refused(d, capsys, *flags)
    assert re.search(expect, line), line


def test_infer_time_steps_never_guesses_one(tmp_path):
    # the authors' float counters, without spike_collect (the scatter-and-gather format), with T of their own
    cols = {k: ['%s.0' % v for v in lines] for k, lines in _authors_cols().items() if k != 'spike_collect'}
    _write(str(tmp_path / 'floats'), cols)
    assert LogRun(str(tmp_path / 'floats')).time_steps == 5
    counts = np.concatenate([np.cumsum(np.arange(1, 6)) + b for b in range(4)])  # 4 batches x T=5
    assert infer_time_steps(counts) == 5
    assert infer_time_steps(counts, 7 * counts) == 5
    assert infer_time_steps(np.array([5.0, 3.0, 4.0, 1.0])) is None         # restarts at every line
    assert infer_time_steps(np.array([3.0])) is None                        # one line
    assert infer_time_steps(np.array([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4.0])) is None


def test_every_published_log_folder_is_read_or_refused_in_one_line(shared, tmp_path):
    """The authors' logs: every negative-spike folder is read with its T inferred; the scatter-and-gather folders
    (one line per batch) are read with --time_steps 1 and refused without (T is never guessed); the empty LeNet
    folder is refused."""
    root = os.path.join(shared, 'reference_logs')
    seen = 0
    for d, _, files in sorted(os.walk(root)):
        if 'accuracy.txt' not in files:
            continue
        seen += 1
        rel = os.path.relpath(d, root)
        if os.path.getsize(os.path.join(d, 'accuracy.txt')) == 0:
            with pytest.raises(UserError, match='empty'):
                LogRun(d)
        elif rel.startswith('scatter_gather'):
            with pytest.raises(UserError, match=r'cannot tell T .*--time_steps'):
                LogRun(d)
            run = LogRun(d, time_steps=1)
            assert run.time_steps == 1 and 0 < run.accuracy()[-1] < 100
        else:
            run = LogRun(d)
            assert run.time_steps in (20, 40, 100) and run.n_batches in (50, 200), rel
            assert np.all(np.isfinite(run.accuracy())) and 80 < run.accuracy()[-1] < 100, rel
    assert seen == 22


def test_a_folder_copied_from_the_published_logs_and_cut_is_refused(shared, tmp_path, capsys):
    """A real published folder with one file cut short, and with a line made negative."""
    src = os.path.join(shared, 'reference_logs', 'negative_spike', 'MNIST', 'k1')
    cut = shutil.copytree(src, str(tmp_path / 'cut'))
    with open(os.path.join(cut, 'sop_num.txt')) as f:
        lines = f.readlines()
    with open(os.path.join(cut, 'sop_num.txt'), 'w') as f:
        f.writelines(lines[:-3])
    assert 'sop_num.txt 997 lines' in _refused(cut, capsys)
    neg = shutil.copytree(src, str(tmp_path / 'negative'))
    with open(os.path.join(neg, 'spike_num.txt')) as f:
        lines = f.readlines()
    lines[29] = '-%s' % lines[29]
    with open(os.path.join(neg, 'spike_num.txt'), 'w') as f:
        f.writelines(lines)
    assert 'spike_num.txt line 30 holds -' in _refused(neg, capsys)


# ---------------------------------------------------------------- figs/results.py's command line

def _results(argv, capsys):
    from figs import results
    code = None
    try:
        code = results.main(argv)
    except SystemExit as e:
        code = e.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_results_help_says_what_it_draws(capsys):
    code, out, _ = _results(['--help'], capsys)
    assert code == 0
    assert 'figs/results' in out and 'record' in out and 'RESULTS.md' in out and 'ROW' in out


@pytest.mark.parametrize('argv,expect', [
    (['--no_such_flag'], 'unrecognized arguments: --no_such_flag'),
    (['ANYTHING'], 'ANYTHING'),
])
def test_results_refuses_unknown_arguments_in_one_line(tmp_path, capsys, argv, expect):
    code, out, err = _results(argv + ['--root', str(tmp_path)], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith('error: ') and expect in lines[0], err
    assert not os.path.exists(str(tmp_path / 'figs'))


def test_results_draws_the_named_rows_from_their_records(tmp_path, capsys):
    from conftest import ROOT
    from figs import results
    src = os.path.join(ROOT, 'FashionMNIST', 'records', 'mlp_fashionmnist_k1.json')
    if not os.path.isfile(src):
        pytest.skip('no record of mlp_fashionmnist_k1 in this checkout')
    records = tmp_path / 'FashionMNIST' / 'records'
    records.mkdir(parents=True)
    shutil.copy(src, str(records))
    shutil.copy(os.path.join(ROOT, 'FashionMNIST', 'records', 'mlp_fashionmnist_fp32.json'), str(records))
    code, out, err = _results(['mlp_fashionmnist_k1', '--root', str(tmp_path)], capsys)
    assert code == 0, err
    png = results.figure_path(str(tmp_path), 'mlp_fashionmnist_k1')
    assert os.path.isfile(png) and png in out
    import json
    from snn_conversion.core.records import Record
    with open(src) as f:
        assert open(png, 'rb').read() == results.row_figure_png(Record.of(json.load(f), src))  # what reproduce.py draws
    # a row with no figure (full precision) is refused by name; with no ROW every finished quantized row is drawn
    code, _, err = _results(['mlp_fashionmnist_fp32', '--root', str(tmp_path)], capsys)
    assert code == 2 and 'mlp_fashionmnist_fp32' in err and len(err.strip().splitlines()) == 1
    os.remove(png)
    code, out, err = _results(['--root', str(tmp_path)], capsys)
    assert code == 0 and os.path.isfile(png), err
    assert os.listdir(os.path.dirname(png)) == ['mlp_fashionmnist_k1.png']
