"""The machine a run measured on, in the words its records use: '2 CPU cores (<model>), no GPU'."""

from __future__ import absolute_import, division, print_function

import os
import platform

__all__ = ['cpu_model', 'machine_description']


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


def machine_description():
    """'2 CPU cores (<model>), no GPU' -- the training scripts use the CPU unless TensorFlow sees a GPU."""
    gpu = 'GPU visible' if os.path.exists('/dev/nvidia0') else 'no GPU'
    return '%d CPU cores (%s), %s' % (os.cpu_count() or 1, cpu_model(), gpu)
