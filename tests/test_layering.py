"""The layering rules of ARCHITECTURE.md, checked on the source (every import, module-level or inside a function).

core <- data <- {ann, snn} <- reproduce; tensorlayer_patches (the patched TensorLayer) sits on core and under ann;
spiking_utils is the SNN's public face; figs read logs through core; reproduce draws RESULTS.md's figures with figs.
"""
import ast
import glob
import os

import pytest

from conftest import ROOT

PROJECT = ('snn_conversion', 'tensorlayer_patches', 'spiking_utils', 'figs')
# what each part may import of the project (besides itself)
ALLOWED = {
    'snn_conversion.core': (),
    'snn_conversion.data': ('snn_conversion.core',),
    'snn_conversion.snn': ('snn_conversion.core', 'snn_conversion.data'),
    'tensorlayer_patches': ('snn_conversion.core',),
    'snn_conversion.ann': ('snn_conversion.core', 'snn_conversion.data', 'tensorlayer_patches'),
    'snn_conversion.reproduce': ('snn_conversion.core', 'snn_conversion.data', 'snn_conversion.snn', 'figs'),
    'spiking_utils': ('snn_conversion.snn', 'snn_conversion.core', 'snn_conversion.data'),
    'figs': ('snn_conversion.core',),
}
# never TensorFlow: not even inside a function
NO_TENSORFLOW = ('snn_conversion.snn', 'snn_conversion.reproduce', 'spiking_utils', 'figs')
# TensorFlow only inside functions, on first use (core.tf_logging's loader; data.imagenet's TFRecords)
LAZY_TENSORFLOW = ('snn_conversion.core', 'snn_conversion.data')
# the documented command-line names `python -m tensorlayer_patches.checkpoint|datasets` alias the project's modules
ALIASES = {'tensorlayer_patches.checkpoint': 'snn_conversion.core.checkpoint',
           'tensorlayer_patches.datasets': 'snn_conversion.data.datasets'}
LIBRARY_DIRS = ('snn_conversion', 'tensorlayer_patches', 'figs')


def _modules():
    """{module name: path} of the library (not the workspace scripts and tests, which are its users)."""
    out = {'spiking_utils': os.path.join(ROOT, 'spiking_utils.py')}
    for top in LIBRARY_DIRS:
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith('.py'):
                    rel = os.path.relpath(os.path.join(folder, f), ROOT)[:-3].replace(os.sep, '.')
                    out[rel[:-len('.__init__')] if rel.endswith('.__init__') else rel] = os.path.join(folder, f)
    return out


MODULES = _modules()


def _imports(name, path, top_level_only=False):
    """(imported module, names taken from it, line) for every import statement of a module (``top_level_only``:
    those run when the module is imported, not inside functions)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith('__init__.py') else name.rsplit('.', 1)[0]
    out = []
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            out.extend((a.name, (), node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names = tuple(a.name for a in node.names)
            out.append((base, names, node.lineno))
            # 'from package import module' imports the module
            out.extend((base + '.' + n, (), node.lineno) for n in names if base + '.' + n in MODULES)
    return out


def _part(module):
    for part in sorted(ALLOWED, key=len, reverse=True):
        if module == part or module.startswith(part + '.'):
            return part
    return None


def _project(module):
    return module.split('.')[0] in PROJECT


def test_every_library_module_belongs_to_a_layer():
    lost = [m for m in MODULES if _part(m) is None and m != 'snn_conversion']
    assert not lost, 'modules outside every layer: %s' % lost


def test_layers_import_only_what_is_below_them():
    bad = []
    for name, path in sorted(MODULES.items()):
        part = _part(name)
        if part is None:
            continue
        for mod, _, line in _imports(name, path):
            if not _project(mod) or _part(mod) == part or mod == 'snn_conversion':
                continue
            if name in ALIASES and (mod == ALIASES[name] or ALIASES[name].startswith(mod + '.')):
                continue
            if not any(mod == a or mod.startswith(a + '.') for a in ALLOWED[part]):
                bad.append('%s:%d imports %s' % (os.path.relpath(path, ROOT), line, mod))
    assert not bad, '\n'.join(bad)


def test_numpy_side_never_imports_tensorflow():
    bad = []
    for name, path in sorted(MODULES.items()):
        if _part(name) not in NO_TENSORFLOW + LAZY_TENSORFLOW:
            continue
        for mod, _, line in _imports(name, path, top_level_only=_part(name) in LAZY_TENSORFLOW):
            if mod.split('.')[0] in ('tensorflow', 'tensorlayer', 'tensorlayer_patches'):
                bad.append('%s:%d imports %s' % (os.path.relpath(path, ROOT), line, mod))
    assert not bad, '\n'.join(bad)


def test_importing_the_snn_side_loads_no_tensorflow():
    import subprocess
    import sys
    code = ('import sys; sys.path.insert(0, %r); import spiking_utils, snn_conversion.reproduce.report, figs.logs; '
            'sys.exit(3 if "tensorflow" in sys.modules else 0)' % ROOT)
    assert subprocess.call([sys.executable, '-c', code]) == 0


def test_no_private_names_across_modules():
    bad = []
    for name, path in sorted(MODULES.items()):
        for mod, names, line in _imports(name, path):
            if _project(mod) and mod != name:
                bad += ['%s:%d takes %s from %s' % (os.path.relpath(path, ROOT), line, n, mod)
                        for n in names if n.startswith('_') and not n.startswith('__')]
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == '__import__':
                bad.append('%s:%d uses __import__' % (os.path.relpath(path, ROOT), node.lineno))
    assert not bad, '\n'.join(bad)


def test_no_import_circles():
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for mod, _, _ in _imports(name, path):
            if mod in MODULES and mod != name and not name.startswith(mod + '.'):  # a package's own __init__
                graph[name].add(mod)
    state, stack, circles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(' -> '.join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, '\n'.join(circles)


@pytest.mark.parametrize('limit', [500])
def test_no_module_over_the_size_limit(limit):
    sizes = {name: sum(1 for _ in open(path)) for name, path in MODULES.items()}
    big = ['%s (%d lines)' % (n, s) for n, s in sorted(sizes.items()) if s > limit]
    assert not big, 'modules over %d lines: %s' % (limit, ', '.join(big))


def test_the_checker_can_fail(tmp_path, monkeypatch):
    """A module of the SNN layer that imports the ANN is caught."""
    f = tmp_path / 'bad.py'
    f.write_text('import snn_conversion.ann.trainer\nfrom snn_conversion.core.errors import _hidden\n')
    imports = _imports('snn_conversion.snn.bad', str(f))
    assert ('snn_conversion.ann.trainer', (), 1) in imports
    assert _part('snn_conversion.snn.bad') == 'snn_conversion.snn'
    assert not any('snn_conversion.ann' == a or 'snn_conversion.ann'.startswith(a + '.')
                   for a in ALLOWED['snn_conversion.snn'])


# ----------------------------------------------------------------------------- the house's second step (issue 25)

MAX_PARAMETERS = 8
VALUE_CLASSES = ('Architecture', 'Family', 'Trace')  # value classes whose constructor lists their fields
FAMILY_MODULES = ('snn_conversion.core.families', 'snn_conversion.snn.families')
FAMILY_TRAITS = ('uses_B', 'optional_ternary', 'needs_first_quant')
RULE_NAMES = ('exact', 'authors')


def _long_parameter_lists(tree):
    """(line, function, parameters) of the functions taking more than MAX_PARAMETERS (self/cls not counted),
    numba kernels and the constructors of value classes (namedtuples, VALUE_CLASSES) aside."""
    out = []

    def visit(node, cls=None):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                bases = ast.dump(ast.Module(body=child.bases)) if child.bases else ''
                value = child.name in VALUE_CLASSES or 'namedtuple' in bases
                visit(child, child.name if value else '')
            elif isinstance(child, ast.FunctionDef):
                a = child.args
                n = len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
                n -= bool(a.args) and a.args[0].arg in ('self', 'cls')
                kernel = any('jit' in ast.dump(d) for d in child.decorator_list)
                constructor = cls and child.name in ('__init__', '__new__')
                if n > MAX_PARAMETERS and not kernel and not constructor:
                    out.append((child.lineno, child.name, n))
                visit(child)
            else:
                visit(child, cls)

    visit(tree)
    return out


def _rule_string_compares(tree):
    """Lines comparing with a rule's name as a string ('exact' / 'authors')."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for c in [node.left] + node.comparators:
                values = [c] if isinstance(c, ast.Str) else list(getattr(c, 'elts', ()))
                if any(isinstance(v, ast.Str) and v.s in RULE_NAMES for v in values):
                    lines.append(node.lineno)
    return lines


def _trait_reads(tree):
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in FAMILY_TRAITS]


def _trees():
    for name, path in sorted(MODULES.items()):
        with open(path) as f:
            yield name, os.path.relpath(path, ROOT), ast.parse(f.read(), path)


def test_no_library_function_takes_more_than_eight_parameters():
    """Run settings travel as values (AnnRun, Options, RunOptions, NetConfig, Geometry ...), not as long lists."""
    bad = ['%s:%d %s (%d parameters)' % (rel, line, fn, n) for _, rel, tree in _trees()
           for line, fn, n in _long_parameter_lists(tree)]
    assert not bad, '\n'.join(bad)


def test_the_rule_is_compared_as_a_string_in_at_most_one_file():
    """The rule is a strategy object (snn/rules.py), chosen once from its name."""
    files = {rel: lines for _, rel, tree in _trees() for lines in [_rule_string_compares(tree)] if lines}
    assert len(files) <= 1, files


def test_family_traits_are_read_in_at_most_three_places_outside_the_family_modules():
    """Code outside the family modules asks the family to act instead of reading its traits."""
    reads = ['%s:%d' % (rel, line) for name, rel, tree in _trees() if name not in FAMILY_MODULES
             for line in _trait_reads(tree)]
    assert len(reads) <= 3, reads


def test_the_house_checks_can_fail():
    tree = ast.parse('''
class Loose(object):
    def run(self, a, b, c, d, e, f, g, h, i):
        if rule == 'authors' or arch.uses_B:
            return arch.optional_ternary
@numba.njit
def kernel(a, b, c, d, e, f, g, h, i):
    pass
class Value(collections.namedtuple('Value', 'a b c d e f g h i')):
    def __new__(cls, a, b, c, d, e, f, g, h, i):
        pass
''')
    assert _long_parameter_lists(tree) == [(3, 'run', 9)]
    assert _rule_string_compares(tree) == [4]
    assert _trait_reads(tree) == [4, 5]


# ----------------------------------------------------------------------------- the house's third step (issue 38)

MAX_FUNCTION_LINES = 60


def _long_functions(tree, limit=MAX_FUNCTION_LINES):
    """(line, function, lines) of the functions longer than ``limit`` lines (from ``def`` to their last line)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            last = max(getattr(n, 'lineno', node.lineno) for n in ast.walk(node))
            if last - node.lineno + 1 > limit:
                out.append((node.lineno, node.name, last - node.lineno + 1))
    return out


def test_no_library_function_over_sixty_lines():
    """A function a reader takes in at once: longer ones are split into named steps."""
    bad = ['%s:%d %s (%d lines)' % (rel, line, fn, n) for _, rel, tree in _trees() for line, fn, n in
           _long_functions(tree)]
    assert not bad, '\n'.join(bad)


def test_the_function_length_check_can_fail():
    body = '\n'.join('    x%d = %d' % (i, i) for i in range(61))
    tree = ast.parse('def short():\n    return 1\n\n\ndef long():\n%s\n' % body)
    assert _long_functions(tree) == [(5, 'long', 62)]


# ----------------------------------------------------------------------------- typed records (issue 38, item 1)

RECORDS_MODULE = 'snn_conversion.core.records'
# the record's field names that other files the library reads use as keys too -- checkpoint metadata (k, B,
# architecture, epoch, learning_rate ...), run.json and progress.json (time_steps, steps_run, correct, n,
# checkpoint_sha256), the benchmark's records (machine, network, command ...), the authors' curves (accuracy,
# sops_per_image), npz bundles (checkpoint, epoch), data-set and budget specs (data, train_flags), the lock file
# (command), BLAS info (version): a read of one of these cannot be told from a record's by its name.  A record's
# is caught all the same by the name that leads to it (rec['ann']['correct'] by 'ann'), and a typed entry has no []
# (rec.ann['correct'] fails at once).
SHARED_NAMES = frozenset(['B', 'accuracy', 'architecture', 'batch_size', 'checkpoint', 'checkpoint_sha256', 'command',
                          'correct', 'data', 'epoch', 'git_revision', 'k', 'label', 'learning_rate', 'machine', 'n',
                          'network', 'sops_per_image', 'spikes_per_image', 'steps_run', 'time_steps', 'train_flags',
                          'version'])
KEY_READERS = ('get', 'pop', 'setdefault', 'has', 'field')  # dict methods, and the record's own by name


def _record_keys():
    from snn_conversion.core.records import FIELDS
    return set(part for name in FIELDS for part in name.split('.')) - SHARED_NAMES


def _string_key_reads(tree, keys):
    """(line, name) of every use of a record field by its name as a string: ``x['status']`` (read, written or
    deleted), ``x.get('status')`` (or pop, setdefault, has, field), ``'status' in x``."""
    out = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript):
            key = getattr(node.slice, 'value', node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in KEY_READERS:
            key = node.args[0] if node.args else None
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            key = node.left
        if isinstance(key, ast.Str) and key.s in keys:
            out.append((node.lineno, key.s))
    return sorted(out)


def test_no_record_field_is_read_by_string_key_outside_the_records_module():
    """Records are typed (core/records.py: Record, AnnResult, SnnResult, ResumeEntry ...): nothing else reads, writes
    or tests a record's field by its name as a string."""
    keys = _record_keys()
    bad = ['%s:%d %r' % (rel, line, key) for name, rel, tree in _trees() if name != RECORDS_MODULE
           for line, key in _string_key_reads(tree, keys)]
    assert not bad, '\n'.join(bad)


def test_the_string_key_check_can_fail():
    keys = _record_keys()
    assert {'status', 'snn', 'ann', 'curve', 'resume', 'first_step', 'epoch_seconds'} <= keys
    tree = ast.parse('''
rec = read_record(row)
if rec.get('status') == 'done' and rec['snn']['first_step']:
    kept = 'resume' in rec
    rec['curve'] = []
    del rec['measured']
meta.get('k'), info['time_steps'], authors['accuracy'], z['epoch'], argv[1]
rec.snn.has('spikes_per_step'), rec.field('ann_float64'), rec.ann.accuracy
''')
    assert _string_key_reads(tree, keys) == [(3, 'first_step'), (3, 'snn'), (3, 'status'), (4, 'resume'),
                                             (5, 'curve'), (6, 'measured'), (8, 'ann_float64'),
                                             (8, 'spikes_per_step')]
    # the records module itself is where the fields are named
    reads = [len(_string_key_reads(tree, keys)) for name, _, tree in _trees() if name == RECORDS_MODULE]
    assert reads and reads[0] > 0


# ----------------------------------------------------------------------------- installed, not on a path (issue 39)

def _is_sys_path(node):
    return isinstance(node, ast.Attribute) and node.attr == 'path' and isinstance(node.value, ast.Name) \
        and node.value.id == 'sys'


def _sys_path_edits(tree):
    """Lines that change ``sys.path``: a call of its insert/append/extend/remove, an assignment to it or to a
    slice of it."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_sys_path(node.func.value) \
                and node.func.attr in ('insert', 'append', 'extend', 'remove'):
            out.append(node.lineno)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_is_sys_path(t) or (isinstance(t, ast.Subscript) and _is_sys_path(t.value)) for t in targets):
                out.append(node.lineno)
    return sorted(out)


def _scripts_and_library():
    """Every Python file of the checkout but the tests': the library, reproduce.py, the workspace scripts and
    their figs/, the benchmarks."""
    paths = set(MODULES.values()) | set(glob.glob(os.path.join(ROOT, '*.py')))
    for pattern in ('*/*.py', '*/figs/*.py'):
        paths |= {p for p in glob.glob(os.path.join(ROOT, pattern))
                  if os.path.relpath(p, ROOT).split(os.sep)[0] != 'tests'}
    return sorted(paths)


def test_nothing_outside_the_tests_edits_sys_path():
    """The project is installed (pyproject.toml; `make venv` installs it in editable mode): the scripts and the
    library import it as installed and never put a folder on ``sys.path`` themselves."""
    bad = []
    for path in _scripts_and_library():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        bad += ['%s:%d' % (os.path.relpath(path, ROOT), line) for line in _sys_path_edits(tree)]
    assert len(_scripts_and_library()) > 90
    assert not bad, '\n'.join(bad)


def test_the_sys_path_check_can_fail():
    tree = ast.parse('''
import sys
sys.path.insert(0, '..')
sys.path.append(here)
sys.path[:0] = [root]
sys.path = [root] + sys.path
sys.path += [root]
print(sys.path[0], len(sys.path))
''')
    assert _sys_path_edits(tree) == [3, 4, 5, 6, 7]
