"""The progress bar of every long loop (tqdm on stderr; sparse updates when stderr is not a terminal)."""

from __future__ import absolute_import, division, print_function

import sys

__all__ = ['progress_bar']


def progress_bar(iterable=None, total=None, desc=None, unit='it', enabled=True, leave=True, initial=0):
    """A tqdm bar on stderr: redrawn twice a second on a terminal, every 30 s in a log file."""
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, disable=not enabled, leave=leave,
                initial=initial, mininterval=0.5 if sys.stderr.isatty() else 30)
