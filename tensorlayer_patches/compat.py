"""Fixes stock TensorLayer 1.11.1 needs on TensorFlow 1.15 / numpy 1.18.

* ``tl.files.load_npz``: numpy >= 1.16.3 refuses object arrays without
  ``allow_pickle=True``, so every ``.npz`` written by ``save_npz`` failed to load.
* ``tl.files.save_npz``: ``np.savez(params=list)`` turns the list into an array
  with ``np.array``, which raises (or silently stacks) when the shapes are
  ragged or equal; the list is stored as an explicit object array instead.
"""

from __future__ import absolute_import, division, print_function

import os

from snn_conversion.core.checkpoint import load_checkpoint, object_array
from snn_conversion.core.fileio import atomic_savez

__all__ = ['apply', 'save_npz', 'load_npz']


def save_npz(save_list=None, name='model.npz', sess=None):
    """Save a list of TensorFlow variables/tensors (evaluated in ``sess``) to ``name`` (TensorLayer layout)."""
    save_list = list(save_list or [])
    if sess is not None:
        values = sess.run(save_list)
    else:
        values = [v.eval() for v in save_list]
    atomic_savez(name, params=object_array(values))


def load_npz(path='', name='model.npz'):
    """Load the parameter list written by :func:`save_npz` (or the authors' code)."""
    params, _ = load_checkpoint(os.path.join(path, name))
    return params


def _fast_protected(func):
    """TensorLayer's ``protected_method`` check without ``inspect.stack()``.

    The stock decorator builds the whole call stack, reading every frame's source file, on every call of
    ``Layer._add_layers`` / ``_add_params`` / ...: about 4 s per network build.  The same check (the caller
    is a method of an instance of a related class) needs only the caller's frame.
    """
    import functools
    import inspect
    import sys

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        caller = sys._getframe(1).f_locals.get('self')
        if caller is not args[0]:
            related = caller is not None and any(
                issubclass(type(caller), cls) for cls in inspect.getmro(type(args[0]))[:-1])
            if not related:
                raise RuntimeError('%s.%s is a protected method' % (type(args[0]).__name__, func.__name__))
        return func(*args, **kwargs)

    return wrapper


def _unwrap_protected(method):
    """The function inside TensorLayer's ``protected_method`` wrapper (None if not wrapped so)."""
    if getattr(method, '__name__', '') != 'func_wrapper' or not method.__closure__:
        return None
    inner = [c.cell_contents for c in method.__closure__ if callable(c.cell_contents)]
    return inner[0] if len(inner) == 1 else None


def apply(tl):
    tl.files.save_npz = save_npz
    tl.files.load_npz = load_npz
    tl.files.utils.save_npz = save_npz
    tl.files.utils.load_npz = load_npz
    layer = tl.layers.core.Layer
    for name, method in list(vars(layer).items()):
        inner = _unwrap_protected(method)
        if inner is not None:
            setattr(layer, name, _fast_protected(inner))
