"""ARCHITECTURE.md's "Where a change goes", checked against the code: every path it names exists (a ``<...>``
template matches at least one file), and each "one place" claim holds."""
import glob
import os
import re

from conftest import ROOT
from snn_conversion.core import architectures
from snn_conversion.core.families import FAMILIES
from snn_conversion.data.locate import DATASETS
from snn_conversion.reproduce.tables import all_rows
from snn_conversion.snn import backends
from snn_conversion.snn.families import recipe_for

WORKSPACES = ('MNIST', 'FashionMNIST', 'N_MNIST', 'CIFAR10', 'CIFAR100', 'ImageNet_MobileNet')


def _section():
    with open(os.path.join(ROOT, 'ARCHITECTURE.md')) as f:
        text = f.read()
    return text.split('## Where a change goes', 1)[1].split('\n## ', 1)[0]


def _paths(section):
    """The repository paths the section names (backticked, with a folder or a file extension)."""
    names = re.findall(r'`([^`\s]+)`', section)
    return sorted(set(n for n in names if '/' in n and not n.startswith('--') and '(' not in n
                      and re.search(r'\.(py|md|json|npz)$|/$', n)))


def test_every_named_path_exists():
    paths = _paths(_section())
    assert len(paths) >= 15
    for path in paths:
        pattern = re.sub(r'<[^>]+>', '*', path)
        assert glob.glob(os.path.join(ROOT, pattern)), '%s (named in ARCHITECTURE.md) matches no file' % path


def test_a_backend_is_one_module_and_its_registry_line():
    modules = sorted(os.path.basename(p)[:-3] for p in
                     glob.glob(os.path.join(ROOT, 'snn_conversion', 'snn', 'backends', '*_backend.py')))
    assert modules == sorted(v for v in backends.REGISTRY.values() if isinstance(v, str))


def test_a_family_is_its_family_object_and_its_recipe():
    used = set(architectures.get(name).family for name in architectures.names())
    assert used == set(FAMILIES)  # every family has networks, every network a known family
    for name in architectures.names():
        assert recipe_for(architectures.get(name)) is not None


def test_every_registered_network_has_its_workspace_scripts():
    scripts = {}
    for ws in WORKSPACES:
        for path in glob.glob(os.path.join(ROOT, ws, '*.py')):
            with open(path) as f:
                scripts[os.path.relpath(path, ROOT)] = f.read()
    for name in architectures.names():
        # a script names it, or it is a variant the scripts of another network run when given a flag
        bases = [name] + [b for b in architectures.names() if name in architectures.variants_help(b)]
        if architectures.get(name).dataset == 'imagenet':  # a MobileNet variant: its flags choose it
            bases.append(architectures.MOBILENET_BASE)
        for main in ('ann_main', 'snn_main'):
            users = [p for p, text in scripts.items() for b in bases if "%s('%s'" % (main, b) in text]
            if main == 'ann_main' and architectures.get(name).dataset == 'imagenet':
                users += [p for p, text in scripts.items() if 'mobilenet_ann_main(' in text]
            assert users, 'no workspace script runs %s through %s' % (name, main)
    for path, text in scripts.items():  # thin: arguments and one call (the demo is its own orchestration)
        assert len(text.splitlines()) <= 12 or os.path.basename(path).startswith('Demo_'), path


def test_every_table_row_has_its_scripts():
    for table, row in all_rows():
        prefixes = ('FP32_',) if row.full_precision else ('Quant_', 'Spiking_')
        for prefix in prefixes:
            assert os.path.isfile(os.path.join(ROOT, row.workspace, '%s%s.py' % (prefix, row.script))), row.id


def test_every_data_set_has_its_workspace():
    datasets = set(architectures.get(name).dataset for name in architectures.names())
    assert datasets <= set(DATASETS)
    for ws in WORKSPACES:
        assert os.path.isdir(os.path.join(ROOT, ws, 'figs'))
        for fig in ('accuracy_speed.py', 'sparsity.py', 'sops.py'):
            assert os.path.isfile(os.path.join(ROOT, ws, 'figs', fig)), (ws, fig)


def test_the_map_names_every_module_of_the_library():
    """Every module of the ``snn_conversion`` package is named in ARCHITECTURE.md (a new module goes on the map)."""
    with open(os.path.join(ROOT, 'ARCHITECTURE.md')) as f:
        text = f.read()
    modules = [os.path.relpath(p, os.path.join(ROOT, 'snn_conversion'))
               for p in glob.glob(os.path.join(ROOT, 'snn_conversion', '**', '*.py'), recursive=True)
               if not p.endswith('__init__.py')]
    assert len(modules) > 40
    missing = sorted(m for m in modules if not re.search(r'(?<![\w/])%s\b' % re.escape(os.path.basename(m)), text))
    assert not missing, 'ARCHITECTURE.md does not name %s' % ', '.join(missing)


def test_a_neuron_kind_is_one_module_of_the_neurons_package():
    """Every module of ``snn/neurons/`` but the contract registers its kinds on import (the package's face imports
    each), every registered kind is defined in one of them, and the rules name registered kinds only."""
    import importlib
    from snn_conversion.snn.neurons import NEURONS
    from snn_conversion.snn.rules import RULE_OBJECTS
    folder = os.path.join(ROOT, 'snn_conversion', 'snn', 'neurons')
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(folder, '*.py'))
                     if os.path.basename(p) not in ('__init__.py', 'base.py'))
    defined = {}
    for name in modules:
        module = importlib.import_module('snn_conversion.snn.neurons.%s' % name)
        kinds = [k for k, cls in NEURONS.items() if cls.__module__ == module.__name__]
        assert kinds, '%s registers no neuron kind' % name
        defined.update(dict.fromkeys(kinds, name))
    assert set(defined) == set(NEURONS)
    for rule in RULE_OBJECTS.values():
        assert set(rule.neurons.values()) <= set(NEURONS), rule
