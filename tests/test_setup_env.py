"""The environment script finds Python 3.7 ($PYTHON first) and explains what to do when it cannot."""
import os
import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPT = os.path.join(ROOT, 'snn_conversion', 'setup_env.sh')


def _find(python):
    env = dict(os.environ, PYTHON=python)
    return subprocess.run(['sh', SCRIPT, 'find-python'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def test_python_env_var_is_honoured():
    p = _find(sys.executable)  # the test suite itself runs on Python 3.7
    assert p.returncode == 0 and p.stdout.strip() == sys.executable


def test_wrong_python_is_refused_with_instructions(tmp_path):
    fake = tmp_path / 'python'
    fake.write_text('#!/bin/sh\nexit 1\n')
    fake.chmod(0o755)
    p = _find(str(fake))
    assert p.returncode != 0 and 'is not a working Python 3.7' in p.stderr


def test_requirements_are_pinned():
    lines = [l.strip() for l in open(os.path.join(ROOT, 'requirements.txt')) if l.strip() and not l.startswith('#')]
    assert all('==' in l for l in lines)
    pins = dict(l.split('==') for l in lines)
    assert pins['tensorflow-gpu'] == '1.15.5' and pins['tensorlayer'] == '1.11.1'
    assert tuple(int(v) for v in pins['protobuf'].split('.')[:2]) < (3, 21)


def _setup(tmp_path, project='project', **popen):
    """The set-up script on a venv of its own whose pinned set is setuptools alone (the version the venv module
    bundles: nothing to download), and whose project is a one-module one with a setup.py (installed in editable
    mode by that setuptools: nothing to download either)."""
    import ensurepip
    req = tmp_path / 'requirements.txt'
    req.write_text('setuptools==%s\n' % ensurepip._SETUPTOOLS_VERSION)
    project = tmp_path / project
    if not project.is_dir():
        project.mkdir()
        (project / 'setup.py').write_text("from setuptools import setup\n"
                                          "setup(name='tiny-project', version='0', py_modules=['tiny_project'])\n")
        (project / 'tiny_project.py').write_text('')
    env = dict(os.environ, PYTHON=sys.executable, VENV=str(tmp_path / 'venv'), REQUIREMENTS=str(req),
               SETUP_IMPORTS='setuptools', PROJECT=str(project), PROJECT_IMPORTS='tiny_project', PIP_NO_INDEX='1')
    env.pop('PYTHONPATH', None)
    return subprocess.Popen(['sh', SCRIPT, 'venv'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, start_new_session=True, **popen)


def _imports_from_root(python, code):
    """``python -c code`` run from / without $PYTHONPATH: what the environment itself can import."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    return subprocess.run([str(python), '-c', code], cwd='/', env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


def _complete(tmp_path):
    venv = tmp_path / 'venv'
    pip = subprocess.run([str(venv / 'bin' / 'python'), '-m', 'pip', '--version'], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    project = _imports_from_root(venv / 'bin' / 'python', 'import tiny_project')
    return pip.returncode == 0 and (venv / '.requirements.sha256').is_file() and project.returncode == 0


def test_an_interrupted_set_up_is_repaired_by_the_next_run(tmp_path):
    """Killed at several points of its work (a venv without pip, a half-done install), the set-up script's next
    run leaves a complete environment, the project installed; a venv that lost pip afterwards is rebuilt."""
    import signal
    import time
    # killed one after another, each run from the state the previous kill left: inside the venv module (no pip
    # yet), later in the environment's set-up, inside the project's install; each run gets as far as its kill
    # point (it repairs what the kill before it left), and the run after the last kill completes
    for line, delay in (('setting up', 0.3), ('setting up', 1.0), ('installing the project', 0.2)):
        proc = _setup(tmp_path)
        for printed in iter(proc.stdout.readline, ''):
            if printed.startswith(line):
                break
        else:
            raise AssertionError((line, 'never printed', proc.communicate()))
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL, (line, delay)
    again = _setup(tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and 'installing the project' in out, (out, err)
    assert _complete(tmp_path)
    # complete: the next run does nothing
    quiet = _setup(tmp_path)
    out, _ = quiet.communicate(timeout=300)
    assert quiet.returncode == 0 and 'setting up' not in out and 'installing the project' not in out, out
    # the packages in place but not the project (an environment made before the project was installable): only
    # the project is installed
    python = str(tmp_path / 'venv' / 'bin' / 'python')
    subprocess.run([python, '-m', 'pip', 'uninstall', '-y', '-q', 'tiny-project'], check=True)
    assert _imports_from_root(python, 'import tiny_project').returncode != 0
    again = _setup(tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and 'setting up' not in out and 'installing the project' in out, (out, err)
    assert _complete(tmp_path)
    # installed from another checkout (an environment two checkouts share): left as it is, with a note
    other = _setup(tmp_path, project='other checkout')
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0 and 'installing the project' not in out, (out, err)
    assert 'imports the project from %s, not from %s' % (tmp_path / 'project', tmp_path / 'other checkout') in err
    # pip removed (the state a kill during the venv module's ensurepip leaves): rebuilt
    import shutil
    import glob
    for path in glob.glob(str(tmp_path / 'venv' / 'lib' / 'python3*' / 'site-packages' / 'pip')):
        shutil.rmtree(path)
    rebuilt = _setup(tmp_path)
    out, err = rebuilt.communicate(timeout=300)
    assert rebuilt.returncode == 0 and 'is incomplete' in out and 'building it again' in out, (out, err)
    assert _complete(tmp_path)


def test_the_project_is_installed_and_imports_from_any_folder():
    """`make venv` installs the project (pyproject.toml) in editable mode: its libraries import from / with
    no checkout on the path and without loading TensorFlow, the workspace scripts run from their folders, and
    a workspace's own figs/ folder does not hide the figure package."""
    names = ('spiking_utils', 'snn_conversion', 'tensorlayer_patches', 'figs')
    found = _imports_from_root(sys.executable, 'import importlib.util, sys; '
                                               'sys.exit(0 if importlib.util.find_spec("spiking_utils") else 3)')
    if found.returncode == 3:
        pytest.skip('the project is not installed in this environment (make venv installs it)')
    p = _imports_from_root(sys.executable, 'import sys; import %s; '
                                           'print(sorted(m for m in ("tensorflow", "tensorlayer") if m in sys.modules))'
                           % ', '.join(names))
    assert p.returncode == 0 and p.stdout.strip() == '[]', p.stdout + p.stderr
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    for folder, args in (('FashionMNIST', ['Spiking_MLP_FashionMNIST.py', '--help']),
                         (os.path.join('MNIST', 'figs'), ['sops.py', '--help']),
                         # the figure package, not FashionMNIST/figs/ (its thin scripts, the figures' output)
                         ('FashionMNIST', ['-c', 'import figs.accuracy_speed as a; assert a.draw'])):
        p = subprocess.run([sys.executable] + args, cwd=os.path.join(ROOT, folder), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        assert p.returncode == 0, (folder, args, p.stderr[-2000:])
