"""The log files: one line per (batch, step), in the authors' formats (the family's number formats)."""

from __future__ import absolute_import, division, print_function

import os
from collections.abc import Mapping

from snn_conversion.core.families import ALL_LOG_FILES, FAMILIES, LOG_FILES, get_family
from snn_conversion.core.fileio import append_lines
from snn_conversion.core.formats import format_lines

__all__ = ['LOG_FILES', 'ALL_LOG_FILES', 'FLOAT_LOGS', 'format_log_lines', 'write_logs']


class _FloatLogs(Mapping):
    """{family: the counters its logs write as floats} (their scripts accumulate them in float64 arrays), whatever
    the rule: '12924.0' for spike_collect; '1676065.0' for the scatter-and-gather spike_num and sop_num.  The rest
    are integers.  A view of the families' own ``float_logs`` (core.families.Family), read at each use: a family
    registered later is in it."""

    def __getitem__(self, name):
        return FAMILIES[name].float_logs

    def __iter__(self):
        return iter(FAMILIES)

    def __len__(self):
        return len(FAMILIES)


FLOAT_LOGS = _FloatLogs()


def format_log_lines(trace, labels, files=LOG_FILES, family='negative'):
    """The log files' lines for one batch, in the authors' formats of ``family`` (``files`` selects which):
    integers, except the counters of :data:`FLOAT_LOGS`, written as Python floats (``repr``, as numpy's
    ``str`` of a float64)."""
    columns = {'accuracy.txt': trace.correct(labels), 'spike_num.txt': trace.spike_num,
               'spike_collect.txt': trace.spike_collect, 'sop_num.txt': trace.sop_num,
               'abs_spike.txt': trace.abs_spike, 'sum_spike.txt': trace.sum_spike}
    return format_lines(columns, files, get_family(family).float_logs)


def write_logs(log_dir, lines_per_file):
    """Append each file's lines, flushed to disk before returning (a failure: one-line WriteError)."""
    for name, lines in lines_per_file.items():
        append_lines(os.path.join(log_dir, name), lines)
