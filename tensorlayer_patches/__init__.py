"""Stock TensorLayer 1.11.1 plus what the authors' fork added, for TensorFlow 1.15.

``import tensorlayer_patches as tl`` behaves like ``import tensorlayer as tl``
with, in addition:

* ``tl.layers.Quant_Layer`` -- the activation quantizer ``round(2^k x + 1e-5) / 2^k``
  (optional clip to [-B, B]) with a straight-through gradient;
* ``tl.layers.Quant_Conv2d`` / ``tl.layers.Quant_DenseLayer`` -- bias-free
  convolution / dense layers with ternary (TWN, 0.7 mean|W|) or k-bit weights;
* ``tl.files.save_npz`` / ``tl.files.load_npz`` fixed for numpy >= 1.16.3
  (object arrays need ``allow_pickle``) and for ragged parameter lists.

The sub-modules are the patches themselves (``compat``, ``quantization``, and ``startup``: TensorLayer imported
without the heavy modules it loads for helpers the project never calls);
the documented command-line names ``python -m tensorlayer_patches.checkpoint|datasets``
are aliases of the project's own package, :mod:`snn_conversion` (ARCHITECTURE.md).  Importing this package does not
import TensorFlow; the patched TensorLayer is loaded on first use of any other
attribute.
"""

from __future__ import absolute_import, division, print_function

import importlib

from snn_conversion.core.tf_logging import quiet_tensorflow

__all__ = ['load', 'quiet_tensorflow']

_SUBMODULES = ('compat', 'quantization', 'startup', 'checkpoint', 'datasets')
_TL = None


def load():
    """The patched ``tensorlayer`` module (imports TensorFlow and TensorLayer on first call)."""
    global _TL
    if _TL is None:
        quiet_tensorflow()
        tensorlayer = importlib.import_module('tensorlayer_patches.startup').import_tensorlayer()
        tensorlayer.logging.set_verbosity(tensorlayer.logging.WARN)
        importlib.import_module('tensorlayer_patches.compat').apply(tensorlayer)
        importlib.import_module('tensorlayer_patches.quantization').register(tensorlayer)
        _TL = tensorlayer
    return _TL


def __getattr__(name):  # PEP 562 (Python 3.7): lazy access to the patched TensorLayer
    if name in _SUBMODULES:
        return importlib.import_module('tensorlayer_patches.' + name)
    if name.startswith('__') and name not in ('__version__',):
        raise AttributeError(name)
    return getattr(load(), name)
