"""Every command and Python block of README.md and docs/ runs as written, so that none can rot.

A fenced ```sh or ```python block is tested as the HTML comment on the line before it says:

* ``<!-- test: run -->`` (also the default): run as written -- a Python block with the venv's python from the
  repository's root, a shell block with ``sh -e`` there, ``python`` being the venv's;
* ``<!-- test: help -->``: long commands (trainings, table runs): each command line runs with ``--help`` appended
  (a ``make`` target with ``make -n``), and every ``--flag`` the line gives must be one the help names;
* ``<!-- test: smoke -->``: each ``python reproduce.py ...`` line runs with ``--smoke`` (the row's whole path at
  a tiny budget);
* ``<!-- test: skip REASON -->``: not run; the reason is required.

A measured number in the prose (a percentage, a time, a size, a rate) must be generated or dated.
Blocks run in a copy of the repository made of symbolic links (``cp -as``), so what they write stays out of the
checkout; each block runs once per session.
"""

from __future__ import absolute_import, division, print_function

import collections
import glob
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ('run', 'help', 'smoke', 'skip')
LANGUAGES = {'sh': 'sh', 'bash': 'sh', 'shell': 'sh', 'console': 'sh', 'python': 'python', 'py': 'python'}
TIMEOUT = 300

Block = collections.namedtuple('Block', 'path line language mode reason text')


def documents(root=ROOT):
    """README.md and every Markdown file under docs/."""
    return [os.path.join(root, 'README.md')] + sorted(
        glob.glob(os.path.join(root, 'docs', '**', '*.md'), recursive=True))


def parse_blocks(text, path='doc.md'):
    """The fenced code blocks of ``text`` in a language of :data:`LANGUAGES`, with their test mode."""
    lines = text.split('\n')
    out, i = [], 0
    while i < len(lines):
        fence = re.match(r'^```\s*(\w*)\s*$', lines[i])
        if not fence:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith('```'):
            end += 1
        language = LANGUAGES.get(fence.group(1).lower())
        if language:
            before = [l for l in lines[:i] if l.strip()][-1:] or ['']
            marker = re.match(r'^<!--\s*test:\s*(\S+)\s*(.*?)\s*-->$', before[0].strip())
            mode, reason = (marker.group(1), marker.group(2)) if marker else ('run', '')
            out.append(Block(path, i + 1, language, mode, reason, '\n'.join(lines[i + 1:end]) + '\n'))
        i = end + 1
    return out


def all_blocks(root=ROOT):
    out = []
    for path in documents(root):
        with open(path) as f:
            out.extend(parse_blocks(f.read(), os.path.relpath(path, root)))
    return out


def command_lines(text):
    """The shell block's commands: continuation lines joined, comments dropped, ``cd DIR`` lines kept."""
    joined = re.sub(r'\\\n\s*', ' ', text)
    out = []
    for line in joined.split('\n'):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        out.append(shlex.split(line, comments=True))
    return out


def _env():
    env = dict(os.environ)
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def _run(argv, cwd, timeout=TIMEOUT, stdin=None):
    p = subprocess.run(argv, cwd=cwd, env=_env(), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=timeout)
    return p.returncode, p.stdout


def _split_commands(words):
    """``cd A && python x.py --f 1`` -> [['cd', 'A'], ['python', 'x.py', '--f', '1']]."""
    out, current = [], []
    for w in words:
        if w in ('&&', ';', '||'):
            out.append(current)
            current = []
        else:
            current.append(w)
    return [c for c in out + [current] if c]


def check_help(block, sandbox):
    """Problems of a help-mode block: a script that does not answer ``--help``, a flag its help does not name."""
    problems, cwd = [], sandbox
    for words in command_lines(block.text):
        for cmd in _split_commands(words):
            cmd = [w for w in cmd if not re.match(r'^[A-Z_][A-Z0-9_]*=', w)]  # VAR=value prefixes
            if cmd[0] == 'cd':
                cwd = os.path.normpath(os.path.join(cwd, cmd[1]))
                if not os.path.isdir(cwd):
                    problems.append('%s: no folder %s' % (' '.join(cmd), cmd[1]))
                continue
            if cmd[0] == 'make':
                argv = ['make', '-n'] + cmd[1:]
            elif cmd[0] == 'python':
                argv = cmd + ['--help']  # the line's own arguments parsed first: a bad value fails
            else:
                problems.append('%s: not a python or make command' % ' '.join(cmd))
                continue
            rc, out = _run(argv, cwd, timeout=120)
            if rc != 0:
                problems.append('%s: exit %d\n%s' % (' '.join(argv), rc, out[-2000:]))
                continue
            if cmd[0] == 'python':
                flags = [w.split('=')[0] for w in cmd if w.startswith('--')]
                problems += ['%s: its --help does not name %s' % (' '.join(cmd[:2]), f) for f in flags
                             if not re.search(re.escape(f) + r'\b', out)]
    return problems


def run_block(block, sandbox):
    """(exit code, output) of a run- or smoke-mode block, run in ``sandbox``."""
    if block.language == 'python':
        return _run(['python', '-'], sandbox, stdin=block.text)
    text = block.text
    if block.mode == 'smoke':
        lines = [' '.join(shlex.quote(w) for w in words) + (' --smoke' if 'reproduce.py' in words else '')
                 for words in command_lines(text)]
        text = '\n'.join(lines) + '\n'
    return _run(['sh', '-e', '-c', text], sandbox)


def _fashion_mnist():
    from snn_conversion.data.locate import find_dataset_dir
    try:
        find_dataset_dir('fashion_mnist', ('test',), None)
        return True
    except Exception:
        return False


@pytest.fixture(scope='session')
def sandbox(tmp_path_factory):
    """A copy of the repository made of symbolic links: what a block writes lands here."""
    dest = str(tmp_path_factory.mktemp('docs') / 'repo')
    os.mkdir(dest)
    for name in os.listdir(ROOT):
        if name in ('.git', '.pytest_cache'):
            continue
        subprocess.check_call(['cp', '-as', os.path.join(ROOT, name), dest])
    shared = os.path.join(os.path.dirname(ROOT), 'shared')
    if os.path.isdir(shared):  # the development checkout's ../shared, as the docs' commands name it
        os.symlink(shared, os.path.join(os.path.dirname(dest), 'shared'))
    return dest


BLOCKS = all_blocks()


def _ids(blocks):
    return ['%s:%d' % (b.path, b.line) for b in blocks]


def test_blocks_are_marked_with_known_modes():
    assert BLOCKS, 'no code blocks found in README.md and docs/'
    bad = ['%s:%d: %s' % (b.path, b.line, b.mode) for b in BLOCKS if b.mode not in MODES]
    bad += ['%s:%d: skip without a reason' % (b.path, b.line) for b in BLOCKS if b.mode == 'skip' and not b.reason]
    bad += ['%s:%d: --smoke applies to shell blocks only' % (b.path, b.line) for b in BLOCKS
            if b.mode in ('help', 'smoke') and b.language != 'sh']
    assert not bad, bad


RUN = [b for b in BLOCKS if b.mode in ('run', 'smoke')]
HELP = [b for b in BLOCKS if b.mode == 'help']


@pytest.mark.parametrize('block', RUN, ids=_ids(RUN))
def test_block_runs(block, sandbox):
    if re.search('fashion', block.text, re.I) and not _fashion_mnist():
        pytest.skip('Fashion-MNIST is not installed (`make data`, or apt-get install dataset-fashion-mnist)')
    rc, out = run_block(block, sandbox)
    assert rc == 0, '%s:%d failed (exit %d):\n%s' % (block.path, block.line, rc, out[-3000:])


@pytest.mark.parametrize('block', HELP, ids=_ids(HELP))
def test_block_commands_exist(block, sandbox):
    problems = check_help(block, sandbox)
    assert not problems, '%s:%d:\n%s' % (block.path, block.line, '\n'.join(problems))


def test_a_broken_snippet_fails(sandbox):
    """The checks can fail: a flag no script has, a Python block that raises, a folder that is not there."""
    doc = ('<!-- test: help -->\n```sh\ncd FashionMNIST && python Spiking_MLP_FashionMNIST.py --no_such_flag 1\n'
           '```\n\n```python\nimport spiking_utils\nspiking_utils.no_such_function()\n```\n\n'
           '<!-- test: help -->\n```sh\ncd NoSuchWorkspace\n```\n')
    helps, python, missing = parse_blocks(doc)
    assert (helps.mode, python.mode, python.language) == ('help', 'run', 'python')
    assert any('--no_such_flag' in p for p in check_help(helps, sandbox))
    assert run_block(python, sandbox)[0] != 0
    assert check_help(missing, sandbox)


def test_readme_is_short():
    with open(os.path.join(ROOT, 'README.md')) as f:
        assert len(f.read().split('\n')) <= 200


def test_docs_prose_lines_are_short():
    """Prose (outside code blocks, tables and generated sections) stays under 120 characters a line."""
    long_lines = []
    for path in documents():
        with open(path) as f:
            lines = f.read().split('\n')
        fenced = generated = False
        for n, line in enumerate(lines, 1):
            if line.startswith('```'):
                fenced = not fenced
            elif line.startswith('<!-- BEGIN generated') or line.startswith('<!-- END generated'):
                generated = line.startswith('<!-- BEGIN')
            elif not fenced and not generated and not line.startswith('|') and not line.startswith('<!--') and len(line) >= 120:
                long_lines.append('%s:%d' % (os.path.relpath(path, ROOT), n))
    assert not long_lines, long_lines


def test_links_resolve():
    """Every relative link of README.md and docs/ names a file or folder that exists."""
    broken = []
    for path in documents():
        with open(path) as f:
            text = f.read()
        for target in re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', text):
            if '://' in target:
                continue
            if not os.path.exists(os.path.join(os.path.dirname(path), target)):
                broken.append('%s: %s' % (os.path.relpath(path, ROOT), target))
    assert not broken, broken


MEASURED = re.compile(r'\d[\d,.]*\s?(?:%|s\b|ms\b|min\b|h\b|MB\b|MiB\b|GFLOP/s|GSOP/s|core-hours|×)')
DATE = re.compile(r'20\d\d-\d\d-\d\d')


def _prose_paragraphs(text):
    """The paragraphs of a document outside code blocks and generated sections, inline code taken out (a
    setting written as code, `256 MiB`, is not a measurement)."""
    out, current, fenced, generated = [], [], False, False
    for line in text.split('\n'):
        if line.startswith('```'):
            fenced = not fenced
        elif re.match(r'<!-- (BEGIN generated|results:begin)', line):
            generated = True
        elif re.match(r'<!-- (END generated|results:end)', line):
            generated = False
        elif not line.strip():
            out.append(re.sub(r'`[^`]*`', '', '\n'.join(current)))
            current = []
        elif not fenced and not generated:
            current.append(line)
    return out + [re.sub(r'`[^`]*`', '', '\n'.join(current))]


def test_measured_numbers_are_dated():
    """A measured number (a percentage, a time, a size, a rate) in README.md or docs/ is generated (inside the
    generated sections) or dated: its paragraph, or the document's opening lines, name the day it was measured."""
    sample = _prose_paragraphs('An epoch took 55 s.\n\nA `256 MiB` setting.\n\n```sh\nsleep 5 s\n```\n')
    assert [bool(MEASURED.search(p)) for p in sample if p.strip()] == [True, False]  # the check can fail
    undated = []
    for path in documents():
        with open(path) as f:
            text = f.read()
        if DATE.search('\n'.join(text.split('\n')[:8])):
            continue
        for para in _prose_paragraphs(text):
            if MEASURED.search(para) and not DATE.search(para):
                undated.append('%s: %s' % (os.path.relpath(path, ROOT), MEASURED.search(para).group(0)))
    assert not undated, undated
