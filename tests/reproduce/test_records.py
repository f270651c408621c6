"""One schema for the table runner's records: every wrong type is refused in one line naming file and field; a
record is typed (core/records.py) and reads and writes back byte for byte; a store reads it once."""
import glob
import json
import os
from unittest import mock

import pytest

from conftest import ROOT

from snn_conversion.core import record_store
from snn_conversion.core.record_store import RecordStore
from snn_conversion.core.records import AnnResult, CurvePoint, Record, RecordError, ResumeEntry, check_record
from snn_conversion.reproduce import report, tables
from snn_conversion.reproduce.context import RunContext

ROW = tables.TABLES['fashion_mnist'].rows[2]  # mlp_fashionmnist_k1, a finished quantized row


def _committed():
    with open(RunContext().record_path(ROW)) as f:
        return json.load(f)


def _committed_paths():
    """Every record kept in the repository (rows' and repeats')."""
    return sorted(glob.glob(os.path.join(ROOT, '*', 'records', '**', '*.json'), recursive=True))


def test_every_committed_record_fits_the_schema():
    paths = _committed_paths()
    assert paths
    for path in paths:
        with open(path) as f:
            check_record(json.load(f), path)


def test_every_committed_record_round_trips_byte_for_byte():
    """Each committed record, read into a Record and written back, is its file byte for byte: as it was read, and
    rebuilt field by field from what its typed properties give (curve points, entries, the earlier run's Record)."""
    paths = _committed_paths()
    assert len(paths) >= 30 and any(os.sep + 'repeats' + os.sep in p for p in paths)
    for path in paths:
        with open(path) as f:
            text = f.read()
        stored = json.loads(text)
        rec = Record.of(stored, path)
        assert rec.to_json() == text, path
        rebuilt = Record().update(**dict((name, getattr(rec, name)) for name in stored))
        assert rebuilt.to_json() == text, path
        assert RecordStore(ROOT).load(path, {}, 'run again').to_json() == text, path
        # every field, nested ones too, has its property (no field the types do not know)
        for name, value in stored.items():
            assert name in Record.NAMES, (path, name)
            if isinstance(value, dict) and name not in ('commands', 'observing'):
                entry = getattr(rec, name)
                assert all(key in type(entry).NAMES for key in value), (path, name, sorted(value))
    rec = Record.of(_committed(), 'x')
    assert isinstance(rec.curve[0], CurvePoint) and isinstance(rec.ann, AnnResult) and rec.done
    assert rec.snn.correct[-1] == rec.ann_float64.correct and rec.trained_epochs == rec.budget_epochs


def test_a_record_is_typed_and_its_values_are_its_own():
    rec = Record(status='training', curve=[CurvePoint(1, 90.0, 0.5, 10.0, None)], epochs_done=1)
    assert rec.curve == [CurvePoint(1, 90.0, 0.5, 10.0, None)] and rec.stored()['curve'] == [[1, 90.0, 0.5, 10.0]]
    assert rec.ann is None and rec.resume is None and not rec.done and rec.trained_epochs == 1
    with pytest.raises(TypeError, match='no record field statu'):
        rec.update(statu='done')
    rec.update(resume=ResumeEntry(epoch=1, sha256='a' * 64, replaces=ResumeEntry(epoch=1, sha256='b' * 64)))
    assert rec.resume.replaces.sha256 == 'b' * 64 and rec.resume.without('replaces').replaces is None
    rec.curve.append('not kept')  # what a reader gets is a copy
    rec.stored()['curve'].append('not kept')
    assert len(rec.curve) == 1
    earlier = rec.keep(('curve', 'epochs_done', 'ann'))
    assert earlier.present() == ['curve', 'epochs_done'] and rec.update(earlier_run=earlier).earlier_run == earlier
    assert rec.drop('resume') and not rec.drop('resume')
    rec.set_command('train', 'python x.py')
    assert rec.commands == {'train': 'python x.py'} and rec.pop_command('train') == 'python x.py' and not rec.commands


def test_a_store_reads_a_record_once_while_its_file_is_unchanged(tmp_path):
    store = RecordStore(str(tmp_path))
    path = store.row_path('MNIST', 'x')
    store.save(path, Record(row='x', status='training', curve=[], epochs_done=0))
    with mock.patch.object(record_store.json, 'load', side_effect=json.load) as parse:
        first, second = store.load(path, dict(row='x'), 'again'), store.load(path, dict(row='x'), 'again')
        assert parse.call_count == 0  # the record it wrote: known
        first.update(status='done')  # each reader has its own copy
        assert second.status == 'training' and store.load(path, dict(row='x'), 'again').status == 'training'
        with open(path, 'w') as f:  # another writer
            f.write(Record(row='x', status='trained', curve=[], epochs_done=0).to_json())
        assert store.load(path, dict(row='x'), 'again').status == 'trained'
        assert store.load(path, dict(row='x'), 'again').status == 'trained' and parse.call_count == 1
    with pytest.raises(record_store.UserError, match='is damaged \\(it is not the record of row y\\)'):
        store.load(path, dict(row='y'), 'again')


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
    ctx = RunContext(root=str(tmp_path))
    path = ctx.record_path(ROW)
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as f:
        json.dump(rec, f)
    with pytest.raises(RecordError) as e:
        ctx.read_record(ROW)
    message = str(e.value)
    assert '\n' not in message and message.startswith(path) and field in message, message
    # --list and --write_results read records the same way
    with pytest.raises(RecordError):
        report.status_lines(RunContext(root=str(tmp_path)))
    with pytest.raises(RecordError):
        report.render_tables(RunContext(root=str(tmp_path)))


def test_a_record_is_checked_before_it_is_written(tmp_path):
    path = str(tmp_path / 'r.json')
    with pytest.raises(RecordError, match='field epochs_done'):
        RecordStore(str(tmp_path)).save(path, Record(row='x'), epochs_done=2.5)
    assert not os.path.exists(path)


def test_missing_results_md_is_one_line(tmp_path):
    with pytest.raises(record_store.UserError, match='cannot be read .*restore it'):
        report.write_results(RunContext(), str(tmp_path / 'RESULTS.md'))
