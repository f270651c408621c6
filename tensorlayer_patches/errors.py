"""User-facing errors and flags: bad input gets one clear line on stderr and a non-zero exit, not a traceback."""

from __future__ import absolute_import, division, print_function

import ast
import sys

__all__ = ['UserError', 'run_cli', 'parse_bool']

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
    except KeyboardInterrupt:
        if '--debug' in args:
            raise
        sys.stderr.write('interrupted\n')
        raise SystemExit(130)


def parse_bool(text):
    """argparse type of the authors' boolean flags (``--resume True``, ``--use_ternary False``)."""
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, bool):
        raise ValueError('expected True or False, got %r' % text)
    return value
