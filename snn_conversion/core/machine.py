"""The machine a run measured on, in the words its records use: '2 CPU cores (<model>), no GPU'."""

from __future__ import absolute_import, division, print_function

import os
import platform

__all__ = ['cpu_model', 'gpu_visible', 'machine_description']


def cpu_model(cpuinfo='/proc/cpuinfo'):
    """The processor's model name (``/proc/cpuinfo``; elsewhere what :mod:`platform` says)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except (IOError, OSError):
        pass
    return platform.processor() or platform.machine()


def gpu_visible():
    """Whether an NVIDIA GPU is visible here (its device file; TensorFlow is not asked, so no import of it)."""
    return os.path.exists('/dev/nvidia0')


def machine_description():
    """'2 CPU cores (<model>), no GPU' -- the training scripts use the CPU unless TensorFlow sees a GPU."""
    gpu = 'GPU visible' if gpu_visible() else 'no GPU'
    return '%d CPU cores (%s), %s' % (os.cpu_count() or 1, cpu_model(), gpu)
