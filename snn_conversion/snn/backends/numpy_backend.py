"""The numpy backend (``engine='sparse'``): busy inputs through BLAS (the layer's dense kernel), sparse ones
through the scipy im2col of their events, the neuron's own vectorized update."""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.snn.backends import Backend
from snn_conversion.snn.kernels import DENSE_INPUT_FRACTION, Events, event_increments

__all__ = ['NumpyBackend', 'BACKEND', 'spikes_out']


def spikes_out(shape, rows, spikes, fraction):
    """(out, n_abs, n_signed) from the spikes (rows, channels) of the examined ``rows`` (None: all): a dense
    array when every row was examined and more than ``fraction`` of the neurons spiked, else Events (the positive
    spikes first); n_abs is the sum of their magnitudes, n_signed their sum."""
    up, down = spikes > 0, spikes < 0
    n_up, n_down = np.count_nonzero(up), np.count_nonzero(down)
    if not n_up + n_down:
        return None, 0, 0
    cout = shape[-1]
    if rows is None and n_up + n_down > fraction * up.size:
        return spikes.reshape(shape), int(np.abs(spikes).sum(dtype=np.int64)), int(spikes.sum(dtype=np.int64))
    r_up, c_up = np.nonzero(up)
    r_dn, c_dn = np.nonzero(down)
    rr, cc = np.concatenate((r_up, r_dn)), np.concatenate((c_up, c_dn))
    v = spikes[rr, cc]
    n_idx, h_idx, w_idx, c_idx = np.unravel_index((rr if rows is None else rows[rr]) * cout + cc, shape)
    return Events(n_idx, h_idx, w_idx, c_idx, v), int(np.abs(v).sum(dtype=np.int64)), int(v.sum(dtype=np.int64))


class NumpyBackend(Backend):
    """No state of its own: the layer's dense kernel, scipy products of events, the neuron's own ``fire``."""

    name = 'sparse'
    dense_fraction = DENSE_INPUT_FRACTION

    def integrate_dense(self, layer, x):
        layer.integrate(x)

    def integrate_events(self, layer, x):
        touched, delta = event_increments(x, layer.w, layer.stride, layer.pads, layer.out_shape, layer.depthwise)
        layer.m.reshape(-1, layer.out_shape[2])[touched] += layer.membrane(delta)
        return touched

    def fire(self, layer, rows):
        spikes = layer.fire_neurons(rows)
        return spikes_out(layer.m.shape, rows, spikes, self.dense_fraction) + (layer.spiking_rows(spikes, rows),)


BACKEND = NumpyBackend
