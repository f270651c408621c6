"""Worker processes sharing each batch: images are independent, so a batch split into sub-batches and merged
gives exactly the trace of one process.  Each worker gets one BLAS (and numba) thread and runs in a process group of
its own, ignoring Ctrl-C: a signal sent to the parent's group (Ctrl-C in a terminal, ``kill -TERM -PGID``,
``timeout``) reaches the parent alone, which stops at its next safe point and closes the pool -- a worker killed
with a task in hand would leave the parent waiting for that task for ever.  (When the parent dies, its workers see
their task pipe close and exit.)"""

from __future__ import absolute_import, division, print_function

import os

import numpy as np

__all__ = ['start_pool', 'stop_pool', 'simulate_split']

BLAS_THREAD_VARS = ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMBA_NUM_THREADS')
_WORKER_NET = None  # the network a worker process simulates with


def _worker_init(net):
    import signal
    global _WORKER_NET
    _WORKER_NET = net
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.setpgrp()  # out of the parent's process group: signals to that group are the parent's to handle


def _worker_simulate(args):
    encoded, time_steps = args
    return _WORKER_NET.simulate_encoded(encoded, time_steps)


def start_pool(workers, net):
    """``workers`` spawned processes, each holding a copy of ``net`` (without simulation state)."""
    import multiprocessing

    saved = {key: os.environ.get(key) for key in BLAS_THREAD_VARS}
    os.environ.update({key: '1' for key in BLAS_THREAD_VARS})  # read by the workers' numpy at import
    try:
        return multiprocessing.get_context('spawn').Pool(workers, _worker_init, (net,))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def stop_pool(pool):
    if pool is not None:
        pool.close()
        pool.join()


def simulate_split(pool, workers, encoded, time_steps):
    """The traces of ``encoded`` split into ``workers`` consecutive sub-batches, simulated by the pool."""
    chunks = np.array_split(encoded, min(workers, len(encoded)))
    return pool.map(_worker_simulate, [(c, time_steps) for c in chunks])
