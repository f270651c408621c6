"""The numpy backend (``engine='sparse'``): busy inputs through BLAS (the layer's dense kernel), sparse ones
through the scipy im2col of their events, the neuron rule's own vectorized update."""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.snn.backends import Backend
from snn_conversion.snn.kernels import DENSE_INPUT_FRACTION, Events, event_increments

__all__ = ['NumpyBackend', 'BACKEND', 'spikes_out']


def spikes_out(shape, rows, up, down, fraction):
    """(out, n_abs, n_signed) from the (rows, channels) masks of the examined ``rows`` (None: all): a dense
    int8 array when every row was examined and more than ``fraction`` of the neurons spiked, else Events."""
    n_up, n_down = np.count_nonzero(up), np.count_nonzero(down)
    if not n_up + n_down:
        return None, 0, 0
    cout = shape[-1]
    if rows is None and n_up + n_down > fraction * up.size:
        out = (up.view(np.int8) - down.view(np.int8)).reshape(shape)
    else:
        r_up, c_up = np.nonzero(up)
        r_dn, c_dn = np.nonzero(down)
        rr = np.concatenate((r_up, r_dn))
        flat = (rr if rows is None else rows[rr]) * cout + np.concatenate((c_up, c_dn))
        v = np.concatenate((np.ones(n_up, np.int8), -np.ones(n_down, np.int8)))
        n_idx, h_idx, w_idx, c_idx = np.unravel_index(flat, shape)
        out = Events(n_idx, h_idx, w_idx, c_idx, v)
    return out, int(n_up + n_down), int(n_up - n_down)


class NumpyBackend(Backend):
    """No state of its own: the layer's dense kernel, scipy products of events, the neuron rule's update."""

    name = 'sparse'
    dense_fraction = DENSE_INPUT_FRACTION

    def integrate_dense(self, layer, x):
        layer.integrate(x)

    def integrate_events(self, layer, x):
        touched, delta = event_increments(x, layer.w, layer.stride, layer.pads, layer.out_shape, layer.depthwise)
        layer.m.reshape(-1, layer.out_shape[2])[touched] += layer.membrane(delta)
        return touched

    def fire(self, layer, rows):
        up, down, spiking = layer.update_neurons(rows)
        return spikes_out(layer.m.shape, rows, up, down, self.dense_fraction) + (spiking,)

    def fire_graded(self, layer):
        """Scatter-and-gather: the graded spikes (int16) of a multi-threshold layer."""
        return layer.neuron.fire(layer.m, layer.rng)


BACKEND = NumpyBackend
