"""Negative-spike neurons: at most one +1 or -1 spike per neuron and step, the count following the membrane.

* :class:`NegativeSpikeNeuron` (``'negative_spike'``) -- the neuron-exact rule: the count is an integer and the
  next up- and down-thresholds are recomputed from it, ``b + (c + 1) theta`` and ``b + c theta`` (float: ``>``/
  ``<=``; integer membranes: ``>=``/``<``, i.e. count = #{j : m >= b + j theta});
* :class:`AuthorsShadowNeuron` (``'authors_shadow'``) -- the authors' negative-spike scripts: a float shadow
  potential;
* :class:`AuthorsThresholdNeuron` (``'authors_thresholds'``) -- the authors' all-integer scripts: running up- and
  down-thresholds.
"""

from __future__ import absolute_import, division, print_function

import collections.abc

import numpy as np

from snn_conversion.snn.neurons.base import Neuron, flat, register_neuron, selected

__all__ = ['NegativeSpikeNeuron', 'CountThresholds', 'AuthorsShadowNeuron', 'AuthorsThresholdNeuron',
           'AUTHORS_TOLERANCE']

AUTHORS_TOLERANCE = 1e-5  # the authors' down-spike tolerance


def _signed(up, down):
    return up.view(np.int8) - down.view(np.int8)


@register_neuron
class NegativeSpikeNeuron(Neuron):
    """The exact rule; int64 thresholds make int64 membranes and thresholds."""

    name = 'negative_spike'

    def __init__(self, theta, base):
        super(NegativeSpikeNeuron, self).__init__(theta, base)
        self.lowest = np.iinfo(np.int64).min if self.integer else -np.inf

    def init_state(self, shape):
        hi = np.empty(shape, dtype=self.theta.dtype)
        hi[...] = self.base + self.theta
        return dict(hi=hi, lo=np.full(shape, self.lowest, dtype=self.theta.dtype))

    def state_of(self, count):
        """The state as a function of the counts (:class:`CountThresholds`), for a backend that stores none."""
        return CountThresholds(self, count)

    def compare(self, m, hi, lo):
        """(up, down) masks against the next thresholds."""
        if self.integer:
            return m >= hi, m < lo
        return m > hi, m <= lo

    def fire(self, m, count, state, rows, rng=None):
        return _signed(*self.update(m, count, state, rows))

    def update(self, m, count, state, rows):
        """The (up, down) masks of ``rows``; counts and thresholds updated."""
        cout = m.shape[-1]
        m2, c2 = flat(m), flat(count)
        hi2, lo2 = flat(state['hi']), flat(state['lo'])
        if rows is None:  # every neuron: whole-array passes
            up, down = self.compare(m2, hi2, lo2)
            c2 += up
            c2 -= down
            spiked = up | down
            if np.count_nonzero(spiked) > 0.1 * spiked.size:
                np.add(self.base, (c2 + 1) * self.theta, out=hi2)
                np.multiply(c2, self.theta, out=lo2)
                lo2 += self.base
                lo2[c2 == 0] = self.lowest
            else:
                self.set_thresholds(count, state, np.flatnonzero(spiked))
            return up, down
        up, down = self.compare(m2[rows], hi2[rows], lo2[rows])
        spiked = up | down
        c2[rows] += up.astype(np.int32) - down
        r, c = np.nonzero(spiked)
        self.set_thresholds(count, state, rows[r] * cout + c)
        return up, down

    def set_thresholds(self, count, state, flat_index):
        """Recompute the next thresholds of the neurons ``flat_index`` (flat NHWC indices) from their counts."""
        if not len(flat_index):
            return
        ch = flat_index % count.shape[-1]
        c = count.reshape(-1)[flat_index]
        state['hi'].reshape(-1)[flat_index] = self.base[ch] + (c + 1) * self.theta[ch]
        state['lo'].reshape(-1)[flat_index] = np.where(c > 0, self.base[ch] + c * self.theta[ch], self.lowest)


class CountThresholds(collections.abc.Mapping):
    """A :class:`NegativeSpikeNeuron`'s state computed from the counts each time it is read: ``'hi'`` = b + (c + 1)
    theta and ``'lo'`` = b + c theta (the lowest value at c = 0) -- the values the neuron stores, the same float64
    (or int64) expressions.  What is written into the arrays it returns is dropped: the next read recomputes the
    thresholds from the counts, which is what the stored ones would then hold."""

    def __init__(self, neuron, count):
        self.neuron, self.count = neuron, count

    def __getitem__(self, key):
        neuron, c = self.neuron, self.count
        if key == 'hi':
            return neuron.base + (c + 1) * neuron.theta
        if key == 'lo':
            lo = np.multiply(c, neuron.theta) + neuron.base
            lo[c == 0] = neuron.lowest
            return lo
        raise KeyError(key)

    def __iter__(self):
        return iter(('hi', 'lo'))

    def __len__(self):
        return 2


@register_neuron
class AuthorsShadowNeuron(Neuron):
    """The authors' negative-spike scripts: a float shadow potential ``m_q`` starting at the base; +1 when
    ``max(m, b) - m_q > theta``, -1 when it is ``< -1e-5``; ``m_q`` moves by theta (float64 comparisons)."""

    name = 'authors_shadow'

    def init_state(self, shape):
        return dict(m_q=np.broadcast_to(self.base, shape).copy())

    def fire(self, m, count, state, rows, rng=None):
        sel = selected(rows)
        m_b = np.maximum(flat(m)[sel], self.base)
        q2 = flat(state['m_q'])
        d = m_b - q2[sel]
        up = d > self.theta
        down = (d < -AUTHORS_TOLERANCE) & ~up
        q2[sel] += np.where(up, self.theta, np.where(down, -self.theta, 0.0))
        flat(count)[sel] += up.astype(np.int32) - down
        return _signed(up, down)


@register_neuron
class AuthorsThresholdNeuron(Neuron):
    """The authors' all-integer scripts: the next up- and down-thresholds start at ``b + theta`` and ``b``; +1
    when ``max(m, b)`` exceeds the first, -1 when it is below the second minus 1e-5; both move by theta."""

    name = 'authors_thresholds'

    def init_state(self, shape):
        return dict(pos=np.broadcast_to(self.base + self.theta, shape).copy(),
                    neg=np.broadcast_to(self.base, shape).copy())

    def fire(self, m, count, state, rows, rng=None):
        sel = selected(rows)
        m_b = np.maximum(flat(m)[sel], self.base)
        pos, neg = flat(state['pos']), flat(state['neg'])
        up = m_b > pos[sel]
        down = (m_b < neg[sel] - AUTHORS_TOLERANCE) & ~up
        move = np.where(up, self.theta, np.where(down, -self.theta, 0.0))
        pos[sel] += move
        neg[sel] += move
        flat(count)[sel] += up.astype(np.int32) - down
        return _signed(up, down)
