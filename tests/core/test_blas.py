"""snn_conversion.core.blas: which OpenBLAS kernels are chosen (fake /proc/cpuinfo, environments and module
tables), how the kernels in use are named, and that the entry points choose before numpy loads."""
import ast
import importlib.util
import os
import subprocess
import sys
import sysconfig

import pytest

from conftest import ROOT
from snn_conversion.core import blas

INTEL_AVX512 = ('GenuineIntel', 'fpu sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl')
AMD_ZEN4 = ('AuthenticAMD', 'fpu sse sse2 avx avx2 fma avx512f avx512vl')
HYGON = ('HygonGenuine', 'fpu sse sse2 avx avx2 fma')
OTHER = ('CentaurHauls', 'fpu sse sse2 avx avx2 fma')
NO_AVX2 = ('GenuineIntel', 'fpu sse sse2 sse4_2 avx')
NO_FMA = ('AuthenticAMD', 'fpu sse sse2 avx avx2')
STDLIB = sysconfig.get_paths()['stdlib']


def _cpuinfo(tmp_path, vendor, flags, processors=2):
    text = ''.join('processor\t: %d\nvendor_id\t: %s\ncpu family\t: 6\nflags\t\t: %s\n\n' % (i, vendor, flags)
                   for i in range(processors))
    path = tmp_path / 'cpuinfo'
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize('cpu, core', [(INTEL_AVX512, 'Haswell'), (AMD_ZEN4, 'Zen'), (HYGON, 'Zen'),
                                       (OTHER, 'Haswell'), (NO_AVX2, None), (NO_FMA, None)])
def test_avx2_kernels_by_vendor_never_avx512(tmp_path, cpu, core):
    vendor, flags = blas.read_cpuinfo(_cpuinfo(tmp_path, *cpu))
    assert vendor == cpu[0] and 'sse2' in flags
    assert blas.avx2_coretype(vendor, flags) == core  # an AVX-512 CPU gets the AVX2 kernels, never 'SkylakeX'


def test_no_cpuinfo_means_no_choice(tmp_path):
    assert blas.read_cpuinfo(str(tmp_path / 'absent')) == (None, frozenset())
    assert blas.avx2_coretype(None, frozenset()) is None


@pytest.mark.parametrize('cpu, core', [(AMD_ZEN4, 'Zen'), (INTEL_AVX512, 'Haswell')])
def test_selection_sets_the_variable_and_its_marker(tmp_path, cpu, core):
    env = {'PATH': '/bin'}
    how = blas.select_kernels(env, {'os': os}, _cpuinfo(tmp_path, *cpu))
    assert how == 'selected: %s (AVX2)' % core
    assert env == {'PATH': '/bin', 'OPENBLAS_CORETYPE': core, 'SNN_OPENBLAS_CORETYPE': core}
    # a child process inherits both: the choice is still this project's, not the user's
    assert blas.select_kernels(dict(env), {}, _cpuinfo(tmp_path, *cpu)) == how


def test_without_avx2_nothing_is_set(tmp_path):
    env = {}
    assert blas.select_kernels(env, {}, _cpuinfo(tmp_path, *NO_AVX2)) == 'build default (no AVX2 and FMA)'
    assert env == {}


@pytest.mark.parametrize('value', ['Barcelona', 'SkylakeX', 'Zen', ''])
def test_the_users_choice_is_left_as_it_is(tmp_path, value):
    env = {'OPENBLAS_CORETYPE': value}
    how = blas.select_kernels(env, {}, _cpuinfo(tmp_path, *AMD_ZEN4))
    assert how == 'user: OPENBLAS_CORETYPE=%s' % value and env == {'OPENBLAS_CORETYPE': value}
    env = {'OPENBLAS_CORETYPE': value, 'SNN_OPENBLAS_CORETYPE': 'Haswell'}  # the user's value over a parent's
    assert blas.select_kernels(env, {}, _cpuinfo(tmp_path, *AMD_ZEN4)).startswith('user: ')


def test_numpy_already_loaded_changes_nothing_and_says_so(tmp_path):
    env = {}
    how = blas.select_kernels(env, {'numpy': object()}, _cpuinfo(tmp_path, *AMD_ZEN4))
    assert env == {} and how == 'build default: numpy was imported before the kernels could be chosen'


INFO = [{'user_api': 'blas', 'internal_api': 'openblas', 'version': '0.3.7', 'architecture': 'Zen',
         'filepath': '/venv/site-packages/numpy.libs/libopenblasp-r0-34a18dc3.3.7.so'},
        {'user_api': 'openmp', 'internal_api': 'openmp', 'version': None, 'filepath': '/usr/lib/libgomp.so.1'},
        {'user_api': 'blas', 'internal_api': 'openblas', 'version': '0.3.9', 'architecture': 'Zen',
         'filepath': '/venv/site-packages/scipy.libs/libopenblasp-r0-085ca80a.3.9.so'}]


def test_report_names_each_librarys_kernels_and_the_choice():
    assert blas.kernel_report(INFO, 'selected: Zen (AVX2)') == \
        'OpenBLAS 0.3.7 Zen (numpy), OpenBLAS 0.3.9 Zen (scipy); selected: Zen (AVX2)'
    old = [dict(INFO[0], architecture='Barcelona')] + INFO[1:]
    assert blas.kernel_report(old, 'selected: Zen (AVX2)').endswith(
        'selected: Zen (AVX2), not in effect for numpy (loaded before)')
    mkl = [{'user_api': 'blas', 'internal_api': 'mkl', 'version': '2020.0', 'architecture': None,
            'filepath': '/usr/lib/libmkl_rt.so'}]
    assert blas.kernel_report(mkl, 'build default') == 'MKL 2020.0 ? (libmkl_rt.so); build default'
    assert blas.kernel_report([], 'build default') == 'no BLAS library loaded yet; build default'


LIBRARY_FOLDERS = ('tests', 'snn_conversion', 'tensorlayer_patches', 'figs', 'benchmarks')


def _entry_points():
    """The files that must choose before numpy loads: every workspace script that simulates (through
    spiking_utils, which chooses as it loads), spiking_utils itself, reproduce.py and the speed benchmark."""
    scripts = []
    for folder in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, folder)
        if os.path.isdir(path) and not folder.startswith('.') and folder not in LIBRARY_FOLDERS:
            scripts += [os.path.join(path, f) for f in sorted(os.listdir(path))
                        if f.endswith('.py') and 'snn_main' in open(os.path.join(path, f)).read()]
    return scripts + [os.path.join(ROOT, f) for f in ('spiking_utils.py', 'reproduce.py', 'benchmarks/snn_speed.py')]


def _harmless(name):
    """Whether importing ``name`` loads no numpy: Python's own modules and the chooser itself."""
    if name == 'snn_conversion.core.blas' or name in sys.builtin_module_names:
        return True
    spec = importlib.util.find_spec(name.split('.')[0])
    origin = getattr(spec, 'origin', None) or ''
    return origin in ('built-in', 'frozen') or (origin.startswith(STDLIB) and 'site-packages' not in origin)


def chooses_before_numpy(source):
    """Whether a module's top-level statements reach select_kernels() (or, in a script, the import of
    spiking_utils, which calls it) having imported nothing but Python's own modules."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                and getattr(node.value.func, 'id', None) == 'select_kernels':
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            if names == ['spiking_utils']:
                return True
            if not all(_harmless(n) for n in names):
                return False
    return False


def test_every_entry_point_chooses_before_numpy_loads():
    files = _entry_points()
    spiking = [f for f in files if os.path.basename(f).startswith('Spiking_')]
    assert len(spiking) >= 13 and any('inference_k1_smlp' in f for f in files)
    late = [os.path.relpath(f, ROOT) for f in files if not chooses_before_numpy(open(f).read())]
    assert not late, 'numpy may load before the BLAS kernels are chosen in %s' % late
    # the check can fail
    assert not chooses_before_numpy('import os\nimport numpy as np\nfrom spiking_utils import snn_main\n')
    assert not chooses_before_numpy('import os\nfrom snn_conversion.core.blas import select_kernels\n')
    assert not chooses_before_numpy('import time\nfrom snn_conversion.core import errors\nselect_kernels()\n')


def test_spiking_utils_selects_before_numpy_in_a_fresh_process():
    """The real thing: importing spiking_utils first sets the variable this CPU calls for, and the libraries
    numpy and scipy load run those kernels."""
    code = ('import os, sys; sys.path.insert(0, %r); import spiking_utils, scipy.linalg; '
            'print(os.environ.get("OPENBLAS_CORETYPE")); print(spiking_utils.kernel_report())' % ROOT)
    env = {k: v for k, v in os.environ.items() if k not in (blas.CORETYPE, blas.MARKER)}
    out = subprocess.run([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout.splitlines()
    core = blas.avx2_coretype(*blas.read_cpuinfo())
    assert out[0] == str(core)
    in_use, how = out[1].split('; ', 1)
    if core is None:
        assert how == 'build default (no AVX2 and FMA)'
    elif not in_use.startswith('BLAS kernels unknown'):  # threadpoolctl present: the kernels in use
        assert how == 'selected: %s (AVX2)' % core
        libs = [lib.split() for lib in in_use.split(', ')]
        assert {lib[3] for lib in libs} >= {'(numpy)', '(scipy)'}
        assert all(lib[2] == core for lib in libs if lib[0] == 'OpenBLAS')


def test_without_threadpoolctl_the_kernels_are_unknown_not_guessed(monkeypatch):
    monkeypatch.setitem(sys.modules, 'threadpoolctl', None)  # import threadpoolctl -> ImportError
    assert blas.blas_libraries() is None
    assert blas.kernel_report(how='selected: Zen (AVX2)') == \
        'BLAS kernels unknown (threadpoolctl is not installed or cannot tell); selected: Zen (AVX2)'
