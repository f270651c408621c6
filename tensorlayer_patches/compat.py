"""Fixes stock TensorLayer 1.11.1 needs on TensorFlow 1.15 / numpy 1.18.

* ``tl.files.load_npz``: numpy >= 1.16.3 refuses object arrays without
  ``allow_pickle=True``, so every ``.npz`` written by ``save_npz`` failed to load.
* ``tl.files.save_npz``: ``np.savez(params=list)`` turns the list into an array
  with ``np.array``, which raises (or silently stacks) when the shapes are
  ragged or equal; the list is stored as an explicit object array instead.
"""

from __future__ import absolute_import, division, print_function

import os

from tensorlayer_patches.checkpoint import atomic_savez, load_checkpoint, object_array

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


def apply(tl):
    tl.files.save_npz = save_npz
    tl.files.load_npz = load_npz
    tl.files.utils.save_npz = save_npz
    tl.files.utils.load_npz = load_npz
