"""Worker processes sharing each batch: images are independent, so a batch split into sub-batches and merged
gives exactly the trace of one process.  Each worker gets one BLAS (and numba) thread and runs in a process group of
its own, ignoring Ctrl-C: a signal sent to the parent's group (Ctrl-C in a terminal, ``kill -TERM -PGID``,
``timeout``) reaches the parent alone, which stops at its next safe point and closes the pool -- a worker killed
with a task in hand would leave the parent waiting for that task for ever.  (When the parent dies, its workers see
their task pipe close and exit.)

The pool's queues are named POSIX semaphores, created in the parent and registered with multiprocessing's
semaphore tracker; only the parent's Python code unlinks them (when the pool is stopped and freed, or at the
interpreter's exit).  A parent ended by a signal's default action while a pool is open would skip both, and the
tracker would print "There appear to be N leaked semaphores" at shutdown.  So, while a pool is open, SIGTERM (when
its action is the default one) raises KeyboardInterrupt in the parent -- as inside the scripts' loops, where
:class:`~snn_conversion.core.errors.StopRequest` turns it into a stop at the next safe point -- and the pool is
started with SIGINT and SIGTERM blocked: it is never left half-started, a signal that came meanwhile is delivered
once it is up (and it is stopped again), and the workers are born with both blocked until they have left the
parent's process group (a Ctrl-C then does not end a starting worker with a traceback).  Only SIGKILL still leaves
the semaphores to the tracker."""

from __future__ import absolute_import, division, print_function

import os
import signal
import threading

import numpy as np

try:  # signal's C module: it leaves handlers as they are.  signal.signal and signal.getsignal turn a Python function
    # into an enum by raising and catching a ValueError, whose traceback keeps the callers' frames -- a stopped pool
    # with them, and so its semaphores -- until the next garbage collection
    import _signal as _raw_signal
except ImportError:  # pragma: no cover
    _raw_signal = signal

__all__ = ['start_pool', 'stop_pool', 'simulate_split']

BLAS_THREAD_VARS = ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMBA_NUM_THREADS')
_WORKER_NET = None  # the network a worker process simulates with
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_SIGTERM = {'pools': 0, 'previous': None}  # open pools holding SIGTERM; its action before the first


def _worker_init(net):
    global _WORKER_NET
    _WORKER_NET = net
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops a Ctrl-C that came while the worker started
    os.setpgrp()  # out of the parent's process group: signals to that group are the parent's to handle
    _set_blocked(signal.SIG_UNBLOCK)  # blocked since the parent started the pool; a pending SIGTERM ends us here


def _worker_simulate(args):
    encoded, time_steps = args
    return _WORKER_NET.simulate_encoded(encoded, time_steps)


def _set_blocked(how):
    """Block or unblock SIGINT and SIGTERM in this thread (and the processes it starts); where there are no
    signal masks (Windows), nothing."""
    if hasattr(signal, 'pthread_sigmask'):
        signal.pthread_sigmask(how, _STOP_SIGNALS)


def _sigterm_interrupts(signum, frame):
    raise KeyboardInterrupt()


def _hold_sigterm():
    _SIGTERM['pools'] += 1
    if (_SIGTERM['pools'] == 1 and threading.current_thread() is threading.main_thread()
            and _raw_signal.getsignal(signal.SIGTERM) == signal.SIG_DFL):
        _SIGTERM['previous'] = _raw_signal.signal(signal.SIGTERM, _sigterm_interrupts)


def _release_sigterm():
    _SIGTERM['pools'] -= 1
    if _SIGTERM['pools'] == 0 and _SIGTERM['previous'] is not None \
            and threading.current_thread() is threading.main_thread():
        if _raw_signal.getsignal(signal.SIGTERM) is _sigterm_interrupts:  # else someone else's: theirs to undo
            _raw_signal.signal(signal.SIGTERM, _SIGTERM['previous'])
        _SIGTERM['previous'] = None


def start_pool(workers, net):
    """``workers`` spawned processes, each holding a copy of ``net`` (without simulation state).  Stop it with
    :func:`stop_pool`.  A SIGINT or SIGTERM that comes while the pool starts is raised (KeyboardInterrupt) once it
    is up, after stopping it."""
    import multiprocessing

    saved = {key: os.environ.get(key) for key in BLAS_THREAD_VARS}
    os.environ.update({key: '1' for key in BLAS_THREAD_VARS})  # read by the workers' numpy at import
    pool = None
    try:
        _set_blocked(signal.SIG_BLOCK)
        try:
            pool = multiprocessing.get_context('spawn').Pool(workers, _worker_init, (net,))
            _hold_sigterm()
            pool._snn_holds_sigterm = True
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            _set_blocked(signal.SIG_UNBLOCK)  # a signal that came meanwhile is handled here
    except BaseException:
        stop_pool(pool, terminate=True)
        raise
    return pool


def stop_pool(pool, terminate=False):
    """Let the workers finish their tasks and end (``terminate``: end them at once); an exception meanwhile (a
    further Ctrl-C) ends them at once before it propagates."""
    if pool is None:
        return
    try:
        try:
            if terminate:
                pool.terminate()
            else:
                pool.close()
                pool.join()
        except BaseException:
            pool.terminate()
            raise
    finally:
        if getattr(pool, '_snn_holds_sigterm', False):
            pool._snn_holds_sigterm = False
            _release_sigterm()


def simulate_split(pool, workers, encoded, time_steps):
    """The traces of ``encoded`` split into ``workers`` consecutive sub-batches, simulated by the pool."""
    chunks = np.array_split(encoded, min(workers, len(encoded)))
    return pool.map(_worker_simulate, [(c, time_steps) for c in chunks])
