"""One schema for the table runner's records: every wrong type is refused in one line naming file and field."""
import json
import os

import pytest

from conftest import ROOT

from snn_conversion.core.records import RecordError, check_record
from snn_conversion.reproduce import report, runner, tables

ROW = tables.TABLES['fashion_mnist'].rows[2]  # mlp_fashionmnist_k1, a finished quantized row


def _committed():
    with open(runner.record_path(ROW)) as f:
        return json.load(f)


def test_every_committed_record_fits_the_schema():
    import glob
    paths = glob.glob(os.path.join(ROOT, '*', 'records', '*.json')) + glob.glob(
        os.path.join(ROOT, '*', 'records', 'repeats', '*.json'))
    assert paths
    for path in paths:
        with open(path) as f:
            check_record(json.load(f), path)


@pytest.mark.parametrize('edit, field', [
    (lambda r: r.update(ann=None), 'field ann is None, expected an object'),
    (lambda r: r['curve'].__setitem__(3, 'epoch 4'), 'field curve is'),
    (lambda r: r.update(epochs_done='5'), 'field epochs_done is "5", expected an integer'),
    (lambda r: r['snn'].pop('final'), "status 'done' lacks field snn.final"),
    (lambda r: r['snn'].update(correct=[1, 2.5]), 'field snn.correct is'),
    (lambda r: r.update(status='finished'), 'field status is "finished", expected one of'),
    (lambda r: r.update(version=99), 'record version 99 is newer'),
    (lambda r: r.update(k=True), 'field k is True, expected an integer >= 0 or null'),
    # values, not only types: each numeric field has its range, a sha256 its form
    (lambda r: r['ann'].update(accuracy=float('nan')), 'field ann.accuracy is nan, expected a percentage'),
    (lambda r: r['snn'].update(final=float('inf')), 'field snn.final is inf, expected a percentage'),
    (lambda r: r['ann'].update(accuracy=100.5), 'field ann.accuracy is 100.5'),
    (lambda r: r['snn'].update(first_step=-3), 'field snn.first_step is -3, expected a time step'),
    (lambda r: r['snn'].update(stable_step=99), 'field snn.stable_step is 99, expected a time step within T'),
    (lambda r: r['snn']['correct'].__setitem__(0, -5), 'field snn.correct is'),
    (lambda r: r['ann'].update(correct=r['ann']['n'] + 1), 'expected a count within its 10000 test images'),
    (lambda r: r['snn']['correct'].__setitem__(-1, 10001), 'field snn.correct is 10001, expected a count within'),
    (lambda r: r.update(epochs_done=-1), 'field epochs_done is -1, expected an integer >= 0'),
    (lambda r: r.update(epochs_done=151), 'field epochs_done is 151, expected within the budget of 150 epochs'),
    (lambda r: r['curve'][0].__setitem__(1, float('nan')), 'field curve is'),
    (lambda r: r.update(train_seconds=-2.0), 'field train_seconds is -2.0'),
    (lambda r: r.update(checkpoint_sha256='abc'), 'field checkpoint_sha256 is "abc", expected a sha256'),
    (lambda r: r['pretrained'].update(sha256='G' * 64), 'field pretrained.sha256'),
    (lambda r: r['snn'].update(spikes_per_step=[-1.0] + r['snn']['spikes_per_step'][1:]), 'field snn.spikes_per_step'),
    (lambda r: r.update(earlier_run=dict(ann=dict(accuracy=float('nan')))),
     'field earlier_run.ann.accuracy is nan'),
])
def test_a_record_with_a_wrong_type_is_refused_in_one_line(tmp_path, edit, field):
    rec = _committed()
    edit(rec)
    path = runner.record_path(ROW, str(tmp_path))
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as f:
        json.dump(rec, f)
    with pytest.raises(RecordError) as e:
        runner.read_record(ROW, str(tmp_path))
    message = str(e.value)
    assert '\n' not in message and message.startswith(path) and field in message, message
    # --list and --write_results read records the same way
    with pytest.raises(RecordError):
        report.status_lines(root=str(tmp_path))
    with pytest.raises(RecordError):
        report.render_tables(root=str(tmp_path))


def test_a_record_is_checked_before_it_is_written(tmp_path):
    path = str(tmp_path / 'r.json')
    with pytest.raises(RecordError, match='field epochs_done'):
        runner.save_record(path, {'row': 'x'}, epochs_done=2.5)
    assert not os.path.exists(path)


def test_missing_results_md_is_one_line(tmp_path):
    with pytest.raises(runner.UserError, match='cannot be read .*restore it'):
        report.write_results(str(tmp_path / 'RESULTS.md'))
