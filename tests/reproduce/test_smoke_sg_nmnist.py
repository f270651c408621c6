"""``reproduce.py TABLE --rows ROW --smoke`` for the scatter-and-gather VGG rows (CIFAR-10, CIFAR-100) and the
N-MNIST rows (the whole set; the subset's from the command line) (the others: test_smoke.py)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from smoke_checks import ROWS, check_smoke_record, check_smoke_row, write_data_root

from snn_conversion.core.fileio import file_sha256
from snn_conversion.reproduce import headline, report

ROWS_HERE = ROWS[2:5]  # (the subset's row: from the command line, below)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return write_data_root(tmp_path_factory.mktemp('smoke_data'), tmp_path_factory, ('cifar10', 'cifar100', 'n_mnist'))


@pytest.mark.parametrize('table, row', ROWS_HERE)
def test_smoke_runs_the_whole_path_of_a_row(tmp_path, data_root, table, row):
    check_smoke_row(tmp_path, data_root, table, row)


def _listing(folder):
    """The names in ``folder`` and in its data/ folder (where a subset's frames would go)."""
    data = os.path.join(folder, 'data')
    return sorted(os.listdir(folder)), sorted(os.listdir(data)) if os.path.isdir(data) else None


def _written_by_a_real_run():
    """{path: sha256} of every file a run that is not a smoke writes outside its workspace folder's top level: the
    records, shipped checkpoints and resume states of every workspace, RESULTS.md, the documents it updates and its
    figures."""
    paths = [report.RESULTS] + [os.path.join(ROOT, name) for name, _ in headline.DOCUMENTS]
    for top in sorted(os.listdir(ROOT)):
        for sub in ('records', 'pretrained', 'resume'):
            paths += _files_under(os.path.join(ROOT, top, sub))
    paths += _files_under(os.path.join(ROOT, report.FIGURES))
    return {p: file_sha256(p) for p in paths if os.path.isfile(p)}


def _files_under(folder):
    return [os.path.join(d, f) for d, _, files in os.walk(folder) for f in files]


def test_smoke_from_the_command_line(tmp_path, data_root):
    """The subset's row as a user types it: one summary line, exit 0, the record's whole path (as every row's
    smoke run above); nothing written but the workspace's smoke folder: the real records, checkpoints, RESULTS.md
    and its figures stay byte for byte as they are."""
    table, row = ROWS[5]
    assert (table, row) == ('n_mnist_subset', 'mlp_nmnist_k1_subset')
    workspace = os.path.join(ROOT, 'N_MNIST')
    before = _written_by_a_real_run()
    listed = _listing(workspace)
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), table, '--rows', row, '--data_root',
                        data_root, '--smoke'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [line for line in p.stdout.splitlines() if line.startswith('smoke ')]
    assert len(lines) == 1 and lines[0].endswith('(record N_MNIST/smoke/records/mlp_nmnist_k1_subset.json)')
    check_smoke_record(ROOT, table, row, p.stdout.splitlines())
    names, data = _listing(workspace)
    assert ([n for n in names if n != 'smoke'], data) == ([n for n in listed[0] if n != 'smoke'], listed[1])
    assert not os.path.exists(os.path.join(ROOT, 'N_MNIST', 'records', 'mlp_nmnist_k1_subset.json')) or \
        json.load(open(os.path.join(ROOT, 'N_MNIST', 'records', 'mlp_nmnist_k1_subset.json')))['budget_epochs'] == 150
    assert _written_by_a_real_run() == before
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--smoke'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 2 and p.stderr.strip().startswith('error: --smoke needs the tables')
