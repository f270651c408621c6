"""Reproduce the seeds' result tables: one command per table, resumable.

    python reproduce.py mnist_negative_spike --data_root ../shared/data   # seed 001, MNIST LeNet
    python reproduce.py fashion_mnist                                     # seed 001, Fashion-MNIST MLP + LeNet
    python reproduce.py mnist_all_integer --data_root ../shared/data      # seed 002
    python reproduce.py mnist_scatter_gather --data_root ../shared/data   # seed 003
    python reproduce.py --list                                            # the tables, rows and their state
    python reproduce.py mnist_all_integer --measure                       # time one epoch of rows not started
    python reproduce.py fashion_mnist --rows lenet_fashionmnist_fp32 --repeat 1   # a row again, random seed 1
    python reproduce.py --export_resume                                   # part-trained rows' state, for git
    python reproduce.py mnist_scatter_gather --repeat 1 --export_resume   # part-trained repeats' state
    python reproduce.py --verify --rows mlp_fashionmnist_k1               # a row from its shipped checkpoint
    python reproduce.py n_mnist_subset --data_root ../shared/data         # seed 004 on 1,000 real N-MNIST samples
    python reproduce.py cifar10_negative_spike --rows cnn1_cifar10_k1 --data_root DIR --smoke  # a row, tiny budget
    python reproduce.py fashion_mnist --rows lenet_fashionmnist_fp32 --restart   # again from epoch 0 (numbers kept)
    python reproduce.py --write_results                                   # RESULTS.md from the records

Each row is trained -> evaluated -> simulated -> recorded in <workspace>/records/<row>.json; run the same
command again after a kill (or in a later session) and it skips finished rows and resumes the interrupted one.
"""
import sys

from snn_conversion.core.blas import select_kernels

select_kernels()  # before numpy loads; the ANN and SNN scripts run as child processes inherit the choice

from snn_conversion.reproduce.cli import main  # noqa: E402
from snn_conversion.core.errors import run_cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_cli(main))
