"""One writer per output: an exclusive lock held for a run's whole life.

A training run locks its checkpoint, a simulation its log folder.  The lock is ``fcntl.flock`` on a small file
(``<checkpoint>.lock`` / ``<log folder>/.lock``) that also records the holder (pid, host, command, start); the
kernel releases it when the holder dies however it dies, so a lock file left by a killed run is free and is
taken over (with one line saying so), while a live holder makes a second run fail at once, before any
computation, with one line naming it.
"""

from __future__ import absolute_import, division, print_function

import datetime
import errno
import fcntl
import json
import os
import socket
import sys

from snn_conversion.core.errors import UserError

__all__ = ['RunLock', 'LockedError']


class LockedError(UserError):
    """Another live run holds the output (one-line message naming it)."""


def _describe(holder):
    if not holder.get('pid'):
        return 'it has not written its details yet'
    return 'pid %s on %s, started %s: %s' % (holder.get('pid', '?'), holder.get('host', '?'),
                                             holder.get('started', '?'), holder.get('command', '?'))


class RunLock(object):
    """``with RunLock(lock_file, 'the checkpoint x.npz'):`` -- exclusive for the block's duration."""

    def __init__(self, path, what, quiet=False):
        self.path, self.what, self.quiet = path, what, quiet
        self._fd = None

    def _read_holder(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def acquire(self):
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            if not os.path.isdir(folder):
                os.makedirs(folder)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise UserError('cannot create the lock file %s (%s)' % (self.path, e.strerror or e))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise LockedError('%s is in use by another run (%s); wait for it to finish or stop it'
                                  % (self.what, _describe(self._read_holder())))
            raise UserError('cannot lock %s (%s)' % (self.path, e.strerror or e))
        previous = self._read_holder()
        if previous.get('pid') and not self.quiet:
            sys.stderr.write('note: taking over %s from a run that is gone (%s)\n' % (self.what, _describe(previous)))
        record = dict(pid=os.getpid(), host=socket.gethostname(), command=' '.join(['python'] + sys.argv),
                      started=datetime.datetime.now().isoformat(timespec='seconds'))
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(record, sort_keys=True).encode())
        except OSError:
            pass  # the lock holds without its description (full disk)
        self._fd = fd
        return self

    def release(self):
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # a clean end leaves no holder behind
        except OSError:
            pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False
