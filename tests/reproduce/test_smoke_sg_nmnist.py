"""``reproduce.py TABLE --rows ROW --smoke`` for the scatter-and-gather VGG rows (CIFAR-10, CIFAR-100) and the
N-MNIST rows (the whole set and the subset), and from the command line (the others: test_smoke.py)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from smoke_checks import ROWS, check_smoke_row, write_data_root

from snn_conversion.reproduce import report
from snn_conversion.reproduce.context import RunContext

ROWS_HERE = ROWS[2:]


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return write_data_root(tmp_path_factory.mktemp('smoke_data'), tmp_path_factory, ('cifar10', 'cifar100', 'n_mnist'))


@pytest.mark.parametrize('table, row', ROWS_HERE)
def test_smoke_runs_the_whole_path_of_a_row(tmp_path, data_root, table, row):
    check_smoke_row(tmp_path, data_root, table, row)


def test_smoke_from_the_command_line(tmp_path, data_root):
    """As a user types it: one summary line, exit 0; the real records and RESULTS.md stay as they are."""
    before = [report.stale(RunContext())]
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), 'n_mnist_subset', '--rows',
                        'mlp_nmnist_k1_subset', '--data_root', data_root, '--smoke'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [line for line in p.stdout.splitlines() if line.startswith('smoke ')]
    assert len(lines) == 1 and lines[0].endswith('(record N_MNIST/smoke/records/mlp_nmnist_k1_subset.json)')
    assert not os.path.exists(os.path.join(ROOT, 'N_MNIST', 'records', 'mlp_nmnist_k1_subset.json')) or \
        json.load(open(os.path.join(ROOT, 'N_MNIST', 'records', 'mlp_nmnist_k1_subset.json')))['budget_epochs'] == 150
    assert [report.stale(RunContext())] == before
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--smoke'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 2 and p.stderr.strip().startswith('error: --smoke needs the tables')
