"""Where a table's data sets are: found under ``--data_root`` (or by the scripts' own search), refused in one line
naming their files, folders and how to get them, and -- for a table on a subset of a data set -- made into frames
from the raw events once (again when the events change).
"""

from __future__ import absolute_import, division, print_function

import json
import os

from snn_conversion.core import architectures
from snn_conversion.core.errors import UserError
from snn_conversion.core.fileio import atomic_write_text
from snn_conversion.data.kinds import get_kind
from snn_conversion.data.locate import DATASETS, DatasetError, candidate_dirs, find_dataset_dir, required_files
from snn_conversion.reproduce.context import ROOT
from snn_conversion.reproduce.scripts import quote_argv, run_script

__all__ = ['dataset_dir', 'data_presence', 'subset_events', 'table_data']


def _fetch_hint(dataset, data_root):
    """How a missing data set gets here: its download command, or how it is made."""
    spec = DATASETS[dataset]
    if spec.get('url'):
        return ('`python -m tensorlayer_patches.datasets %s --download --data_dir %s` fetches them into %s'
                % (dataset, data_root or 'DIR', os.path.join(data_root or 'DIR', spec['subdirs'][0]))
                + ('' if data_root else ' (then pass --data_root DIR)'))
    return get_kind(spec).made_by(dataset, spec)


def _holds_any(data_root):
    """Whether ``data_root`` holds some data set of :data:`DATASETS` (or a subset's raw events)."""
    for name in DATASETS:
        try:
            find_dataset_dir(name, data_dir=data_root)
            return True
        except DatasetError:
            continue
    return any(os.path.isdir(os.path.join(data_root, entry, 'Train')) for entry in os.listdir(data_root))


def dataset_dir(dataset, data_root, echo=None):
    """The folder the row's scripts get as --data_dir: the one under ``data_root`` that holds the data set;
    without ``data_root`` None (the scripts' own search: $SNN_DATA_DIR, ./data, the Debian package), after checking
    that the search finds it.  A ``data_root`` that does not exist or holds no data set at all is an error; one
    that holds others but not this one leaves it to the scripts' own search, and says so (``echo``).  A missing data
    set is one line naming its files, where they go and how to get them."""
    if data_root and not os.path.isdir(data_root):
        raise UserError('--data_root %s does not exist (it should be a folder holding the data sets, e.g. '
                        'mnist/, fashion-mnist/)' % data_root)
    if data_root and not _holds_any(data_root):
        raise UserError('--data_root %s holds no data set (none of %s in it or its subfolders %s)'
                        % (data_root, ', '.join(sorted(DATASETS)), ', '.join(sorted(set(
                            sub for spec in DATASETS.values() for sub in spec['subdirs'][:1])))))
    try:
        found = find_dataset_dir(dataset, data_dir=data_root)
        return os.path.abspath(found) if data_root else None
    except DatasetError:
        pass
    if data_root:
        try:
            found = find_dataset_dir(dataset)
        except DatasetError:
            found = None
        if found:
            if echo:
                echo('%s is not under --data_root %s: the scripts\' own search finds it in %s' % (dataset, data_root,
                                                                                                  found))
            return None
    raise UserError('%s no %s data set: put its files (%s) in one of %s; %s'
                    % ('--data_root %s holds' % data_root if data_root else 'the scripts\' search finds',
                       dataset, ', '.join(required_files(dataset, ('train', 'test'))),
                       ', '.join(candidate_dirs(dataset, data_root)), _fetch_hint(dataset, data_root)))


def data_presence(table, data_root=None):
    """'data: present' or what is missing of a table's data sets, found as a run would find them (a data set the
    scripts' own search finds, but not ``data_root``, is named as such)."""
    elsewhere, missing = [], []
    for row in table.rows:
        name = table.subset.events if table.subset else architectures.get(row.arch).dataset
        for root in [data_root, None] if data_root else [None]:
            try:
                if table.subset is None:
                    dataset_dir(architectures.get(row.arch).dataset, root)
                else:
                    subset_events(table, row, root)
            except UserError:
                continue
            if root != data_root and name not in elsewhere:
                elsewhere.append(name)
            break
        else:
            if name not in missing:
                missing.append(name)
    text = []
    if elsewhere:
        text.append('%s not under --data_root (found without it)' % ', '.join(elsewhere))
    if missing:
        text.append('%s missing (the table command says where the files go)' % ', '.join(missing))
    return 'data: ' + ('; '.join(text) or 'present')


def subset_events(table, row, data_root):
    """The folder of the raw events of a table on a subset (``table.subset``): ``<data_root>/<events>``, else
    ``$SNN_DATA_DIR/<events>`` or ``<workspace>/data/<events>``, holding Train/ and Test/; one line when none does."""
    events = table.subset.events
    bases = [data_root] if data_root else [os.environ.get('SNN_DATA_DIR'), os.path.join(ROOT, row.workspace, 'data')]
    found = [os.path.join(b, events) for b in bases if b and all(
        os.path.isdir(os.path.join(b, events, split)) for split in ('Train', 'Test'))]
    if not found:
        raise UserError('table %s runs on the raw events %s/{Train,Test}/ (%s): none under %s; pass --data_root '
                        'FOLDER holding %s/ (e.g. ../shared/data)'
                        % (table.name, events, table.subset.label, ', '.join(b for b in bases if b), events))
    return found[0]


def table_data(ctx, table, row, frames_base=None):
    """The --data_dir of ``row``'s scripts in ``table`` in the run context ``ctx``: :func:`dataset_dir` of its
    ``data_root``; for a table on a subset of its data set (``table.subset``), the frames its preparation script
    makes of the raw events under ``data_root`` (once, into ``<root>/<workspace>/data/<events>/``, or
    ``<frames_base>/<events>/``)."""
    dataset = architectures.get(row.arch).dataset
    if table.subset is None:
        return dataset_dir(dataset, ctx.data_root, ctx.echo)
    events = subset_events(table, row, ctx.data_root)
    frames = os.path.join(frames_base or os.path.join(ctx.out(row), 'data'), table.subset.events)
    source = _events_listing(events)  # the frames are made again when the events they came from change
    marker = os.path.join(frames, 'source.json')
    try:
        with open(marker) as f:
            if json.load(f) == source:
                return os.path.abspath(find_dataset_dir(dataset, data_dir=frames))
    except (OSError, ValueError, DatasetError):
        pass
    argv = [table.subset.prepare, '--data_dir', os.path.abspath(events), '--out_dir', os.path.abspath(frames)]
    ctx.echo('%s: frames of %s  $ cd %s && python %s' % (table.name, events, row.workspace, quote_argv(argv)))
    run_script(ctx.python, os.path.join(ROOT, row.workspace), argv,
               os.path.join(frames, 'prepare.log'), None,
               'the frames of %s' % table.name)
    atomic_write_text(marker, json.dumps(source, sort_keys=True))
    return os.path.abspath(find_dataset_dir(dataset, data_dir=frames))


def _events_listing(folder):
    """{file (relative): size} of every event file under ``folder``, and its path: what a subset's frames are
    made of."""
    files = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            files[os.path.relpath(path, folder)] = os.path.getsize(path)
    return dict(folder=os.path.abspath(folder), files=files)
