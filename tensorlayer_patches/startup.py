"""TensorLayer 1.11.1's import without the heavy modules it loads for functions the project never calls.

``import tensorlayer`` takes about 1 s of CPU on top of TensorFlow's own, and most of it goes to three imports
made at the top of TensorLayer's modules for helpers this project does not use: ``matplotlib.pyplot``
(``tl.files.utils``, ``tl.visualize``), ``sklearn.metrics`` (``tl.utils.evaluation``) and
``tensorflow.contrib.rnn`` (``tl.layers.recurrent``: the bidirectional RNN layers; importing it loads all of
``tf.contrib``).  Every workspace script pays it at start, every time.

:func:`import_tensorlayer` imports TensorLayer with a stand-in module in place of each of them that is not loaded
yet.  A name TensorLayer takes from a stand-in while it is being imported (``from sklearn.metrics import
f1_score``) becomes a function that imports the real module when it is called and calls the real function; any
other attribute of a stand-in (``plt.figure``) is the real module's, looked up on use.  The stand-ins leave
``sys.modules`` as soon as TensorLayer is imported, so any later ``import matplotlib.pyplot`` (the figures) or
``tf.contrib`` gets the real module.  Nothing TensorLayer computes changes; only when the modules load.
"""

from __future__ import absolute_import, division, print_function

import importlib
import sys
import types

__all__ = ['DEFERRED', 'import_tensorlayer']

# imported by TensorLayer 1.11.1 at its import, used only by functions of it the project never calls
DEFERRED = ('matplotlib.pyplot', 'sklearn.metrics', 'tensorflow.contrib.rnn')


class DeferredModule(types.ModuleType):
    """Stands for module ``name`` until it is used; see the module's docstring."""

    def __init__(self, name):
        super(DeferredModule, self).__init__(name)
        self.__dict__['importing'] = True  # TensorLayer's import under way: names taken now are forwarders

    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        name = self.__name__
        if not self.__dict__['importing']:
            return getattr(importlib.import_module(name), attr)

        def forward(*args, **kwargs):
            return getattr(importlib.import_module(name), attr)(*args, **kwargs)

        forward.__name__ = forward.__qualname__ = attr
        forward.__doc__ = 'Imports %s on the first call and calls its %s.' % (name, attr)
        return forward


def import_tensorlayer():
    """``import tensorlayer`` with the modules of :data:`DEFERRED` not loaded; returns the module."""
    if 'tensorlayer' in sys.modules:
        return importlib.import_module('tensorlayer')
    standing = {}
    for name in DEFERRED:
        if name not in sys.modules:
            standing[name] = sys.modules[name] = DeferredModule(name)
    try:
        return importlib.import_module('tensorlayer')
    finally:
        for name, module in standing.items():
            module.__dict__['importing'] = False
            if sys.modules.get(name) is module:
                del sys.modules[name]
