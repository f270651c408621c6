"""A row trained in phases, as the authors ran their CIFAR scripts (e.g. 100 epochs at 1e-3, then ``--resume True``
for 100 more at 1e-4): the runner runs each phase, counts the epochs over the whole budget, and a phase-2 state
ships and continues like any other."""
import os
import shutil

import pytest

from conftest import make_mnist_like

from snn_conversion.core.checkpoint import load_checkpoint
from snn_conversion.core.errors import UserError
from snn_conversion.reproduce import runner, tables
from snn_conversion.reproduce.context import RunContext

PHASES = [(1, 1e-3), (2, 5e-4)]


def _row(phases):
    return tables.Row('MNIST', 'LeNet_MNIST', 'lenet_mnist', 1, sum(e for e, _ in phases), phases[0][1], 50,
                      (99.32, 99.32, 13), time_steps=4, phases=phases)


def _run(phases, root, data):
    row = _row(phases)
    table = tables.Table('tiny', '001', 'tiny', '20C5-P2-50C5-P2-500', [row])
    return runner.RowRun(RunContext(root=root, echo=lambda s: None), table, row, data)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_mnist_like(str(tmp_path_factory.mktemp('data') / 'mnist'), n_train=300, n_test=40)


def test_a_row_knows_its_phases():
    row = _row(PHASES)
    assert row.epochs == 3 and row.learning_rate == 1e-3 and row.recipe == '1 epochs at 0.001, then 2 at 0.0005'
    assert [row.overall_epoch(e, lr) for e, lr in [(1, 1e-3), (1, 5e-4), (2, 5e-4)]] == [1, 2, 3]
    assert row.phases_left(0) == [(0, tables.Phase(1, 1e-3)), (1, tables.Phase(2, 5e-4))]
    assert row.phases_left(2) == [(1, tables.Phase(2, 5e-4))] and row.phases_left(3) == []
    with pytest.raises(UserError, match='trained at rate 0.01 belongs to none of the row\'s phases'):
        row.overall_epoch(1, 0.01)
    with pytest.raises(ValueError, match='distinct rates'):
        _row([(1, 1e-3), (1, 1e-3)])
    # a row of one phase counts a checkpoint's epochs as they are
    assert _row([(5, 1e-3)]).overall_epoch(4, 0.5) == 4


def test_phases_run_in_turn_and_ship_in_between(tmp_path, data):
    root = str(tmp_path / 'first')
    first = _run(PHASES[:1] + [(1, 5e-4)], root, data)  # the first phase, and one epoch of the second
    said = []
    first.echo = said.append
    first.train()
    assert any('(phase 2 of 2: 0.0005)' in s for s in said)
    meta = load_checkpoint(first.model_file)[1]
    assert (meta['epoch'], meta['learning_rate']) == (1, 5e-4)  # the scripts count a phase's own epochs
    rec = RunContext(root=root).read_record(first.row)
    assert [c.epoch for c in rec.curve] == [1, 2] and rec.epochs_done == 2
    assert '--learning_rate 0.0005' in rec.commands['train'] and '--resume True' in rec.commands['train']

    paused = _run(PHASES, root, data)  # the row's whole budget: 3 epochs; 2 are done
    assert paused.checkpoint_epoch() == 2 and paused.export_resume() == 2
    assert RunContext(root=root).read_record(paused.row).resume.epoch == 2

    fresh = str(tmp_path / 'fresh')
    for sub in ('records', 'resume'):
        shutil.copytree(os.path.join(root, 'MNIST', sub), os.path.join(fresh, 'MNIST', sub),
                        ignore=shutil.ignore_patterns('*.log', '*.lock'))
    cont = _run(PHASES, fresh, data)
    assert cont.train()
    meta = load_checkpoint(cont.model_file)[1]
    assert (meta['epoch'], meta['learning_rate']) == (2, 5e-4) and cont.checkpoint_epoch() == 3
    rec = RunContext(root=fresh).read_record(cont.row)
    assert [c.epoch for c in rec.curve] == [1, 2, 3] and rec.epochs_done == 3 and rec.resume is None
    assert '--epochs 2 --learning_rate 0.0005' in rec.commands['train']
