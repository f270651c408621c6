"""User-facing errors and flags: bad input gets one clear line on stderr and a non-zero exit, not a traceback."""

from __future__ import absolute_import, division, print_function

import argparse
import ast
import math
import os
import signal
import sys
import threading

__all__ = ['UserError', 'run_cli', 'parse_bool', 'ArgumentParser', 'add_resume_flag', 'ensure_writable_dir',
           'StopRequest', 'Number', 'int_range', 'float_range', 'EXIT_USER_ERROR', 'EXIT_INTERNAL_ERROR']

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1


class UserError(Exception):
    """An error caused by the user's input (files, flags); its message is one line meant for them."""


def run_cli(main, argv=None):
    """Call ``main(argv)``; a :class:`UserError` becomes ``error: <message>`` on stderr and exit 2;
    ``--debug`` anywhere in argv shows the traceback instead.

    Nothing else reaches the user as a traceback either: running out of memory is one line (exit 2: the flags
    asked for more than the machine has), and any other exception -- a bug -- one ``internal error:`` line naming
    it (exit 1) with the hint to rerun with ``--debug``.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    debug = '--debug' in args
    try:
        return main(args)
    except UserError as e:
        if debug:
            raise
        _one_line('error: %s' % e)
        raise SystemExit(EXIT_USER_ERROR)
    except KeyboardInterrupt as e:
        if debug:
            raise
        _one_line('interrupted%s' % (': %s' % e if str(e) else ''))
        raise SystemExit(130)
    except MemoryError as e:
        if debug:
            raise
        _one_line('error: not enough memory for this run (MemoryError%s): use a smaller --batch_size (or fewer '
                  '--time_steps / --workers)' % (': %s' % e if str(e) else ''))
        raise SystemExit(EXIT_USER_ERROR)
    except Exception as e:  # noqa: B902 -- the last resort: a bug, told in one line
        if debug:
            raise
        _one_line('internal error: %s: %s (a bug: run the same command with --debug for the traceback, and report '
                  'it)' % (type(e).__name__, e))
        raise SystemExit(EXIT_INTERNAL_ERROR)


def _one_line(text):
    sys.stderr.write(text.replace('\n', ' ') + '\n')
    sys.stderr.flush()


class Number(object):
    """argparse type of a numeric flag together with its range: ``kind`` (int or float) between ``low`` and
    ``high`` inclusive (None: unbounded), ``low_open``: strictly above ``low``.  Floats must be finite.  A value of
    the wrong type or outside the range is one argparse error line naming the flag and the range."""

    def __init__(self, kind, low, high, low_open=False):
        self.kind, self.low, self.high, self.low_open = kind, low, high, bool(low_open)
        self.__name__ = kind.__name__  # argparse names the type in some messages

    def describe(self):
        noun = 'an integer' if self.kind is int else 'a number'
        if self.low is not None and self.high is not None and not self.low_open:
            return '%s from %s to %s' % (noun, self.low, self.high)
        parts = ([] if self.low is None else ['%s %s' % ('>' if self.low_open else '>=', self.low)]) + \
                ([] if self.high is None else ['<= %s' % self.high])
        return ' '.join([noun] + ([' and '.join(parts)] if parts else []))

    def __call__(self, text):
        try:
            value = self.kind(text)
        except (TypeError, ValueError, OverflowError):
            value = None
        if value is None or (self.kind is float and not math.isfinite(value)) or \
                (self.low is not None and (value < self.low or (self.low_open and value == self.low))) or \
                (self.high is not None and value > self.high):
            raise argparse.ArgumentTypeError('expected %s, got %r' % (self.describe(), text))
        return value

    def __repr__(self):
        return 'Number(%s)' % self.describe()


def int_range(low, high):
    """An integer flag's type: ``low`` <= value <= ``high``."""
    return Number(int, low, high)


def float_range(low, high, low_open=False):
    """A finite number flag's type: ``low`` <= value <= ``high`` (``low_open``: ``low`` < value)."""
    return Number(float, low, high, low_open)


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors (unknown flag, bad value) are one line on stderr and exit 2, like every other
    bad input; ``--help`` still shows the usage.

    Every numeric flag declares its range (``type=int_range(...)`` / ``float_range(...)``): a bare ``type=int`` or
    ``type=float`` is refused when the parser is built, so no flag can take a negative count, a huge size or NaN
    into the computation."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('allow_abbrev', False)  # --time_step is a typo, not --time_steps
        self.debug_flag = False  # (argparse's own -h goes through add_argument)
        super(ArgumentParser, self).__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        if kwargs.get('type') in (int, float):
            raise TypeError('%s: a numeric flag declares its range (type=int_range(low, high) or float_range(...))'
                            % '/'.join(a for a in args if isinstance(a, str)))
        self.debug_flag = self.debug_flag or '--debug' in args
        return super(ArgumentParser, self).add_argument(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        """Every command line (with its ``--help``) takes ``--debug``, which :func:`run_cli` reads: added here,
        last, once."""
        if self.add_help and not self.debug_flag:
            self.add_argument('--debug', action='store_true', help='show Python tracebacks')
        return super(ArgumentParser, self).parse_known_args(args, namespace)

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
        raise argparse.ArgumentTypeError('expected True or False, got %r' % text)
    return value


class StopRequest(object):
    """Ctrl-C (SIGINT) or SIGTERM as a request to stop at the next safe point of a long loop.

    Inside ``with StopRequest(notice) as stop:``, the first SIGINT or SIGTERM only sets ``stop.requested`` (and
    prints ``notice``); the loop checks it where stopping loses nothing -- after a training step, after a batch's
    logs are recorded -- and raises KeyboardInterrupt there.  A second signal raises KeyboardInterrupt at once.
    (A KeyboardInterrupt raised wherever the signal happens to land can be swallowed by library code, or leave a
    half-done step; a flag cannot.)  SIGTERM is handled too because a process started in the background of a
    shell (``&``) ignores SIGINT: ``kill PID`` -- and the table runner stopping its child -- then still ends it
    at a safe point.  Outside the main thread, or for a signal that is ignored, nothing changes.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, notice):
        self.notice = notice
        self.requested = False
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                if signal.getsignal(sig) not in (signal.SIG_IGN, None):
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt()
        self.requested = True
        sys.stderr.write('\n%s\n' % self.notice)
        sys.stderr.flush()

    def __exit__(self, *exc):
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}
        return False
