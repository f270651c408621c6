"""Which device TensorFlow trains on, said in one line before training starts.

TensorFlow 1.15 (``tensorflow-gpu==1.15.5``) uses a GPU only with CUDA 10.0 and cuDNN 7.6 installed, and its
kernels are built for GPUs up to Turing (compute capability 7.5): on Ampere or Hopper GPUs it needs NVIDIA's
TensorFlow 1.15 builds (the ``nvidia-tensorflow`` wheels or the NGC ``tensorflow:*-tf1-py3`` containers).
Without them it trains on the CPU -- for days, on ImageNet -- with nothing but a log line at the C++ level
(which this project silences).  :func:`report` prints the device in use and, when an NVIDIA GPU is in the
machine but TensorFlow cannot use it, one warning line that says why and what to install.
"""

from __future__ import absolute_import, division, print_function

import glob
import os
import subprocess
import sys

__all__ = ['gpus_in_machine', 'tensorflow_gpus', 'report', 'GPU_HELP']

GPU_HELP = ('TensorFlow 1.15 needs CUDA 10.0 and cuDNN 7.6 (for Ampere/Hopper GPUs: NVIDIA\'s TensorFlow 1.15 '
            'build, pip nvidia-tensorflow or the NGC tf1 container); see docs/usage.md "Training on a GPU"')


def gpus_in_machine():
    """Names of the NVIDIA GPUs the machine has (its driver's view; no TensorFlow), possibly empty."""
    names = []
    for info in sorted(glob.glob('/proc/driver/nvidia/gpus/*/information')):
        try:
            with open(info) as f:
                for line in f:
                    if line.startswith('Model:'):
                        names.append(line.split(':', 1)[1].strip())
        except OSError:
            continue
    if names:
        return names
    try:
        out = subprocess.run(['nvidia-smi', '-L'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(':', 1)[1].split('(UUID')[0].strip() for line in out.splitlines() if line.startswith('GPU ')]


def tensorflow_gpus(tf):
    """The GPUs TensorFlow can use (names of its physical GPU devices)."""
    try:
        return [d.name for d in tf.config.experimental.list_physical_devices('GPU')]
    except Exception:  # noqa: BLE001 -- a broken CUDA installation raises anything here
        return []


def report(tf, num_gpus=1, stream=None, hardware=None):
    """Print 'device: ...' (and the one-line warning when a GPU is present but unusable); returns the GPUs
    TensorFlow sees.  ``hardware``: the machine's GPUs (default: :func:`gpus_in_machine`)."""
    stream = stream or sys.stdout
    usable = tensorflow_gpus(tf)
    hardware = gpus_in_machine() if hardware is None else hardware
    if usable:
        stream.write('device: %d GPU(s) for TensorFlow %s (%s)%s\n' % (
            len(usable), tf.__version__, ', '.join(hardware) or ', '.join(usable),
            '' if num_gpus <= len(usable) else '; %d tower(s) asked for' % num_gpus))
        return usable
    stream.write('device: CPU (%d core(s)); TensorFlow %s sees no GPU\n' % (os.cpu_count() or 1, tf.__version__))
    if hardware:
        sys.stderr.write('warning: this machine has %s but TensorFlow cannot use it, so training runs on the CPU: '
                         '%s\n' % (', '.join(hardware), GPU_HELP))
    return usable
