"""Provenance of a run: the command line, the package versions and the git revision.

Every checkpoint (its ``provenance`` entry, see :mod:`snn_conversion.core.checkpoint`) and every SNN log folder
(``run.json``) records :func:`provenance`, so a figure or a number can be traced back to the run that made it.
Versions are read from the installed distributions' metadata, without importing the packages (the simulator
never imports TensorFlow).
"""

from __future__ import absolute_import, division, print_function

import datetime
import glob
import os
import platform
import re
import shlex
import subprocess
import sys

__all__ = ['git_revision', 'package_versions', 'provenance', 'command_line', 'now_utc']

PACKAGES = ('tensorflow-gpu', 'tensorflow', 'tensorlayer', 'numpy', 'scipy', 'matplotlib', 'tqdm', 'Pillow')
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def git_revision():
    """The repository's current commit (with '+dirty' when modified), or 'unknown' outside a git checkout."""
    try:
        rev = subprocess.check_output(['git', 'rev-parse', 'HEAD'], cwd=_ROOT, stderr=subprocess.DEVNULL)
        rev = rev.decode().strip()
        dirty = subprocess.call(['git', 'diff', '--quiet', 'HEAD', '--'], cwd=_ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return rev + ('+dirty' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def now_utc():
    """The time now, UTC, to the second: '2026-12-07T10:23:27Z' (a record's stamps)."""
    return datetime.datetime.utcnow().replace(microsecond=0).isoformat() + 'Z'


def _normalise(name):
    return re.sub(r'[-_.]+', '_', name).lower()


def package_versions(names=PACKAGES):
    """``{name: version}`` of the installed distributions among ``names`` (from their dist-info folders)."""
    wanted = {_normalise(n): n for n in names}
    found = {}
    for base in sys.path:
        if not base or not os.path.isdir(base):
            continue
        for meta in glob.glob(os.path.join(base, '*.dist-info')) + glob.glob(os.path.join(base, '*.egg-info')):
            stem = os.path.basename(meta).rsplit('.', 1)[0]
            if '-' not in stem:
                continue
            dist, version = stem.split('-', 1)
            key = _normalise(dist)
            if key in wanted and wanted[key] not in found:
                found[wanted[key]] = version.split('-')[0]
    found['python'] = platform.python_version()
    return {name: found[name] for name in sorted(found)}


def command_line(argv=None):
    """The command as typed (``python script.py --flag value``), shell-quoted."""
    argv = sys.argv if argv is None else argv
    return ' '.join(shlex.quote(a) for a in ['python'] + list(argv))


def provenance(**extra):
    """A JSON-serialisable record of this process: command, working folder, git revision, packages, host, date."""
    info = dict(command=command_line(), cwd=os.getcwd(), git_revision=git_revision(), packages=package_versions(),
                host=platform.node(), date=datetime.datetime.now().isoformat(timespec='seconds'))
    info.update(extra)
    return info
