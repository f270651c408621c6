"""Fault injection: bad input given to the real command-line scripts.

Every case runs a workspace script (or a tool) as a user would, in a subprocess, on deliberately broken input:
missing or corrupt data of every format, bad checkpoints, out-of-range flags, unwritable output folders.  A
case is *handled* when the script exits with code 2 and prints exactly one line on stderr -- ``error: ...``
matching the expected message -- and no Python traceback.

    python tests/fault_injection.py            # every case; prints "N cases, N handled"
    python tests/fault_injection.py -k ckpt    # the cases whose name contains "ckpt"
    python tests/fault_injection.py --keep DIR, then --inputs DIR -k ...   # build the inputs once, run cases again

CI runs it (``.ci/run``); ``tests/workspaces/test_bad_input.py`` runs the same table case by case under pytest.
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import contextlib
import functools
import gzip
import io
import json
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

EXIT_USER_ERROR = 2

Case = collections.namedtuple('Case', 'name script args expect env')


def case(name, script, args, expect, env=None):
    return Case(name, script, list(args), expect, env or {})


FASHION_SNN = 'FashionMNIST/Spiking_MLP_FashionMNIST.py'
FASHION_ANN = 'FashionMNIST/Quant_MLP_FashionMNIST.py'
SG_SNN = 'MNIST/Spiking_LeNet_MNIST_SG.py'
SG_ANN = 'MNIST/Quant_LeNet_MNIST_SG.py'
INT_SNN = 'MNIST/Spiking_LeNet_MNIST_INT.py'
CIFAR_SNN = 'CIFAR10/Spiking_CNN1_CIFAR10.py'
NMNIST_SNN = 'N_MNIST/Spiking_MLP_N_MNIST.py'
NMNIST_PRE = 'N_MNIST/preprocessing_N_MNIST.py'
IMAGENET_SNN = 'ImageNet_MobileNet/Spiking_MobileNet_ImageNet.py'
IMAGENET_ANN = 'ImageNet_MobileNet/Quant_MobileNet_ImageNet.py'
IMAGENET_CONVERT = 'ImageNet_MobileNet/tfrecord_imagenet.py'
FIGURE = 'figs/accuracy_speed.py'
REPRODUCE = 'reproduce.py'
TINY_MOBILENET = ['--width_multiplier', '0.25', '--image_size', '32']

# {R} is the folder of generated inputs (see build()).
ENOSPC = r'cannot write \S+/%s \(No space left on device\); everything written before it is intact'
FASHION = ['--data_dir', '{R}/fashion']
MLP = FASHION + ['--model_file', '{R}/mlp_k1.npz', '--log_dir', '{R}/logs/mlp']
CASES = [
    # ---- datasets: missing folder or files, every file format damaged
    case('data_dir_missing', FASHION_SNN, ['--data_dir', '{R}/nowhere', '--model_file', '{R}/mlp_k1.npz'],
         r'--data_dir \S+/nowhere does not exist'),
    case('data_files_missing', FASHION_SNN, ['--data_dir', '{R}/empty', '--model_file', '{R}/mlp_k1.npz'],
         r'fashion_mnist files t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz not found; looked in'),
    case('data_gz_truncated', FASHION_SNN, ['--data_dir', '{R}/bad_gz', '--model_file', '{R}/mlp_k1.npz'],
         r't10k-images-idx3-ubyte.gz is not a readable gzip file'),
    case('data_idx_magic', FASHION_SNN, ['--data_dir', '{R}/bad_magic', '--model_file', '{R}/mlp_k1.npz'],
         r't10k-images-idx3-ubyte.gz has a bad idx magic number'),
    case('data_idx_truncated', FASHION_SNN, ['--data_dir', '{R}/bad_idx_size', '--model_file', '{R}/mlp_k1.npz'],
         r't10k-images-idx3-ubyte.gz is truncated or padded'),
    case('data_idx_train_truncated', FASHION_ANN, ['--data_dir', '{R}/bad_train', '--model_file', '{R}/new.npz',
                                                   '--epochs', '1'],
         r'train-images-idx3-ubyte.gz is truncated or padded'),
    case('data_cifar_pickle_corrupt', CIFAR_SNN, ['--data_dir', '{R}/bad_cifar', '--model_file', '{R}/cnn1.npz'],
         r'test_batch is not a readable CIFAR python pickle'),
    case('data_cifar_pickle_wrong', CIFAR_SNN, ['--data_dir', '{R}/wrong_cifar', '--model_file', '{R}/cnn1.npz'],
         r'test_batch is not a CIFAR batch'),
    case('data_nmnist_bin_truncated', NMNIST_PRE, ['--data_dir', '{R}/bad_events', '--out_dir', '{R}/frames_out'],
         r'is not an N-MNIST event file: \d+ bytes is not a whole number of 40-bit events'),
    case('data_nmnist_bin_address', NMNIST_PRE, ['--data_dir', '{R}/bad_address', '--out_dir', '{R}/frames_out2'],
         r'is not an N-MNIST event file: addresses up to'),
    case('data_nmnist_frames_corrupt', NMNIST_SNN, ['--data_dir', '{R}/bad_frames', '--model_file',
                                                    '{R}/mlp_nmnist.npz'],
         r'test.npz is not an N-MNIST frame file'),
    case('data_tfrecord_truncated', IMAGENET_SNN, TINY_MOBILENET + ['--data_dir', '{R}/imagenet_truncated',
                                                                    '--model_file', '{R}/mobilenet.npz'],
         r'validation-00000-of-00001.tfrecord is truncated'),
    case('data_tfrecord_meta_corrupt', IMAGENET_SNN, TINY_MOBILENET + ['--data_dir', '{R}/imagenet_bad_meta',
                                                                       '--model_file', '{R}/mobilenet.npz'],
         r'meta.json'),
    case('data_imagenet_source_missing', IMAGENET_CONVERT, ['--data_dir', '{R}/nowhere', '--out_dir', '{R}/tfr'],
         r'ImageNet folder \S+/nowhere does not exist'),
    case('data_imagenet_image_corrupt', IMAGENET_CONVERT, ['--data_dir', '{R}/imagenet_bad_jpeg',
                                                           '--out_dir', '{R}/tfr_bad', '--workers', '1'],
         r'is not a readable image'),
    # ---- checkpoints: missing, damaged, another architecture, metadata disagreeing with the flags, bad values
    case('ckpt_missing', FASHION_SNN, FASHION + ['--model_file', '{R}/nothing.npz'], r'nothing.npz not found'),
    case('ckpt_missing_ann', FASHION_ANN, FASHION + ['--mode', 'inference', '--model_file', '{R}/nothing.npz'],
         r'nothing.npz not found'),
    case('ckpt_truncated', FASHION_SNN, FASHION + ['--model_file', '{R}/truncated.npz'],
         r'truncated.npz is not a readable .npz checkpoint'),
    case('ckpt_not_npz', FASHION_SNN, FASHION + ['--model_file', '{R}/text.npz'],
         r'text.npz is not a readable .npz checkpoint'),
    case('ckpt_no_params', FASHION_SNN, FASHION + ['--model_file', '{R}/noparams.npz'],
         r'noparams.npz has no "params" entry'),
    case('ckpt_other_architecture_count', FASHION_SNN, FASHION + ['--model_file', '{R}/lenet_authors.npz'],
         r'holds 26 arrays but mlp_fashionmnist needs 11'),
    case('ckpt_other_architecture_shapes', FASHION_SNN, FASHION + ['--model_file', '{R}/mlp_nmnist_authors.npz'],
         r'does not fit mlp_fashionmnist \(wrong architecture\?\): params\[0\] \(block 1 W\) has shape '
         r'\(34, 34, 1, 400\), expected \(28, 28, 1, 400\)'),
    case('ckpt_other_architecture_meta', FASHION_ANN, FASHION + ['--mode', 'inference',
                                                                 '--model_file', '{R}/lenet_k1.npz'],
         r'was trained as lenet_fashionmnist, not mlp_fashionmnist'),
    case('ckpt_k_mismatch_snn', FASHION_SNN, FASHION + ['--k', '2', '--model_file', '{R}/mlp_k1.npz'],
         r'trained with k=1 but k=2 was requested'),
    case('ckpt_k_mismatch_ann', FASHION_ANN, FASHION + ['--k', '2', '--mode', 'inference',
                                                        '--model_file', '{R}/mlp_k1.npz'],
         r'trained with k=1 but k=2 was requested'),
    case('training_would_overwrite', FASHION_ANN, FASHION + ['--k', '1', '--epochs', '1', '--model_file',
                                                             '{R}/mlp_k1_trained.npz'],
         r'mlp_k1_trained.npz already holds a checkpoint; continue it with --resume True, or replace it .* with '
         r'--overwrite True'),
    case('ckpt_k_mismatch_resume', FASHION_ANN, FASHION + ['--k', '0', '--resume', 'True',
                                                           '--model_file', '{R}/mlp_k1.npz'],
         r'trained with k=1 but k=0 was requested'),
    case('ckpt_B_mismatch', SG_SNN, ['--data_dir', '{R}/mnist', '--B', '3', '--model_file', '{R}/sg_B2.npz'],
         r'trained with B=2 but B=3 was requested'),
    case('ckpt_ternary_mismatch', INT_SNN, ['--data_dir', '{R}/mnist', '--use_ternary', 'False',
                                            '--model_file', '{R}/int_ternary.npz'],
         r'trained with ternary hidden weights but --use_ternary False was requested'),
    case('ckpt_fp32', FASHION_SNN, FASHION + ['--model_file', '{R}/fp32.npz'], r'is a full-precision \(FP32\)'),
    case('ckpt_bn_gamma_zero', FASHION_SNN, FASHION + ['--model_file', '{R}/gamma0.npz'],
         r'BN gamma is 0 for channel\(s\) \[3\]'),
    case('ckpt_bn_variance_negative', FASHION_SNN, FASHION + ['--model_file', '{R}/variance.npz'],
         r'block 2: BN moving_variance has negative entries'),
    case('ckpt_nan', FASHION_SNN, FASHION + ['--model_file', '{R}/nan.npz'],
         r'params\[2\] \(block 1 BN gamma\) contains NaN or Inf'),
    case('ckpt_inf', FASHION_SNN, FASHION + ['--model_file', '{R}/inf.npz'],
         r'params\[0\] \(block 1 W\) contains NaN or Inf'),
    case('ckpt_train_state_corrupt', FASHION_ANN, FASHION + ['--resume', 'True', '--model_file',
                                                             '{R}/resume_k1.npz', '--epochs', '2'],
         r'resume_k1.train_state.npz is not a readable training state'),
    case('ckpt_meta_wrong_type', FASHION_SNN, FASHION + ['--model_file', '{R}/meta_k_text.npz'],
         r"metadata entry 'k' is 'one', not an integer from 0 to 16"),
    case('ckpt_train_state_wrong_type', FASHION_ANN, FASHION + ['--resume', 'True', '--model_file',
                                                                '{R}/resume_lr.npz', '--epochs', '2'],
         r"resume_lr.train_state.npz is not a readable training state .*__learning_rate__ entry is nan"),
    case('flag_learning_rate_nan', FASHION_ANN, FASHION + ['--learning_rate', 'nan'],
         r"argument --learning_rate: expected a number > 0 and <= 10, got 'nan'"),
    case('flag_time_steps_huge', FASHION_SNN, MLP + ['--time_steps', '1e12'],
         r"argument --time_steps: expected an integer from 1 to 1000000, got '1e12'"),
    case('ckpt_mobilenet_other_width', IMAGENET_ANN, ['--width_multiplier', '0.5', '--image_size', '32',
                                                      '--mode', 'inference', '--data_dir', '{R}/imagenet',
                                                      '--model_file', '{R}/mobilenet.npz'],
         r'was trained as mobilenet_imagenet_w0.25_s32_c3, not mobilenet_imagenet_w0.5_s32_c3'),
    # ---- flags out of range or malformed
    case('flag_k_negative_snn', FASHION_SNN, MLP + ['--k', '-1'],
         r"argument --k: expected an integer from 0 to 16, got '-1'"),
    case('flag_k_negative_ann', FASHION_ANN, FASHION + ['--k', '-1'],
         r"argument --k: expected an integer from 0 to 16, got '-1'"),
    case('flag_B_zero_snn', SG_SNN, ['--B', '0', '--model_file', '{R}/sg_B2.npz'],
         r"argument --B: expected an integer from 1 to 1024, got '0'"),
    case('flag_B_zero_ann', SG_ANN, ['--B', '0'], r"argument --B: expected an integer from 1 to 1024, got '0'"),
    case('flag_time_steps_zero', FASHION_SNN, MLP + ['--time_steps', '0'],
         r"argument --time_steps: expected an integer from 1 to 1000000, got '0'"),
    case('flag_batch_size_zero', FASHION_SNN, MLP + ['--batch_size', '0'],
         r"argument --batch_size: expected an integer from 1 to 1000000, got '0'"),
    case('flag_workers_zero', FASHION_SNN, MLP + ['--workers', '0'],
         r"argument --workers: expected an integer from 1 to 1024, got '0'"),
    case('flag_noise_ratio_2', SG_SNN, ['--noise_ratio', '2', '--model_file', '{R}/sg_B2.npz'],
         r"argument --noise_ratio: expected a number from 0 to 1, got '2'"),
    case('flag_noise_ratio_negative', INT_SNN, ['--noise_ratio', '-0.5', '--model_file', '{R}/int_ternary.npz'],
         r"argument --noise_ratio: expected a number from 0 to 1, got '-0.5'"),
    case('flag_shard_3_of_2', FASHION_SNN, MLP + ['--shard', '3/2'], r'--shard must be I/N with 1 <= I <= N, got 3/2'),
    case('flag_shard_malformed', FASHION_SNN, MLP + ['--shard', 'half'], r"--shard must look like I/N"),
    case('flag_shard_too_many', FASHION_SNN, MLP + ['--shard', '1/9', '--batch_size', '10'],
         r'shard 1/9 holds no batch: use at most 2 shards'),
    case('flag_epochs_zero', FASHION_ANN, FASHION + ['--epochs', '0'],
         r"argument --epochs: expected an integer from 1 to 1000000, got '0'"),
    case('flag_learning_rate_negative', FASHION_ANN, FASHION + ['--learning_rate', '-0.1'],
         r"argument --learning_rate: expected a number > 0 and <= 10, got '-0.1'"),
    case('flag_not_a_number', FASHION_SNN, MLP + ['--k', 'one'],
         r"argument --k: expected an integer from 0 to 16, got 'one'"),
    case('flag_bad_boolean', FASHION_ANN, FASHION + ['--resume', 'yes'],
         r"argument --resume: expected True or False, got 'yes'"),
    case('flag_unknown', FASHION_SNN, MLP + ['--time_step', '5'], r'unrecognized arguments: --time_step 5'),
    case('flag_bad_mode', FASHION_ANN, FASHION + ['--mode', 'train'], r"argument --mode: invalid choice: 'train'"),
    case('flag_mobilenet_width', IMAGENET_SNN, ['--width_multiplier', '0', '--data_dir', '{R}/imagenet'],
         r'width'),
    case('flag_tf_config', IMAGENET_ANN, TINY_MOBILENET + ['--data_dir', '{R}/imagenet'], r'TF_CONFIG',
         env={'TF_CONFIG': '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}'}),
    case('flag_tf_config_not_json', IMAGENET_ANN, TINY_MOBILENET + ['--data_dir', '{R}/imagenet'],
         r'TF_CONFIG is not valid JSON', env={'TF_CONFIG': '{cluster'}),
    # ---- runs that cannot go on: merge without shards, resume of another run
    case('merge_without_shards', FASHION_SNN, FASHION + ['--model_file', '{R}/mlp_k1.npz', '--log_dir', '{R}/logs/done',
                                                         '--merge'], r'no shard-I-of-N folders in'),
    case('resume_other_run', FASHION_SNN, FASHION + ['--model_file', '{R}/mlp_k1.npz', '--log_dir',
                                                     '{R}/logs/other_run', '--resume'],
         r'holds a run with another time_steps; run without --resume'),
    case('resume_damaged_log', FASHION_SNN, FASHION + ['--model_file', '{R}/mlp_k1.npz', '--time_steps', '40',
                                                       '--num_test', '20', '--log_dir', '{R}/logs/damaged',
                                                       '--resume'],
         r'accuracy.txt is shorter than its \d+ complete batches \(damaged\)'),
    # ---- output folders that cannot be written
    case('unwritable_log_dir', FASHION_SNN, FASHION + ['--model_file', '{R}/mlp_k1.npz',
                                                       '--log_dir', '{R}/a_file/logs'],
         r'cannot write logs to \S+/a_file/logs'),
    case('unwritable_checkpoint', FASHION_ANN, FASHION + ['--model_file', '{R}/a_file/m.npz'],
         r'cannot write checkpoints to \S+/a_file'),
    case('unwritable_mobilenet_checkpoint', IMAGENET_ANN, TINY_MOBILENET + ['--data_dir', '{R}/imagenet',
                                                                            '--model_file', '{R}/a_file/m.npz'],
         r'cannot write checkpoints to \S+/a_file'),
    case('unwritable_frames', NMNIST_PRE, ['--data_dir', '{R}/events', '--out_dir', '{R}/a_file/frames'],
         r'cannot create --out_dir \S+/a_file/frames'),
    case('unwritable_tfrecords', IMAGENET_CONVERT, ['--data_dir', '{R}/imagenet_src', '--out_dir',
                                                    '{R}/a_file/tfr'],
         r'cannot create \S+/a_file/tfr'),
    case('unwritable_figure', FIGURE, ['{R}/logs/done', '--out', '{R}/a_file/figure'],
         r'cannot write the figure \S+/a_file/figure'),
    case('figure_no_logs', FIGURE, ['{R}/logs/nowhere'], r'logs/nowhere'),
    # ---- log folders that do not fit their run.json, damaged or unfinished runs
    case('figure_two_runs_mixed', FIGURE, ['{R}/logs/doubled'],
         r'logs/doubled does not fit its run.json \(\d+ lines per file where \d+ batches x T=40 make \d+\)'),
    case('figure_file_of_another_run', FIGURE, ['{R}/logs/swapped'],
         r'logs/swapped/sop_num.txt does not add up to the totals of its progress.json'),
    case('figure_family_file_missing', FIGURE, ['{R}/logs/no_collect'],
         r'logs/no_collect does not fit its run.json \(spike_collect.txt missing\)'),
    case('merge_shard_run_json_damaged', FASHION_SNN, FASHION + ['--model_file', '{R}/mlp_k1.npz', '--log_dir',
                                                                 '{R}/logs/shards', '--merge'],
         r'shard-1-of-2/run.json is damaged \(.*\): simulate shard 1/2 again'),
    case('figure_run_json_damaged', FIGURE, ['{R}/logs/bad_run_json'], r'logs/bad_run_json/run.json is damaged'),
    case('figure_unfinished_run', FIGURE, ['{R}/logs/other_run'],
         r'logs/other_run holds an unfinished run \(progress.json, no run.json\): continue it with --resume'),
    # ---- log folders in the authors' format (no run.json) whose files do not fit together
    case('figure_authors_log_negative', FIGURE, ['{R}/logs/authors_negative'],
         r'logs/authors_negative/spike_num.txt line 7 holds -5: a count cannot be negative'),
    case('figure_authors_log_nan', FIGURE, ['{R}/logs/authors_nan'],
         r'logs/authors_nan/accuracy.txt line 3 holds nan: a log holds finite numbers only'),
    case('figure_authors_log_fraction', FIGURE, ['{R}/logs/authors_fraction'],
         r'logs/authors_fraction/spike_num.txt line 6 holds 101.25: counts are whole numbers'),
    case('figure_authors_log_lengths', FIGURE, ['{R}/logs/authors_lengths'],
         r'logs/authors_lengths: its log files differ in length \(accuracy.txt 20 lines, sop_num.txt 19 lines'),
    case('figure_authors_log_empty', FIGURE, ['{R}/logs/authors_empty'],
         r'logs/authors_empty: its log files are empty'),
    case('figure_authors_log_no_T', FIGURE, ['{R}/logs/authors_per_batch'],
         r'logs/authors_per_batch: cannot tell T from the log files \(.*restart at every line.*\); pass '
         r'--time_steps'),
    case('figure_authors_log_uneven_batches', FIGURE, ['{R}/logs/authors_uneven'],
         r'logs/authors_uneven: cannot tell T from the log files \(.*restart at lines 7, 11, 17 of 20'),
    case('figure_authors_log_wrong_T', FIGURE, ['{R}/logs/authors', '--time_steps', '10'],
         r'logs/authors/spike_num.txt falls at line 6, inside a batch of T=10 lines'),
    # ---- the table runner: selections and data folders that cannot be meant (nothing starts, nothing is written)
    case('reproduce_rows_empty', REPRODUCE, ['fashion_mnist', '--rows', ''], r"argument --rows: an empty row id in ''"),
    case('reproduce_rows_trailing_comma', REPRODUCE, ['fashion_mnist', '--rows', 'mlp_fashionmnist_k1,'],
         r'argument --rows: an empty row id'),
    case('reproduce_rows_twice', REPRODUCE, ['fashion_mnist', '--rows', 'mlp_fashionmnist_k1,mlp_fashionmnist_k1'],
         r'mlp_fashionmnist_k1 named twice'),
    case('reproduce_list_and_write', REPRODUCE, ['--list', '--write_results'],
         r'--list only lists: give --write_results in a command of its own'),
    case('reproduce_restart_alone', REPRODUCE, ['--restart'], r'--restart goes with a table run'),
    case('reproduce_data_root_missing', REPRODUCE, ['fashion_mnist', '--data_root', '{R}/nowhere'],
         r'--data_root \S+/nowhere does not exist'),
    case('reproduce_data_root_empty', REPRODUCE, ['fashion_mnist', '--data_root', '{R}/empty'],
         r'--data_root \S+/empty holds no data set \(none of'),
    # ---- a full disk (ENOSPC injected at each write site: $SNN_INJECT_WRITE_ERROR)
    case('enospc_checkpoint', FASHION_ANN, FASHION + ['--model_file', '{R}/full/m.npz', '--epochs', '1'],
         ENOSPC % 'm.npz', env={'SNN_INJECT_WRITE_ERROR': 'm.npz'}),
    case('enospc_train_state', FASHION_ANN, FASHION + ['--model_file', '{R}/full/s.npz', '--epochs', '1'],
         ENOSPC % 's.train_state.npz', env={'SNN_INJECT_WRITE_ERROR': 'train_state'}),
    case('enospc_log_batch', FASHION_SNN, MLP[:4] + ['--log_dir', '{R}/full/logs1'], ENOSPC % 'accuracy.txt',
         env={'SNN_INJECT_WRITE_ERROR': 'accuracy.txt'}),
    case('enospc_progress', FASHION_SNN, MLP[:4] + ['--log_dir', '{R}/full/logs2'], ENOSPC % 'progress.json',
         env={'SNN_INJECT_WRITE_ERROR': 'progress.json'}),
    case('enospc_run_json', FASHION_SNN, MLP[:4] + ['--log_dir', '{R}/full/logs3'], ENOSPC % 'run.json',
         env={'SNN_INJECT_WRITE_ERROR': 'run.json'}),
    # ---- the same, in the middle of the write (half of the bytes in the file, then the full disk)
    case('enospc_checkpoint_midwrite', FASHION_ANN, FASHION + ['--model_file', '{R}/full/m2.npz', '--epochs', '1'],
         ENOSPC % 'm2.npz', env={'SNN_INJECT_WRITE_ERROR': 'm2.npz/mid'}),
    case('enospc_train_state_midwrite', FASHION_ANN, FASHION + ['--model_file', '{R}/full/s2.npz', '--epochs', '1'],
         ENOSPC % 's2.train_state.npz', env={'SNN_INJECT_WRITE_ERROR': 'train_state/mid'}),
    case('enospc_log_batch_midwrite', FASHION_SNN, MLP[:4] + ['--log_dir', '{R}/full/logs5'], ENOSPC % 'accuracy.txt',
         env={'SNN_INJECT_WRITE_ERROR': 'accuracy.txt/mid'}),
    case('enospc_progress_midwrite', FASHION_SNN, MLP[:4] + ['--log_dir', '{R}/full/logs6'],
         ENOSPC % 'progress.json', env={'SNN_INJECT_WRITE_ERROR': 'progress.json/mid'}),
    case('eio_log_batch', FASHION_SNN, MLP[:4] + ['--log_dir', '{R}/full/logs4'],
         r'cannot write \S+/sop_num.txt \(Input/output error\); everything written before it is intact',
         env={'SNN_INJECT_WRITE_ERROR': 'sop_num:EIO'}),
    case('enospc_frames', NMNIST_PRE, ['--data_dir', '{R}/events', '--out_dir', '{R}/full/frames'],
         ENOSPC % 'train.npz', env={'SNN_INJECT_WRITE_ERROR': 'train.npz'}),
    case('enospc_tfrecord_shard', IMAGENET_CONVERT, ['--data_dir', '{R}/imagenet_src', '--out_dir', '{R}/full/tfr',
                                                     '--train_shards', '1', '--val_shards', '1', '--workers', '1'],
         ENOSPC % 'train-00000-of-00001.tfrecord', env={'SNN_INJECT_WRITE_ERROR': '.tfrecord'}),
    case('enospc_tfrecord_meta', IMAGENET_CONVERT, ['--data_dir', '{R}/imagenet_src', '--out_dir', '{R}/full/tfr2',
                                                    '--train_shards', '1', '--val_shards', '1', '--workers', '1'],
         ENOSPC % 'meta.json', env={'SNN_INJECT_WRITE_ERROR': 'meta.json'}),
]


# ----------------------------------------------------------------------------- the broken inputs

def _params(name, rng):
    """Valid parameters of a registered architecture (weights N(0, 0.1), BN gamma 1, var 1)."""
    from snn_conversion.core import architectures
    out = []
    for label, shape in architectures.get(name).param_shapes():
        if 'gamma' in label or 'variance' in label:
            out.append(np.ones(shape, np.float32))
        elif label.endswith(' W') or label.startswith('readout'):
            out.append(rng.normal(0, 0.1, shape).astype(np.float32))
        else:
            out.append(np.zeros(shape, np.float32))
    return out


def _gzip(path, data):
    with gzip.open(path, 'wb') as f:
        f.write(data)


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def build(root):
    """Generate the inputs of every case in ``root`` (tiny data in the real formats, damaged copies)."""
    from conftest import make_cifar_like, make_imagenet, make_mnist_like, make_nmnist_like, write_nmnist_bin
    from spiking_utils import SpikingNetwork, run_test_set
    from snn_conversion.core import architectures
    from snn_conversion.data import imagenet
    from snn_conversion.data import nmnist
    from snn_conversion.core import checkpoint
    from snn_conversion.core.checkpoint import object_array
    from snn_conversion.core.fileio import atomic_savez
    from snn_conversion.core.provenance import provenance

    # looked up once for every checkpoint below (save_checkpoint takes the git revision from it)
    save_checkpoint = functools.partial(checkpoint.save_checkpoint, provenance=provenance())

    rng = np.random.RandomState(0)
    R = lambda *p: os.path.join(root, *p)  # noqa: E731
    open(R('a_file'), 'w').write('a regular file where a folder is needed\n')
    os.makedirs(R('empty'))
    # --- idx (MNIST, Fashion-MNIST)
    make_mnist_like(R('fashion'), 60, 20)
    make_mnist_like(R('mnist'), 60, 20)
    test_images = 't10k-images-idx3-ubyte.gz'
    data = open(R('fashion', test_images), 'rb').read()
    open(R(_copy(R('fashion'), R('bad_gz')), test_images), 'wb').write(data[:len(data) // 2])
    raw = gzip.decompress(data)
    _gzip(os.path.join(_copy(R('fashion'), R('bad_magic')), test_images), struct.pack('>HBB', 0, 0x0D, 3) + raw[4:])
    _gzip(os.path.join(_copy(R('fashion'), R('bad_idx_size')), test_images), raw[:-100])
    train = os.path.join(_copy(R('fashion'), R('bad_train')), 'train-images-idx3-ubyte.gz')
    _gzip(train, gzip.decompress(open(train, 'rb').read())[:-5])
    # --- CIFAR python pickles
    make_cifar_like(R('cifar'), n_train=10, n_test=10)
    open(os.path.join(_copy(R('cifar'), R('bad_cifar')), 'test_batch'), 'wb').write(b'\x80\x02}q\x00(X\x04')
    with open(os.path.join(_copy(R('cifar'), R('wrong_cifar')), 'test_batch'), 'wb') as f:
        pickle.dump({'pixels': [1, 2, 3]}, f, protocol=2)
    # --- N-MNIST event files and frames
    make_nmnist_like(R('events'), n_train=3, n_test=3)
    bad = _copy(R('events'), R('bad_events'))
    sample = os.path.join(bad, 'Test', sorted(os.listdir(os.path.join(bad, 'Test')))[0])
    sample = os.path.join(sample, sorted(os.listdir(sample))[0])
    open(sample, 'ab').write(b'\x01\x02')
    write_nmnist_bin(os.path.join(R('bad_address'), 'Train', '0', '00001.bin'), [40], [3], [1], [10])
    write_nmnist_bin(os.path.join(R('bad_address'), 'Test', '0', '00002.bin'), [1], [3], [1], [10])
    nmnist.convert(R('events'), R('frames'), progress=False)
    open(os.path.join(_copy(R('frames'), R('bad_frames')), 'test.npz'), 'wb').write(b'PK\x03\x04 not a zip')
    # --- ImageNet: JPEG folders and TFRecords
    make_imagenet(R('imagenet_src'), n_train=2, n_val=1)
    imagenet.convert(R('imagenet_src'), R('imagenet'), train_shards=1, val_shards=1, workers=1, progress=False)
    shard = os.path.join(_copy(R('imagenet'), R('imagenet_truncated')), 'validation-00000-of-00001.tfrecord')
    blob = open(shard, 'rb').read()
    open(shard, 'wb').write(blob[:len(blob) - 7])
    open(os.path.join(_copy(R('imagenet'), R('imagenet_bad_meta')), 'meta.json'), 'w').write('{"splits": ')
    jpeg = _copy(R('imagenet_src'), R('imagenet_bad_jpeg'))
    first = os.path.join(jpeg, 'val', sorted(os.listdir(os.path.join(jpeg, 'val')))[0])
    open(os.path.join(first, sorted(os.listdir(first))[0]), 'wb').write(b'\xff\xd8\xff\xe0 truncated JPEG')
    # --- checkpoints
    mlp = _params('mlp_fashionmnist', rng)
    save_checkpoint(R('mlp_k1.npz'), mlp, architecture='mlp_fashionmnist', k=1, dataset='fashion_mnist')
    # a training takes its checkpoint's lock: each training case that runs beside the others has its own file
    save_checkpoint(R('mlp_k1_trained.npz'), mlp, architecture='mlp_fashionmnist', k=1, dataset='fashion_mnist')
    save_checkpoint(R('resume_k1.npz'), mlp, architecture='mlp_fashionmnist', k=1, dataset='fashion_mnist')
    open(R('resume_k1.train_state.npz'), 'wb').write(b'not a training state')
    save_checkpoint(R('resume_lr.npz'), mlp, architecture='mlp_fashionmnist', k=1, dataset='fashion_mnist', epoch=1)
    np.savez(R('resume_lr.train_state.npz'), __epoch__=np.array(1), __learning_rate__=np.array(float('nan')))
    mlp_meta = dict(params=object_array(mlp), architecture=np.array('mlp_fashionmnist'), k=np.array('one'))
    np.savez(R('meta_k_text.npz'), **mlp_meta)
    save_checkpoint(R('lenet_k1.npz'), _params('lenet_fashionmnist', rng), architecture='lenet_fashionmnist', k=1)
    atomic_savez(R('lenet_authors.npz'), params=object_array(_params('lenet_fashionmnist', rng)))
    atomic_savez(R('mlp_nmnist_authors.npz'), params=object_array(_params('mlp_nmnist', rng)))
    save_checkpoint(R('mlp_nmnist.npz'), _params('mlp_nmnist', rng), architecture='mlp_nmnist', k=1)
    save_checkpoint(R('sg_B2.npz'), _params('lenet_mnist_sg', rng), architecture='lenet_mnist_sg', k=1, B=2)
    save_checkpoint(R('int_ternary.npz'), _params('lenet_mnist_int', rng), architecture='lenet_mnist_int', k=0,
                    weight_quant='ternary')
    save_checkpoint(R('cnn1.npz'), _params('cnn1_cifar10', rng), architecture='cnn1_cifar10', k=1)
    mobilenet = architectures.mobilenet(0.25, 32, 3)
    save_checkpoint(R('mobilenet.npz'), _params(mobilenet.name, rng), architecture=mobilenet.name, k=1)
    save_checkpoint(R('fp32.npz'), mlp, architecture='mlp_fashionmnist', k=None)
    for name, index, position, value in (('gamma0', 2, 3, 0.0), ('variance', 9, 1, -0.5), ('nan', 2, 7, np.nan),
                                         ('inf', 0, 5, np.inf)):
        bad = [a.copy() for a in mlp]
        bad[index].flat[position] = value
        save_checkpoint(R(name + '.npz'), bad, architecture='mlp_fashionmnist', k=1)
    blob = open(R('mlp_k1.npz'), 'rb').read()
    open(R('truncated.npz'), 'wb').write(blob[:len(blob) // 2])
    open(R('text.npz'), 'w').write('weights: 0.1 0.2 0.3\n')
    np.savez(R('noparams.npz'), weights=np.ones(3))
    # --- SNN log folders (as the CLI writes them, defaults T and batch): a finished run, an unfinished run
    # recorded with another T, a run whose accuracy.txt lost lines
    from spiking_utils import file_sha256, write_run_info
    from snn_conversion.data.datasets import load_test_inputs
    x, y = load_test_inputs('fashion_mnist', data_dir=R('fashion'))
    net = SpikingNetwork.from_checkpoint(R('mlp_k1.npz'), 'mlp_fashionmnist')
    T, batch = net.arch.defaults['time_steps'], net.arch.defaults['sim_batch_size']
    key = dict(checkpoint_sha256=file_sha256(R('mlp_k1.npz')))
    for name in ('other_run', 'damaged', 'done'):
        res = run_test_set(net, x, y, 40 if name == 'damaged' else T, batch, log_dir=R('logs', name), progress=False,
                           key=key)
    write_run_info(R('logs', 'done'), net, T, batch, res['n'], R('mlp_k1.npz'),
                   snn_accuracy=float(100.0 * res['correct'][-1] / res['n']), steps_run=res['steps_run'])
    with open(R('logs', 'damaged', 'accuracy.txt'), 'r+') as f:
        f.truncate(15)
    doubled = _copy(R('logs', 'done'), R('logs', 'doubled'))  # a second run appended to a finished folder
    for name in ('accuracy.txt', 'spike_num.txt', 'spike_collect.txt', 'sop_num.txt'):
        text = open(os.path.join(doubled, name)).read()
        open(os.path.join(doubled, name), 'w').write(text * 2)
    os.remove(os.path.join(_copy(R('logs', 'done'), R('logs', 'no_collect')), 'spike_collect.txt'))
    swapped = _copy(R('logs', 'done'), R('logs', 'swapped'))  # one file of another run, with as many lines
    lines = open(os.path.join(swapped, 'sop_num.txt')).read().split()
    open(os.path.join(swapped, 'sop_num.txt'), 'w').write(''.join('%d\n' % (int(v) + 1) for v in lines))
    open(os.path.join(_copy(R('logs', 'done'), R('logs', 'bad_run_json')), 'run.json'), 'w').write('{"time_st')
    for i in (1, 2):  # two finished shards, the first one's run.json damaged
        _copy(R('logs', 'done'), R('logs', 'shards', 'shard-%d-of-2' % i))
    open(R('logs', 'shards', 'shard-1-of-2', 'run.json'), 'w').write('{"architecture": "mlp_fash')
    path = R('logs', 'other_run', 'progress.json')
    with open(path) as f:
        rec = json.load(f)
    rec['key']['time_steps'] = 7
    with open(path, 'w') as f:
        json.dump(rec, f)
    # --- SNN log folders in the authors' format (no run.json): one line per (batch, t), spike_num and sop_num
    # cumulative within a batch; a sound one (4 batches x T=5) and copies whose files do not fit together
    def authors_log(name, sizes=(5, 5, 5, 5), change=lambda cols: cols):
        cols = collections.OrderedDict((k, []) for k in ('accuracy', 'spike_num', 'sop_num', 'spike_collect'))
        for b, steps in enumerate(sizes):
            for t in range(steps):
                spikes = (t + 1) * (100 + b)
                cols['accuracy'].append('%d' % (20 + t + b))
                cols['spike_num'].append('%d' % spikes)
                cols['sop_num'].append('%d' % (7 * spikes))
                cols['spike_collect'].append('%.1f' % (spikes - 3 * t))
        os.makedirs(R('logs', name))
        for k, lines in change(cols).items():
            with open(R('logs', name, k + '.txt'), 'w') as f:
                f.write(''.join(line + '\n' for line in lines))

    def line(k, i, value):
        def change(cols):
            cols[k][i - 1] = value
            return cols
        return change

    authors_log('authors')
    authors_log('authors_negative', change=line('spike_num', 7, '-5'))
    authors_log('authors_nan', change=line('accuracy', 3, 'nan'))
    authors_log('authors_fraction', change=line('spike_num', 6, '101.25'))
    authors_log('authors_lengths', change=lambda cols: dict(cols, sop_num=cols['sop_num'][:-1]))
    authors_log('authors_empty', change=lambda cols: {k: [] for k in cols})
    authors_log('authors_per_batch', change=lambda cols: {k: v[4::5][::-1] for k, v in cols.items()})
    authors_log('authors_uneven', sizes=(6, 4, 6, 4))
    return root


# ----------------------------------------------------------------------------- running the table

Result = collections.namedtuple('Result', 'case handled returncode stderr reason')


# a tqdm progress bar ("desc:  40%|####      | 2/5 [00:01<00:02, 1.2it/s]"), drawn before the error was found
_PROGRESS_BAR = re.compile(r'^.*\d+%\|.*\| *\d+/\d+ \[.*\]\s*$')


def error_lines(stderr):
    """The non-empty lines of stderr that are not progress-bar frames (tqdm redraws with carriage returns)."""
    return [line for line in re.split(r'[\r\n]+', stderr) if line.strip() and not _PROGRESS_BAR.match(line)]


def run_case(c, root, timeout=300):
    """Run one case; a Result says whether it was handled and, if not, why."""
    args = list(c.args)
    if os.path.basename(c.script).startswith('Spiking_') and '--log_dir' not in args:
        # every simulation writes to a folder of its own: never to the checkout's default log folders, and
        # never to a folder another case (running at the same time) holds locked
        args += ['--log_dir', '{R}/logs/case_%s' % c.name]
    args = [a.replace('{R}', root) for a in args]
    env = dict(os.environ)
    for var in ('SNN_DATA_DIR', 'TF_CONFIG'):
        env.pop(var, None)
    env.update(c.env)
    env.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    # the scripts of this checkout import this checkout (the environment's editable install may name another)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (ROOT, env.get('PYTHONPATH')) if p)
    cwd = os.path.join(root, 'cwd')  # an empty working folder: no ./data, no default checkpoints
    os.makedirs(cwd, exist_ok=True)
    try:
        p = subprocess.run([sys.executable, os.path.join(ROOT, c.script)] + args, cwd=cwd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(c, False, None, '', 'no answer within %d s' % timeout)
    return judge(c, root, p.returncode, p.stderr)


def judge(c, root, returncode, stderr):
    """The Result of case ``c`` whose script exited with ``returncode`` after printing ``stderr``."""
    lines = error_lines(stderr)
    reason = None
    if 'Traceback' in stderr:
        reason = 'printed a traceback'
    elif returncode != EXIT_USER_ERROR:
        reason = 'exit code %s, expected %d' % (returncode, EXIT_USER_ERROR)
    elif len(lines) != 1:
        reason = '%d lines on stderr, expected 1' % len(lines)
    elif not lines[0].startswith('error: '):
        reason = 'stderr does not start with "error: "'
    elif not re.search(c.expect, lines[0].replace(root, '{R}').replace('{R}', root)):
        reason = 'message does not match %r' % c.expect
    return Result(c, reason is None, returncode, stderr, reason)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('-k', dest='select', default='', help='only the cases whose name contains this')
    p.add_argument('--jobs', type=int, default=os.cpu_count() or 1, help='cases run at once (default: CPU count)')
    p.add_argument('--keep', default=None, help='build the inputs in this folder and keep them')
    p.add_argument('--inputs', default=None, help='run the cases on the inputs built before in this folder (by '
                                                  '--keep): nothing is built')
    a = p.parse_args(argv)
    if a.inputs is not None and (a.keep is not None or not os.path.isdir(a.inputs)):
        p.error('--inputs needs a folder of inputs built before (by --keep), and no --keep')
    cases = [c for c in CASES if a.select in c.name]
    root = a.inputs or a.keep or tempfile.mkdtemp(prefix='fault-injection-')
    try:
        if a.inputs is None:
            os.makedirs(root, exist_ok=True)
            with contextlib.redirect_stdout(io.StringIO()):
                build(root)
        with ThreadPoolExecutor(max(1, a.jobs)) as pool:
            results = list(pool.map(lambda c: run_case(c, root), cases))
    finally:
        if a.keep is None and a.inputs is None:
            shutil.rmtree(root, ignore_errors=True)
    for r in results:
        if r.handled:
            print('handled  %-34s %s' % (r.case.name, error_lines(r.stderr)[-1].replace(root, '<inputs>')))
        else:
            print('FAILED   %-34s %s\n%s' % (r.case.name, r.reason, r.stderr.rstrip()[-3000:]))
    handled = sum(r.handled for r in results)
    print('%d cases, %d handled' % (len(results), handled))
    return 0 if handled == len(results) else 1


if __name__ == '__main__':
    sys.exit(main())
