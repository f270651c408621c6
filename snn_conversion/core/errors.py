"""User-facing errors and flags: bad input gets one clear line on stderr and a non-zero exit, not a traceback."""

from __future__ import absolute_import, division, print_function

import argparse
import ast
import os
import signal
import sys
import threading

__all__ = ['UserError', 'run_cli', 'parse_bool', 'ArgumentParser', 'add_resume_flag', 'ensure_writable_dir',
           'StopRequest']

EXIT_USER_ERROR = 2


class UserError(Exception):
    """An error caused by the user's input (files, flags); its message is one line meant for them."""


def run_cli(main, argv=None):
    """Call ``main(argv)``; a :class:`UserError` becomes ``error: <message>`` on stderr and exit 2.

    ``--debug`` anywhere in argv shows the traceback instead.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        return main(args)
    except UserError as e:
        if '--debug' in args:
            raise
        sys.stderr.write('error: %s\n' % str(e).replace('\n', ' '))
        raise SystemExit(EXIT_USER_ERROR)
    except KeyboardInterrupt as e:
        if '--debug' in args:
            raise
        sys.stderr.write('interrupted%s\n' % (': %s' % e if str(e) else ''))
        raise SystemExit(130)


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors (unknown flag, bad value) are one line on stderr and exit 2, like every other
    bad input; ``--help`` still shows the usage."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('allow_abbrev', False)  # --time_step is a typo, not --time_steps
        super(ArgumentParser, self).__init__(*args, **kwargs)

    def error(self, message):
        sys.stderr.write('error: %s (see %s --help)\n' % (message.replace('\n', ' '), self.prog))
        raise SystemExit(EXIT_USER_ERROR)


def add_resume_flag(p, help):
    """``--resume`` as the authors write it (``--resume True``); a bare ``--resume`` means True."""
    p.add_argument('--resume', type=parse_bool, nargs='?', const=True, default=False, metavar='{True,False}',
                   help=help)


def ensure_writable_dir(path, what='output'):
    """Create ``path`` if needed and prove it writable now, before any long computation."""
    try:
        if not os.path.isdir(path):
            os.makedirs(path)
        probe = os.path.join(path, '.write-test-%d' % os.getpid())
        open(probe, 'w').close()
        os.remove(probe)
    except OSError as e:
        raise UserError('cannot write %s to %s (%s)' % (what, path, e.strerror or e))


def parse_bool(text):
    """argparse type of the authors' boolean flags (``--resume True``, ``--use_ternary False``)."""
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, bool):
        raise ValueError('expected True or False, got %r' % text)
    return value


class StopRequest(object):
    """Ctrl-C as a request to stop at the next safe point of a long loop.

    Inside ``with StopRequest(notice) as stop:``, the first SIGINT only sets ``stop.requested`` (and prints
    ``notice``); the loop checks it where stopping loses nothing -- after a training step, after a batch's logs
    are recorded -- and raises KeyboardInterrupt there.  A second SIGINT raises KeyboardInterrupt at once.
    (A KeyboardInterrupt raised wherever the signal happens to land can be swallowed by library code, or
    leave a half-done step; a flag cannot.)  Outside the main thread, or when SIGINT is ignored, nothing changes.
    """

    def __init__(self, notice):
        self.notice = notice
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt()
        self.requested = True
        sys.stderr.write('\n%s\n' % self.notice)
        sys.stderr.flush()

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False
