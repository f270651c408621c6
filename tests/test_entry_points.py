"""Every entry point, fuzzed: no traceback ever reaches a user.

The entry points are found, not listed: every project file with a ``__main__`` block (workspace scripts, the
seeds' per-setting scripts, ``reproduce.py``, the figure scripts, the benchmarks, the ``python -m`` tools) and
the set-up script.  Each is run in this process as ``python FILE`` would run it (``runpy``), with its parser
caught as it parses; then every flag of that parser is driven with values of the wrong type, negative, huge,
NaN and infinite ones, and each must give one ``error:`` line and exit 2 (a value inside the flag's declared
range is accepted).  Every checkpoint metadata entry and training-state entry is then given wrong types, and the
scripts that read checkpoints must refuse each in one line, exit 2.  ``--debug`` keeps the traceback.
"""
import argparse
import glob
import io
import os
import runpy
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

from conftest import ROOT
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import META_KEYS, object_array
from snn_conversion.core.errors import ArgumentParser, Number, run_cli
from snn_conversion.core.flags import BlockNumbers, Names


def _entry_points():
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, '**', '*.py'), recursive=True)):
        rel = os.path.relpath(path, ROOT)
        if rel.split(os.sep)[0] in ('tests', '.venv', '.runs', '.git') or rel.startswith('.'):
            continue
        with open(path) as f:
            if "if __name__ == '__main__':" in f.read() and rel not in PEER_SCRIPTS:
                found.append(rel)
    return found


# scripts that run under another environment (the benchmark's peer: torch + spikingjelly), not the project's
PEER_SCRIPTS = (os.path.join('benchmarks', 'peer_spikingjelly.py'),)
ENTRY_POINTS = _entry_points()


def test_a_peer_script_in_the_projects_environment_says_so_in_one_line():
    for rel in PEER_SCRIPTS:
        out = subprocess.run([sys.executable, os.path.join(ROOT, rel), '--help'], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
        try:
            import torch  # noqa: F401  (the peer's environment: --help works there)
        except ImportError:
            assert out.returncode == 1 and not out.stdout, out
            assert out.stderr.count('\n') == 1 and 'not the project\'s' in out.stderr, out.stderr
        else:
            assert out.returncode == 0


class _Parsed(BaseException):
    """Raised instead of running the command once its arguments are parsed (not an Exception: run_cli lets it
    through)."""


def _run(rel, argv, capture_parsers=None):
    """Run ``python rel argv`` in this process; returns (exit code, stdout, stderr).  With ``capture_parsers``
    (a list), every parser that parses is appended to it and the command stops right after parsing (code None)."""
    real = ArgumentParser.parse_args

    def parse_args(self, args=None, namespace=None):
        capture_parsers.append(self)
        real(self, args, namespace)
        raise _Parsed()

    out, err = io.StringIO(), io.StringIO()
    path = os.path.join(ROOT, rel)
    saved_argv, saved_cwd, saved_path = sys.argv, os.getcwd(), list(sys.path)
    sys.argv = [path] + list(argv)
    os.chdir(os.path.dirname(path))
    if capture_parsers is not None:
        ArgumentParser.parse_args = parse_args
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            runpy.run_path(path, run_name='__main__')
    except _Parsed:
        code = None
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) or e.code is None else 1
    finally:
        ArgumentParser.parse_args = real
        sys.argv, sys.path[:] = saved_argv, saved_path
        os.chdir(saved_cwd)
    return code, out.getvalue(), err.getvalue()


def _one_error_line(code, err, flag=None):
    lines = err.strip().splitlines()
    assert code == 2, 'exit %r: %s' % (code, err[-800:])
    assert len(lines) == 1 and lines[0].startswith('error: ') and 'Traceback' not in err, err[-800:]
    if flag:
        assert 'argument %s' % flag in lines[0], lines[0]


def _base_argv(parser):
    """Values for a parser's required arguments (positional or not), so that only the fuzzed flag is wrong."""
    argv = []
    for action in parser._actions:
        if action.option_strings and not action.required:
            continue
        if isinstance(action, argparse._HelpAction) or action.nargs in ('?', '*'):
            continue
        value = sorted(action.choices)[0] if action.choices else 'x'
        argv += ([action.option_strings[0]] if action.option_strings else []) + [str(value)]
    return argv


def _bad_values(action):
    if isinstance(action.type, Number):
        t = action.type
        bad = ['abc', '', 'nan', 'inf', '-inf', '1e400', '10' * 30]
        if t.kind is int:
            bad += ['1.5', '0x10']
        if t.low is not None:
            bad.append(str(t.low - 1))
            if t.low_open:
                bad.append(str(t.low))
        if t.high is not None:
            bad.append(str(t.high + 1))
        return bad, str(t.low if t.low is not None and not t.low_open else t.high)
    if action.choices is not None:
        return ['no-such-choice', ''], str(sorted(action.choices, key=str)[0])
    if isinstance(action.type, BlockNumbers):
        n = action.type.n
        return ['0', str(n + 1), 'six', '', '1,', '1.5', 'True'], '1,%d' % n
    if isinstance(action.type, Names):
        return ['', 'a,', ',a', ' , ', 'a,a', 'a, b,a'], 'a,b'
    if action.type is not None:  # True / False flags and other typed values
        return ['maybe', '', '2'], 'True'
    return [], None


@pytest.fixture(scope='module')
def parsers():
    """{entry point: [the parsers it builds while parsing no arguments]} -- each run stops after parsing."""
    found = {}
    for rel in ENTRY_POINTS:
        caught = []
        _run(rel, [], capture_parsers=caught)
        found[rel] = caught
    return found


def test_entry_points_are_found():
    names = set(ENTRY_POINTS)
    for expected in ('reproduce.py', 'FashionMNIST/Quant_MLP_FashionMNIST.py', 'MNIST/Spiking_LeNet_MNIST_SG.py',
                     'figs/accuracy_speed.py', 'CIFAR10/figs/sops.py', 'benchmarks/snn_speed.py',
                     'benchmarks/training_profile.py', 'N_MNIST/preprocessing_N_MNIST.py',
                     'tensorlayer_patches/checkpoint.py', 'figs/reference_curves.py'):
        assert expected in names
    assert len(names) >= 90


def test_every_entry_point_parses_with_the_projects_parser(parsers):
    """Each builds a core.errors.ArgumentParser (one-line errors, ranged numeric flags) and parses with it."""
    missing = [rel for rel, found in parsers.items() if not found]
    assert not missing, 'entry points whose flags are not parsed by core.errors.ArgumentParser: %s' % missing


def test_every_numeric_flag_declares_its_range():
    p = ArgumentParser()
    for bare in (int, float):
        with pytest.raises(TypeError, match='declares its range'):
            p.add_argument('--n', type=bare)


def test_every_flag_of_every_entry_point_refuses_bad_values_in_one_line(parsers):
    checked = 0
    for rel, found in sorted(parsers.items()):
        for parser in found:
            base = _base_argv(parser)
            for action in parser._actions:
                if not action.option_strings or action.nargs == 0:
                    continue
                bad, good = _bad_values(action)
                flag = action.option_strings[0]
                for value in bad:
                    err = io.StringIO()
                    with redirect_stderr(err), pytest.raises(SystemExit) as e:
                        parser.parse_args(base + [flag, value])
                    try:
                        _one_error_line(e.value.code, err.getvalue(), flag)
                    except AssertionError as failure:
                        raise AssertionError('%s %s %r: %s' % (rel, flag, value, failure))
                    checked += 1
                if good is not None:
                    parser.parse_args(base + [flag, good])  # a value in range is accepted
    assert checked > 1000


@pytest.mark.parametrize('rel', ENTRY_POINTS)
def test_a_bad_flag_ends_each_entry_point_in_one_line(rel):
    """The whole path, as ``python FILE --no_such_flag`` runs it: one line, exit 2, no traceback."""
    code, _, err = _run(rel, ['--no_such_flag', '1'])
    _one_error_line(code, err)


def test_the_setup_script_refuses_bad_steps_in_one_line():
    script = os.path.join(ROOT, 'snn_conversion', 'setup_env.sh')
    for argv in (['--k', '1'], ['no-such-step'], ['venv', 'extra'], ['']):
        p = subprocess.run(['sh', script] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, env=dict(os.environ, VENV='/nonexistent/venv'))
        _one_error_line(p.returncode, p.stderr)


# ----------------------------------------------------------------------------- checkpoint metadata

WRONG = {str: [5, 1.5, True, np.arange(3), np.array(['none', 'ternary'])],
         int: ['one', 1.5, -1, 10 ** 9, float('nan'), True, np.arange(2)],
         float: ['x', -0.5, float('nan'), float('inf'), True, np.arange(2)],
         bool: ['yes', 'True', 1, 0.0, np.arange(2)]}
KINDS = {'architecture': str, 'dataset': str, 'date': str, 'git_revision': str, 'format': str, 'provenance': str,
         'weight_quant': str, 'k': int, 'B': int, 'epoch': int, 'ann_accuracy': float, 'learning_rate': float,
         'ternary_blocks': str, 'drop_last': bool}


def _write(path, params, **meta):
    """A checkpoint written as another program might: any value in any entry."""
    arrays = {'params': object_array(params)}
    arrays.update((key, np.array(value)) for key, value in meta.items())
    np.savez(path, **arrays)


def test_every_checkpoint_metadata_entry_of_a_wrong_type_is_one_line(tmp_path, tiny_fashion):
    assert set(KINDS) == set(META_KEYS)
    arch = architectures.get('mlp_fashionmnist')
    params = [np.zeros(shape, np.float32) for _, shape in arch.param_shapes()]
    good = dict(architecture=arch.name, k=1, dataset='fashion_mnist', weight_quant='none', epoch=1,
                learning_rate=1e-4, ann_accuracy=0.5, date='2026-12-04', git_revision='abc', provenance='{}',
                format='snn-conversion-npz-1')
    model = str(tmp_path / 'm.npz')
    scripts = ['FashionMNIST/Spiking_MLP_FashionMNIST.py', 'tensorlayer_patches/checkpoint.py']
    checked = 0
    for key, kind in sorted(KINDS.items()):
        for value in WRONG[kind] + (['{not json', '[1, 2]'] if key == 'provenance' else []):
            _write(model, params, **dict(good, **{key: value}))
            for rel in scripts:
                argv = [model] if rel.startswith('tensorlayer') else \
                    ['--model_file', model, '--data_dir', tiny_fashion, '--log_dir', str(tmp_path / 'logs')]
                code, _, err = _run(rel, argv)
                try:
                    _one_error_line(code, err)
                except AssertionError as failure:
                    raise AssertionError('%s with %s=%r: %s' % (rel, key, value, failure))
                assert ('metadata entry %r' % key if key != 'provenance' or isinstance(value, (int, float, np.ndarray))
                        else 'provenance record') in err, err
                checked += 1
    assert checked > 100
    # the well-formed file passes that check in both (the simulation refuses it later, for its all-zero weights)
    _write(model, params, **good)
    assert _run('tensorlayer_patches/checkpoint.py', [model])[0] == 0
    code, _, err = _run(scripts[0], ['--model_file', model, '--data_dir', tiny_fashion, '--log_dir',
                                     str(tmp_path / 'logs')])
    assert code == 2 and 'metadata entry' not in err and 'Traceback' not in err, err


def test_every_training_state_entry_of_a_wrong_type_is_one_line(tmp_path):
    from snn_conversion.core.checkpoint import state_numbers
    good = {'__epoch__': np.array(3), '__learning_rate__': np.array(1e-4), '__xla__': np.array(False),
            '__drop_last__': np.array(True)}
    assert state_numbers(good) == (3, 1e-4, False, True)
    for key, values in (('__epoch__', WRONG[int]), ('__learning_rate__', WRONG[float]),
                        ('__xla__', ['yes', 1, np.arange(2)]), ('__drop_last__', WRONG[bool])):
        for value in values + [None]:
            state = dict(good)
            if value is None:
                del state[key]
                if key in ('__xla__', '__drop_last__'):  # states written before the flag: trained without it
                    assert state_numbers(state)[('__xla__', '__drop_last__').index(key) + 2] is False
                    continue
            else:
                state[key] = np.array(value)
            with pytest.raises(ValueError, match=key):
                state_numbers(state)


def test_debug_keeps_the_traceback_and_a_bug_is_one_line():
    def bug(args):
        raise ZeroDivisionError('division by zero')
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as e:
        run_cli(bug, [])
    assert e.value.code == 1 and err.getvalue().startswith('internal error: ZeroDivisionError: division by zero')
    assert len(err.getvalue().strip().splitlines()) == 1
    with pytest.raises(ZeroDivisionError):
        run_cli(bug, ['--debug'])

    def memory(args):
        raise MemoryError()
    with redirect_stderr(err), pytest.raises(SystemExit) as e:
        run_cli(memory, [])
    assert e.value.code == 2 and 'not enough memory' in err.getvalue()
