"""Longest files first under ``pytest -n N --dist loadfile`` (``make test``).

xdist hands out whole files, largest test count first; here a few-test file of long trainings would start last and
leave one worker running alone at the end.  Each worker instead takes the costliest file left, by the per-file
seconds in ``file_costs.json`` (a file not listed counts 0.5 s a test).  The order only changes which worker runs a
file and when, never what a test does.

``pytest ... --write-file-costs`` updates ``file_costs.json`` with the run's own durations (setup + call + teardown
of every test, per file; the files it ran), with the date and the machine."""
import collections
import datetime
import json
import os

import pytest

COSTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'file_costs.json')
UNLISTED_SECONDS_PER_TEST = 0.5


def pytest_addoption(parser):
    parser.addoption('--write-file-costs', action='store_true',
                     help='write tests/file_costs.json (seconds per test file, for scheduling) from this run')


def read_costs(path=COSTS):
    """{test file relative to tests/: seconds}; empty when the table is absent."""
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)['seconds']


def file_of(nodeid):
    return nodeid.split('::', 1)[0]


def costliest_first(workqueue, costs):
    """Move the costliest work unit (file -> {nodeid: done}) of ``workqueue`` to its front."""
    def cost(scope):
        return costs.get(scope, UNLISTED_SECONDS_PER_TEST * len(workqueue[scope]))
    workqueue.move_to_end(max(workqueue, key=cost), last=False)


@pytest.hookimpl(optionalhook=True)  # without xdist (-p no:xdist) there is no such hook
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue('dist') != 'loadfile':
        return None
    from xdist.scheduler import LoadFileScheduling

    costs = read_costs()

    class CostliestFileFirst(LoadFileScheduling):
        def _assign_work_unit(self, node):
            costliest_first(self.workqueue, costs)
            super()._assign_work_unit(node)

    return CostliestFileFirst(config, log)


_SECONDS = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    _SECONDS[file_of(report.nodeid)] += report.duration


def pytest_sessionfinish(session):
    config = session.config
    if not config.getoption('write_file_costs') or hasattr(config, 'workerinput'):
        return  # only the controller (or a run without xdist) writes
    from snn_conversion.core.machine import machine_description

    seconds = read_costs()
    seconds.update((f, round(s, 1)) for f, s in _SECONDS.items())
    table = {'measured': '%s, %s' % (datetime.date.today().isoformat(), machine_description()), 'seconds': seconds}
    with open(COSTS, 'w') as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write('\n')
