"""The suite's own scheduling (file_order.py): under xdist each worker takes the costliest test file left."""
import collections
import json

import file_order


def test_the_costliest_file_left_goes_first_and_an_unlisted_one_counts_by_its_tests():
    queue = collections.OrderedDict([('a.py', {'a.py::t1': False}), ('b.py', {'b.py::t1': False}),
                                     ('c.py', {'c.py::t%d' % i: False for i in range(30)})])
    costs = {'a.py': 2.0, 'b.py': 9.0}
    file_order.costliest_first(queue, costs)
    assert list(queue) == ['c.py', 'a.py', 'b.py']  # 30 tests x 0.5 s > 9 s
    queue.popitem(last=False)
    file_order.costliest_first(queue, costs)
    assert list(queue) == ['b.py', 'a.py']


def test_the_costs_table_reads_and_names_the_suite_s_files(tmp_path):
    path = tmp_path / 'costs.json'
    assert file_order.read_costs(str(path)) == {}
    path.write_text(json.dumps({'measured': 'x', 'seconds': {'a.py': 1.5}}))
    assert file_order.read_costs(str(path)) == {'a.py': 1.5}
    shipped = file_order.read_costs()
    assert 'workspaces/test_resume.py' in shipped and all(v >= 0 for v in shipped.values())
    assert file_order.file_of('snn/test_x.py::test_y[1]') == 'snn/test_x.py'
