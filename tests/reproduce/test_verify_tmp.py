"""``reproduce.py --verify`` works in a throw-away folder snn_verify_<pid>_*; a killed verification leaves it
behind, and the next one removes it -- never a running verification's, nor anything else."""
import os
import subprocess
import sys
import tempfile

import pytest

from snn_conversion.core.errors import UserError
from snn_conversion.reproduce import verify
from snn_conversion.reproduce.context import RunContext


def _dead_pid():
    p = subprocess.Popen([sys.executable, '-c', 'pass'])
    p.wait()
    return p.pid


@pytest.fixture
def tmp_dir(tmp_path, monkeypatch):
    """tmp_path as the temporary folder, with a stale folder, a running verification's, and others'."""
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    live = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    dead = _dead_pid()
    names = dict(stale='snn_verify_%d_abc123' % dead, live='snn_verify_%d_x_y9' % live.pid,
                 mine='snn_verify_%d_q' % os.getpid(), old_style='snn_verify_k2j_a8z', other='other_%d_abc' % dead)
    for name in names.values():
        os.makedirs(str(tmp_path / name / 'logs'))
        (tmp_path / name / 'logs' / 'x.txt').write_text('x')
    (tmp_path / ('snn_verify_%d_file' % dead)).write_text('not a folder')
    yield tmp_path, names
    live.kill()
    live.wait()


def test_stale_scratch_of_a_dead_verification_is_removed(tmp_dir):
    tmp_path, names = tmp_dir
    assert verify.remove_stale_scratch() == [str(tmp_path / names['stale'])]
    left = set(os.listdir(str(tmp_path)))
    assert names['stale'] not in left
    assert {names['live'], names['mine'], names['old_style'], names['other']} <= left
    assert verify.remove_stale_scratch(str(tmp_path)) == []


def test_verify_start_removes_stale_scratch(tmp_dir):
    tmp_path, names = tmp_dir
    with pytest.raises(UserError, match='no finished row with a shipped checkpoint to verify'):
        verify.verify(RunContext(root=str(tmp_path / 'no_records'), echo=lambda s: None))
    left = set(os.listdir(str(tmp_path)))
    assert names['stale'] not in left and names['live'] in left and names['mine'] in left


def test_scratch_is_named_with_the_pid(tmp_dir, monkeypatch):
    """derive's folder carries its process's pid (so the cleanup can tell whose it is) and is gone after it."""
    tmp_path, _ = tmp_dir
    seen = []

    class Run(object):
        class row(object):
            id = 'r'
            full_precision = True

        def inference_argv(self, path):
            return []

        def run_script(self, argv, log_file, on_line, what):
            seen.append(os.path.basename(os.path.dirname(log_file)))
            assert os.path.dirname(log_file) not in verify.remove_stale_scratch()  # its own is kept while it runs
            assert os.path.isdir(os.path.dirname(log_file))
            raise RuntimeError('stop here')

    path = tmp_path / 'ckpt.npz'
    path.write_bytes(b'x')
    with pytest.raises(RuntimeError, match='stop here'):
        verify.derive(Run(), str(path), echo=lambda s: None)
    assert seen and seen[0].startswith('snn_verify_%d_' % os.getpid())
    assert seen[0] not in os.listdir(str(tmp_path))
