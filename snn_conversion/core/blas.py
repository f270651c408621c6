"""Which OpenBLAS kernels numpy and scipy run: chosen before numpy loads, named after.

numpy 1.18.5 bundles OpenBLAS 0.3.7 and scipy 1.5.4 OpenBLAS 0.3.9 (requirements.txt).  Each picks its kernels
from the CPU's family and model when it loads, and both predate the CPUs they meet now: on a CPU newer than they
know they fall back to old kernels (on an AMD EPYC of family 0x19, Zen 3 / Zen 4, both run their SSE-only
'Barcelona' ones).  ``OPENBLAS_CORETYPE``, read once by each library as it loads, names the kernels instead.  The
AVX-512 'SkylakeX' kernels are never chosen here: in the releases of that time they gave wrong results (OpenBLAS
issues #1955, #2187: the AVX-512 DGEMM was disabled in 0.3.6 - 0.3.7 and rewritten in 0.3.8); the two pinned
builds have none anyway ('SkylakeX' runs their Haswell kernels).

:func:`select_kernels` -- called by every entry point that simulates (the ``Spiking_*`` scripts through
``spiking_utils``, ``reproduce.py``, ``benchmarks/snn_speed.py``) before numpy is imported -- sets it, where the
user has not, to the AVX2 kernels of the CPU's vendor: 'Zen' on AMD (and Hygon), 'Haswell' on the others, when
the CPU has AVX2 and FMA (``/proc/cpuinfo``'s flags; Linux lists AVX flags only where the OS saves the AVX
state).  Never 'SkylakeX'.  A user's own ``OPENBLAS_CORETYPE`` is left as it is (``OPENBLAS_CORETYPE=Barcelona``
brings the old kernels back).  Child processes inherit the variable, and with it ``SNN_OPENBLAS_CORETYPE``,
which tells them the value is this project's choice rather than the user's.  Once numpy is loaded nothing can
change its kernels any more: the call then changes nothing and says so.

The kernels change speed, not spikes: they differ only in the order in which BLAS sums, certified float32
decides as float64 does whatever that order (:mod:`snn_conversion.snn.backends.numba_backend`), and a float64
sum's order matters only within ~n 2^-53 of a threshold -- the margin within which the engines may already
disagree.  ``tests/snn/test_blas_kernels.py`` checks byte-identical logs under the old kernels and the selected
ones.  :func:`kernel_report` names the
kernels in use -- as the loaded libraries report them (threadpoolctl), not as requested -- for a run's header
line and its ``run.json``; it never goes into the logs.

Nothing here imports numpy (it has to act before numpy loads).
"""

from __future__ import absolute_import, division, print_function

import os
import sys

__all__ = ['CORETYPE', 'MARKER', 'read_cpuinfo', 'avx2_coretype', 'select_kernels', 'blas_libraries',
           'kernel_report']

CORETYPE = 'OPENBLAS_CORETYPE'
MARKER = 'SNN_OPENBLAS_CORETYPE'  # the value select_kernels chose (set with it, inherited with it)
CPUINFO = '/proc/cpuinfo'
# the AVX2 + FMA kernels of OpenBLAS 0.3.x by vendor; any other vendor's AVX2 + FMA CPU runs the Haswell ones
AVX2_KERNELS = {'AuthenticAMD': 'Zen', 'HygonGenuine': 'Zen', 'GenuineIntel': 'Haswell'}
OTHER_AVX2 = 'Haswell'
LIBRARY_NAMES = {'openblas': 'OpenBLAS', 'mkl': 'MKL', 'blis': 'BLIS'}
_STATE = {}  # 'how': this process's last select_kernels answer (on os.environ)


def read_cpuinfo(path=CPUINFO):
    """(vendor, flags) of the first processor listed in a ``/proc/cpuinfo`` file; (None, frozenset()) where
    there is no such file (not Linux) or it names no flags."""
    vendor, flags = None, frozenset()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'vendor_id' and vendor is None:
                    vendor = value.strip()
                elif key == 'flags':
                    flags = frozenset(value.split())
                    break
    except (IOError, OSError):
        return None, frozenset()
    return vendor, flags


def avx2_coretype(vendor, flags):
    """The OpenBLAS core type of the AVX2 kernels for a CPU with these ``vendor`` and ``flags``; None without
    AVX2 and FMA (the kernels need both)."""
    if not {'avx2', 'fma'} <= set(flags):
        return None
    return AVX2_KERNELS.get(vendor, OTHER_AVX2)


def _env_choice(environ):
    """How the kernels are chosen as far as ``environ`` says; None where ``OPENBLAS_CORETYPE`` is not set (an
    empty value is set: OpenBLAS then runs its 'Prescott' kernels)."""
    if CORETYPE not in environ:
        return None
    value = environ[CORETYPE]
    if value and environ.get(MARKER) == value:
        return 'selected: %s (AVX2)' % value
    return 'user: %s=%s' % (CORETYPE, value)


def select_kernels(environ=None, modules=None, cpuinfo=CPUINFO):
    """Set ``OPENBLAS_CORETYPE`` (in ``environ``, default ``os.environ``) to the CPU's AVX2 kernels, unless the
    user set it, the CPU lacks AVX2 or FMA, or numpy is already among ``modules`` (default ``sys.modules``):
    then nothing changes.  Returns how the kernels are chosen, e.g. 'selected: Zen (AVX2)', 'user:
    OPENBLAS_CORETYPE=Barcelona', 'build default (no AVX2 and FMA)', or 'build default: numpy was imported
    before the kernels could be chosen'; :func:`kernel_report` repeats it."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    how = _env_choice(environ)
    if how is None and 'numpy' in modules:
        how = 'build default: numpy was imported before the kernels could be chosen'
    elif how is None:
        core = avx2_coretype(*read_cpuinfo(cpuinfo))
        if core is None:
            how = 'build default (no AVX2 and FMA)'
        else:
            environ[CORETYPE] = environ[MARKER] = core
            how = 'selected: %s (AVX2)' % core
    if environ is os.environ:
        _STATE['how'] = how  # this process's answer, for kernel_report
    return how


def _owner(filepath):
    """Whose copy a library is: 'numpy' for ``.../numpy.libs/libopenblas...so``, else the file's name."""
    folder = os.path.basename(os.path.dirname(filepath))
    return folder[:-len('.libs')] if folder.endswith('.libs') else os.path.basename(filepath)


def blas_libraries(info=None):
    """[(library, version, kernels, whose)] of the BLAS libraries loaded in this process, e.g.
    ('OpenBLAS', '0.3.7', 'Zen', 'numpy'), from threadpoolctl's ``threadpool_info()`` (or ``info``, a list in
    its format); None where threadpoolctl is not installed or cannot tell."""
    if info is None:
        try:
            from threadpoolctl import threadpool_info
            info = threadpool_info()
        except Exception:  # not installed, or a library it cannot read: a diagnostic never stops a run
            return None
    out = []
    for lib in info:
        if lib.get('user_api') != 'blas':
            continue
        api = lib.get('internal_api', '?')
        out.append((LIBRARY_NAMES.get(api, api), lib.get('version') or '?', lib.get('architecture') or '?',
                    _owner(lib.get('filepath') or '?')))
    return out


def kernel_report(info=None, how=None):
    """The BLAS kernels in use and how they were chosen, one line: 'OpenBLAS 0.3.7 Zen (numpy), OpenBLAS 0.3.9
    Zen (scipy); selected: Zen (AVX2)'.  ``how``: default this process's :func:`select_kernels` answer, else
    what the environment says.  A selection that a library does not run (it loaded before) says so."""
    how = how or _STATE.get('how') or _env_choice(os.environ) or 'build default'
    libs = blas_libraries(info)
    if libs is None:
        return 'BLAS kernels unknown (threadpoolctl is not installed or cannot tell); %s' % how
    if not libs:
        return 'no BLAS library loaded yet; %s' % how
    in_use = ', '.join('%s %s %s (%s)' % lib for lib in libs)
    if how.startswith('selected: '):
        chosen = how[len('selected: '):].split()[0].lower()
        missed = [whose for name, _, kernels, whose in libs if name == 'OpenBLAS' and kernels.lower() != chosen]
        if missed:
            how += ', not in effect for %s (loaded before)' % ', '.join(missed)
    return '%s; %s' % (in_use, how)
