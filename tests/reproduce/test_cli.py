"""``reproduce.py COMMAND ...``: one subcommand per kind of run, and the earlier form (tables with a mode flag)
still accepted, handed to the same command with the same arguments."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from snn_conversion.core.errors import UserError
from snn_conversion.reproduce import cli

PAIRS = [
    (['run', 'fashion_mnist', '--rows', 'mlp_fashionmnist_k1'], ['fashion_mnist', '--rows', 'mlp_fashionmnist_k1']),
    (['run', 'fashion_mnist', '--restart', '--threads', '2'], ['fashion_mnist', '--restart', '--threads', '2']),
    (['list', 'mnist_all_integer', '--data_root', '.'], ['--list', 'mnist_all_integer', '--data_root', '.']),
    (['verify', '--rows', 'lenet_mnist_k1', '--fill'], ['--verify', '--rows', 'lenet_mnist_k1', '--fill']),
    (['repeat', 'fashion_mnist', '--seed', '1'], ['fashion_mnist', '--repeat', '1']),
    (['repeat', 'mnist_scatter_gather', '--seed', '0', '--variant', 'drop_last'],
     ['mnist_scatter_gather', '--repeat', '0', '--variant', 'drop_last']),
    (['export'], ['--export_resume']),
    (['export', 'fashion_mnist', '--seed', '2'], ['fashion_mnist', '--repeat', '2', '--export_resume']),
    (['measure', 'n_mnist', '--measure_images', '100'], ['n_mnist', '--measure', '--measure_images', '100']),
    (['observe', 'fashion_mnist'], ['fashion_mnist', '--observe']),
    (['results'], ['--write_results']),
    (['smoke', 'n_mnist', '--rows', 'mlp_nmnist_k1'], ['n_mnist', '--rows', 'mlp_nmnist_k1', '--smoke']),
]


@pytest.mark.parametrize('new, old', PAIRS)
def test_each_command_and_its_earlier_form_are_the_same_run(new, old):
    (c1, a1), (c2, a2) = cli.parse(new), cli.parse(old)
    assert c1 == c2 == new[0]
    assert dict((k, getattr(a1, k)) for k in cli.DEFAULTS) == dict((k, getattr(a2, k)) for k in cli.DEFAULTS)


def test_every_command_has_a_handler_and_help():
    assert sorted(cli.HANDLERS) == sorted(cli.COMMANDS)
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--help'], stdout=subprocess.PIPE,
                       universal_newlines=True)
    assert p.returncode == 0 and all(name in p.stdout for name in cli.COMMANDS)


@pytest.mark.parametrize('argv, message', [
    (['measure'], 'the following arguments are required: TABLE'),
    (['repeat', 'fashion_mnist'], 'the following arguments are required: --seed'),
    (['repeat', 'fashion_mnist', '--seed', '0'], '--repeat 0 is the row itself'),
    (['run', 'fashion_mnist', '--measure'], 'unrecognized arguments: --measure'),
    (['export', '--variant', 'drop_last'], '--variant goes with a seed'),
    (['run', 'fashion_mnist', 'nope'], "unknown table 'nope'"),
    (['run', 'fashion_mnist', 'n_mnist', '--rows', 'x'], '--rows needs exactly one table'),
])
def test_bad_commands_are_one_line(argv, message, capsys):
    with pytest.raises((SystemExit, UserError)) as e:
        cli.main(argv)
    said = str(e.value) if isinstance(e.value, UserError) else capsys.readouterr().err
    assert message in said


def test_a_command_as_typed():
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), 'list', 'mnist_all_integer'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0 and p.stdout.startswith('mnist_all_integer (seed 002)'), p.stderr
