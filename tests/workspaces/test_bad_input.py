"""Bad input -> one line on stderr, exit code 2, no traceback: the fault-injection table
(tests/fault_injection.py), case by case, on the real command-line scripts."""
import contextlib
import io
import re
import subprocess
import sys

import pytest

import fault_injection as fi


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('fault_injection'))
    with contextlib.redirect_stdout(io.StringIO()):
        fi.build(root)
    return root


@pytest.fixture(scope='module')
def results():
    """{case name: Result}: each case's script runs once in this module; a later test judges the same run."""
    return {}


def result_of(case, inputs, results):
    if case.name not in results:
        results[case.name] = fi.run_case(case, inputs)
    return results[case.name]


@pytest.mark.parametrize('case', fi.CASES, ids=[c.name for c in fi.CASES])
def test_bad_input_is_one_line_exit_2(inputs, results, case):
    r = result_of(case, inputs, results)
    assert r.handled, '%s: %s\n%s' % (case.name, r.reason, r.stderr[-3000:])


def test_table_covers_every_kind_of_bad_input():
    """Issue 6's list: data (missing folder; gz, idx magic, pickle, .bin events, TFRecord), checkpoints
    (missing, truncated, not npz, other architecture, k/B/ternary mismatch, gamma, NaN/Inf), flags, outputs."""
    names = {c.name for c in fi.CASES}
    required = ['data_dir_missing', 'data_gz_truncated', 'data_idx_magic', 'data_cifar_pickle_corrupt',
                'data_nmnist_bin_truncated', 'data_tfrecord_truncated', 'ckpt_missing', 'ckpt_truncated',
                'ckpt_not_npz', 'ckpt_other_architecture_shapes', 'ckpt_k_mismatch_snn', 'ckpt_k_mismatch_ann',
                'ckpt_B_mismatch', 'ckpt_ternary_mismatch', 'ckpt_bn_gamma_zero', 'ckpt_nan', 'ckpt_inf',
                'flag_k_negative_snn', 'flag_k_negative_ann', 'flag_B_zero_snn', 'flag_time_steps_zero',
                'flag_noise_ratio_2', 'flag_shard_3_of_2', 'unwritable_log_dir', 'unwritable_checkpoint']
    assert not [n for n in required if n not in names]
    assert len(names) == len(fi.CASES)  # unique names


def test_the_checker_can_fail(inputs, results):
    """A case whose expectation is wrong, or a script that succeeds, is reported as not handled."""
    c = fi.CASES[0]
    r = result_of(c, inputs, results)  # the script's run, judged against another expectation
    assert not fi.judge(c._replace(expect='a message nobody prints'), inputs, r.returncode, r.stderr).handled
    ok = fi.case('succeeds', fi.FASHION_SNN, ['--help'], 'usage')
    r = fi.run_case(ok, inputs)
    assert not r.handled and r.reason.startswith('exit code 0')


def test_debug_shows_the_traceback(inputs):
    c = next(c for c in fi.CASES if c.name == 'ckpt_k_mismatch_snn')
    r = fi.run_case(c._replace(args=c.args + ['--debug']), inputs)
    assert not r.handled and 'Traceback' in r.stderr and 'CheckpointError' in r.stderr


def test_script_prints_the_count(inputs):
    p = subprocess.run([sys.executable, fi.__file__, '--inputs', inputs, '-k', 'flag_k_negative'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r'^2 cases, 2 handled$', p.stdout, re.M), p.stdout


def test_table_covers_the_environment_faults():
    """Issue 16's list: a full disk (or an I/O error) at every write site, damaged run records, log folders
    that do not fit their run.json."""
    names = {c.name for c in fi.CASES}
    required = ['enospc_checkpoint', 'enospc_train_state', 'enospc_log_batch', 'enospc_progress', 'enospc_run_json',
                'eio_log_batch', 'enospc_frames', 'enospc_tfrecord_shard', 'enospc_tfrecord_meta',
                'ckpt_train_state_corrupt', 'data_tfrecord_meta_corrupt', 'figure_run_json_damaged',
                'figure_two_runs_mixed', 'figure_family_file_missing', 'figure_unfinished_run',
                'merge_shard_run_json_damaged']
    assert not [n for n in required if n not in names]
