"""TensorFlow with its logging quiet by default (imported lazily, on first call)."""

from __future__ import absolute_import, division, print_function

import os

__all__ = ['quiet_tensorflow']


def quiet_tensorflow():
    """Silence TensorFlow's C++ and Python logging (set before TensorFlow is imported, idempotent); returns tf."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import warnings
    warnings.filterwarnings('ignore', category=FutureWarning)
    warnings.filterwarnings('ignore', category=DeprecationWarning)
    import tensorflow as tf
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    try:
        from tensorflow.python.util import deprecation
        deprecation._PRINT_DEPRECATION_WARNINGS = False
    except ImportError:  # pragma: no cover - layout of other TF versions
        pass
    return tf
