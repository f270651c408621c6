"""RunLock: one holder at a time, a one-line description of the holder, free again once the holder is gone."""

from __future__ import absolute_import, division, print_function

import fcntl
import json
import os

import pytest

from snn_conversion.core.lock import LockedError, RunLock


def test_second_holder_is_refused_with_the_first_holders_details(tmp_path):
    path = str(tmp_path / 'x.lock')
    with RunLock(path, 'the thing'):
        holder = json.load(open(path))
        assert holder['pid'] == os.getpid()
        with pytest.raises(LockedError) as e:
            RunLock(path, 'the thing').acquire()
        assert str(e.value).startswith('the thing is in use by another run (pid %d on ' % os.getpid())
    assert open(path).read() == ''  # a clean end leaves no holder behind
    with RunLock(path, 'the thing'):  # and the lock is free again
        pass


def test_holder_that_has_not_written_its_details_yet(tmp_path):
    path = str(tmp_path / 'x.lock')
    fd = os.open(path, os.O_RDWR | os.O_CREAT)  # locked, but still empty: the moment between flock and write
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(LockedError) as e:
            RunLock(path, 'the log folder f').acquire()
        assert str(e.value) == ('the log folder f is in use by another run (it has not written its details yet); '
                                'wait for it to finish or stop it')
    finally:
        os.close(fd)


def test_lock_left_by_a_dead_run_is_taken_over_with_a_note(tmp_path, capsys):
    path = str(tmp_path / 'x.lock')
    with open(path, 'w') as f:
        json.dump(dict(pid=999999, host='h', started='s', command='c'), f)
    with RunLock(path, 'the checkpoint c.npz'):
        assert json.load(open(path))['pid'] == os.getpid()
    assert 'note: taking over the checkpoint c.npz from a run that is gone (pid 999999 on h' in capsys.readouterr().err
