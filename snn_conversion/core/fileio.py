"""Atomic file output: every file a run writes is replaced whole, never left half-written.

Each writer puts its bytes into ``<path>.tmp-<pid>`` beside the target, fsyncs, and renames it over the target
(atomic on POSIX file systems): a kill at any moment leaves the previous file or the new one.  Temporaries of
killed writers are removed by the next write of the same file.  Appends (:func:`append_lines`, the simulation's
logs) are made safe by the record written after them (``progress.json``).

A write that fails (a full disk, an I/O error, a read-only file system, a quota) raises :class:`WriteError`: one
line naming the file and the reason, saying that what was written before is intact and how to go on; the command
lines turn it into exit code 2.  ``$SNN_INJECT_WRITE_ERROR=<part of a file name>[:<errno name>][@<n>][/mid]`` makes
the writes of matching files fail (ENOSPC by default; from the n-th such write of the process on, default the
first) -- the tests' way to reach every write site; before the file is opened, or with ``/mid`` in the middle of
the write, after half of its bytes reached the file (atomic writes and appends).
"""

from __future__ import absolute_import, division, print_function

import errno
import glob
import hashlib
import io
import json
import os
import zipfile

import numpy as np

from snn_conversion.core.errors import UserError

__all__ = ['read_json_object', 'atomic_write', 'atomic_write_text', 'atomic_write_json', 'atomic_savez',
           'atomic_savez_compressed', 'append_lines', 'remove_stale_temporaries', 'read_npz', 'file_sha256',
           'WriteError', 'check_write', 'failing_midway', 'INJECT_ENV']

INJECT_ENV = 'SNN_INJECT_WRITE_ERROR'


class WriteError(UserError):
    """A file could not be written (one-line message: which file, why, what is intact, how to go on)."""

    def __init__(self, path, error):
        reason = getattr(error, 'strerror', None) or str(error)
        super(WriteError, self).__init__(
            'cannot write %s (%s); everything written before it is intact: free space (or fix the folder) and run '
            'the same command again to continue (--resume)' % (path, reason))


def check_write(path):
    """The injected write failure of ``path``, if ``$SNN_INJECT_WRITE_ERROR`` names it (a test hook): raised
    here when it comes before the write; returned (an OSError, to raise in the middle of the write: see
    :func:`failing_midway`) with ``/mid``; None when nothing is injected."""
    spec = os.environ.get(INJECT_ENV)
    if not spec:
        return None
    mid = spec.endswith('/mid')
    spec, _, nth = spec[:-len('/mid')].partition('@') if mid else spec.partition('@')
    part, _, name = spec.partition(':')
    if part and part in os.path.basename(path):
        _INJECTED[0] += 1
        if _INJECTED[0] >= int(nth or 1):
            code = getattr(errno, name or 'ENOSPC')
            error = OSError(code, os.strerror(code), path)
            if not mid:
                raise error
            return error
    return None


class _FailingMidway(object):
    """A file whose next write puts half of its bytes in the file, then fails (an injected full disk)."""

    def __init__(self, f, error):
        self._f, self._error = f, error

    def write(self, data):
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        raise self._error

    def __getattr__(self, name):
        return getattr(self._f, name)


def failing_midway(f, error):
    """``f`` itself, or (``error`` from :func:`check_write`) a stand-in whose write fails halfway."""
    return f if error is None else _FailingMidway(f, error)


_INJECTED = [0]  # matching writes seen by this process


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but another user's
        return True
    return True


def remove_stale_temporaries(path):
    """Delete ``path.tmp-<pid>`` files left by killed writers (their process is gone)."""
    for tmp in glob.glob(glob.escape(path) + '.tmp-*'):
        pid = tmp.rsplit('.tmp-', 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            try:
                os.remove(tmp)
            except OSError:
                pass


def atomic_write(path, mode, write):
    """``write(f)`` into a temporary file beside ``path``, fsync, then rename it over ``path``; a failure is a
    :class:`WriteError` and leaves ``path`` as it was."""
    tmp = path + '.tmp-%d' % os.getpid()
    try:
        midway = check_write(path)
        with open(tmp, mode) as f:
            write(failing_midway(f, midway))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, IOError) as e:
        raise WriteError(path, e)
    finally:
        if os.path.exists(tmp):
            try:
                os.remove(tmp)
            except OSError:
                pass


def append_lines(path, lines):
    """Append ``lines`` (each ended by a newline) to ``path``, flushed to disk; a failure is a
    :class:`WriteError` (the caller's progress record still describes the complete part)."""
    try:
        midway = check_write(path)
        with open(path, 'a') as f:
            failing_midway(f, midway).write(''.join(line + '\n' for line in lines))
            f.flush()
            os.fsync(f.fileno())
    except (OSError, IOError) as e:
        raise WriteError(path, e)


def _savez(path, save, arrays):
    d = os.path.dirname(os.path.abspath(path))
    try:
        if not os.path.isdir(d):
            os.makedirs(d)
    except OSError as e:
        raise WriteError(path, e)
    # the archive is built in memory, then written in one piece: a failed write of the file then leaves no
    # half-closed zip archive behind (numpy's ZipFile on a file whose write failed prints a traceback when it is
    # collected)
    buf = io.BytesIO()
    save(buf, **arrays)
    atomic_write(path, 'wb', lambda f: f.write(buf.getvalue()))
    remove_stale_temporaries(path)


def atomic_savez(path, **arrays):
    """``np.savez`` to ``path`` atomically (creating its folder)."""
    _savez(path, np.savez, arrays)


def atomic_savez_compressed(path, **arrays):
    """``np.savez_compressed`` to ``path`` atomically (creating its folder)."""
    _savez(path, np.savez_compressed, arrays)


def atomic_write_text(path, text):
    """Replace ``path`` by ``text`` at once: a kill leaves the old or the new."""
    atomic_write(path, 'w', lambda f: f.write(text))


def atomic_write_json(path, obj):
    """``obj`` as indented, key-sorted JSON, replaced atomically."""
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=True))


def read_json_object(path):
    """The JSON object (a dict) in ``path``, None when there is no such file; ValueError (or OSError) when the file
    cannot be read, is not JSON, or holds something else than an object."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            obj = json.load(f)
    except UnicodeDecodeError as e:
        raise ValueError(str(e))
    if not isinstance(obj, dict):
        raise ValueError('not a JSON object')
    return obj


def read_npz(path, allow_pickle=False):
    """Every array of an ``.npz`` file as a dict.

    A file that is not a complete zip archive raises ``zipfile.BadZipFile`` before numpy opens it (numpy 1.18's
    ``np.load`` would also print a spurious "Exception ignored" traceback from ``NpzFile.__del__``).
    """
    if not zipfile.is_zipfile(path):
        raise zipfile.BadZipFile('not a complete zip archive (truncated, or not an npz file)')
    with np.load(path, allow_pickle=allow_pickle) as z:
        return {key: z[key] for key in z.files}


def file_sha256(path):
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()
