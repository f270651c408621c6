"""The environment script finds Python 3.7 ($PYTHON first) and explains what to do when it cannot."""
import os
import subprocess
import sys

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
