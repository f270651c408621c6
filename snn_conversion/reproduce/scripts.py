"""Running a workspace script in a child process, and reading the lines the table runner needs from its output.

Nothing here imports TensorFlow: the scripts do, in their own processes.
"""

from __future__ import absolute_import, division, print_function

import os
import re
import signal
import subprocess

from snn_conversion.core.records import AnnResult, CurvePoint
from snn_conversion.core.errors import UserError
from snn_conversion.core.provenance import now_utc

__all__ = ['run_script', 'child_reason', 'parse_epoch_line', 'parse_ann_line', 'parse_part_line', 'ann_result',
           'now_utc', 'quote_argv', 'end_child', 'interrupt_on_signals']

_EPOCH_LINE = re.compile(r'^epoch (\d+)/(\d+)\s+([0-9.]+)s\s+train loss (\S+)\s+val acc ([0-9.]+)%'
                         r'(?:\s+test acc ([0-9.]+)% \(observed\))?')
_PART_LINE = re.compile(r'^part of the data \(--num_train\): (\d+) of (\d+) training images')
_ANN_LINE = re.compile(r'^ANN (?:test|validation) accuracy \(.*, (\d+) images\): ([0-9.]+)%')


def quote_argv(argv):
    return ' '.join(a if re.match(r'^[A-Za-z0-9_./=:,+-]+$', a) else "'%s'" % a for a in argv)


def run_script(python, workspace, argv, log_file, on_line=None, what='the script'):
    """Run a workspace script (``argv[0]``, in ``workspace``) in a child process; its output goes to ``log_file``,
    each stdout line to ``on_line``.  A failure is a one-line error naming ``what`` and the log."""
    cmd = [python, argv[0]] + argv[1:]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get('TF_CPP_MIN_LOG_LEVEL', '3'), PYTHONUNBUFFERED='1')
    if not os.path.isdir(os.path.dirname(log_file)):
        os.makedirs(os.path.dirname(log_file))
    with open(log_file, 'a') as log:
        log.write('\n[%s] cd %s && python %s\n' % (now_utc(), os.path.basename(workspace), quote_argv(argv)))
        log.flush()
        start = log.tell()
        proc = subprocess.Popen(cmd, cwd=workspace, stdout=subprocess.PIPE, stderr=log, env=env,
                                universal_newlines=True)
        def read_lines():
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if on_line is not None:
                    on_line(line.rstrip('\n'))
        try:
            read_lines()
            rc = proc.wait()
        except KeyboardInterrupt:
            # a Ctrl-C at the terminal reached the child too (same process group) and it stops at its next safe
            # point; a SIGINT, SIGTERM or SIGHUP sent to this process alone (see :func:`interrupt_on_signals`) is
            # passed on as a SIGTERM; the child never outlives the runner (it would hold its lock), and what it
            # printed up to its end is still read (an epoch it saved meanwhile is recorded)
            end_child(proc)
            read_lines()
            raise
    if rc in (130, -signal.SIGINT, -signal.SIGTERM):
        raise KeyboardInterrupt('%s interrupted; run the same command again to resume' % what)
    if rc != 0:
        reason = child_reason(log_file, start)
        raise UserError('%s failed (exit %d)%s; see %s' % (what, rc, ': ' + reason if reason else '', log_file))


def child_reason(log_file, start=0):
    """The reason a workspace script gave for failing: its last ``error: ...`` line (the one line every script
    prints for a bad input) in ``log_file`` after byte ``start``, else the last line of a traceback; None when
    it gave none."""
    try:
        with open(log_file, 'rb') as f:
            f.seek(start)
            lines = [line.strip() for line in f.read().decode('utf-8', 'replace').splitlines() if line.strip()]
    except OSError:
        return None
    errors = [line[len('error: '):] for line in lines if line.startswith('error: ')]
    if errors:
        return errors[-1]
    if any(line.startswith('Traceback') for line in lines):
        return lines[-1]
    return None


def end_child(proc, grace=2.0, stop=120.0):
    """Let a child that got the signal too end; else ask it to stop at its next safe point (SIGTERM, which the
    scripts handle like Ctrl-C even when started in the background, where SIGINT is ignored); kill it if it has not
    within ``stop`` seconds."""
    for action, wait in ((None, grace), (signal.SIGTERM, stop), (signal.SIGKILL, None)):
        if action is not None:
            try:
                proc.send_signal(action)
            except OSError:  # already gone
                pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt('%s received' % signal.Signals(signum).name)


def interrupt_on_signals():
    """SIGTERM and SIGHUP (a closed terminal) end the runner as Ctrl-C does: its child is stopped, its records
    stay consistent, and the same command resumes."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)


def parse_epoch_line(line):
    """A training script's epoch line as a :class:`~snn_conversion.core.records.CurvePoint` (``test_acc`` None
    when not observed); None for any other line."""
    m = _EPOCH_LINE.match(line)
    if not m:
        return None
    return CurvePoint(epoch=int(m.group(1)), seconds=float(m.group(3)), loss=float(m.group(4)),
                      val_acc=float(m.group(5)), test_acc=float(m.group(6)) if m.group(6) else None)


def parse_part_line(line):
    """A training script's ``--num_train`` line as (training images used, of how many); None for any other line."""
    m = _PART_LINE.match(line)
    return (int(m.group(1)), int(m.group(2))) if m else None


def parse_ann_line(line):
    """An inference run's result line as (images, test acc %); None for any other line."""
    m = _ANN_LINE.match(line)
    return (int(m.group(1)), float(m.group(2))) if m else None


def ann_result(lines, seconds, digest, what, log_file):
    """The record's ``ann`` entry (an :class:`~snn_conversion.core.records.AnnResult`) from an inference run's parsed
    lines (:func:`parse_ann_line`)."""
    found = [f for f in lines if f]
    if not found:
        raise UserError('%s printed no test accuracy; see %s' % (what, log_file))
    n, accuracy = found[-1]
    return AnnResult(accuracy=accuracy, correct=int(round(accuracy * n / 100.0)), n=n, seconds=round(seconds, 1),
                     checkpoint_sha256=digest)
