"""Settings that make CPU training faster without touching what the network computes, and one that does.

* :func:`tune_malloc` (always on for training): glibc's allocator keeps freed blocks instead of returning them
  to the system after every step (TensorFlow frees and allocates the same large buffers each step; with the
  default dynamic mmap threshold each of them is a fresh mmap and its page faults). Bit-identical results.
* :func:`use_xla` (``--xla True``): XLA auto-clustering on the CPU fuses the quantizer's elementwise ops and
  the optimizer's updates. Deterministic from run to run, but the fused kernels round differently in the last
  bits, so a network trained with it is not bit-identical to one trained without: a table's rows all use the
  same setting, and a resumed run must use the setting it was started with.
"""

from __future__ import absolute_import, division, print_function

import ctypes
import ctypes.util
import os

__all__ = ['XLA_FLAGS', 'MALLOC_SETTINGS', 'tune_malloc', 'use_xla', 'xla_enabled']

XLA_FLAGS = '--tf_xla_auto_jit=1 --tf_xla_cpu_global_jit'

# mallopt parameters (glibc's malloc.h) and the values set: 256 MiB mmap threshold, 1 GiB trim threshold,
# 64 MiB top pad -- every buffer of these networks' training steps stays in the heap
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
MALLOC_SETTINGS = ((_M_MMAP_THRESHOLD, 256 << 20), (_M_TRIM_THRESHOLD, 1 << 30), (_M_TOP_PAD, 64 << 20))


def tune_malloc():
    """Apply :data:`MALLOC_SETTINGS` with glibc's ``mallopt``; returns whether it could (not glibc: False)."""
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in MALLOC_SETTINGS)


def use_xla():
    """Turn on XLA auto-clustering for the sessions created from now on (before the first one is created)."""
    flags = os.environ.get('TF_XLA_FLAGS', '')
    if XLA_FLAGS not in flags:
        os.environ['TF_XLA_FLAGS'] = (flags + ' ' + XLA_FLAGS).strip()


def xla_enabled():
    """Whether this process trains with XLA auto-clustering (:func:`use_xla`)."""
    return XLA_FLAGS in os.environ.get('TF_XLA_FLAGS', '')
