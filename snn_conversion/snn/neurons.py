"""Neuron rules: pure steps over state arrays, apart from the synapses (layers) and from counting.

Every rule works on a layer's membrane ``m`` and spike count ``count`` (NHWC arrays the layer owns) and on the
rule's own state, a dict of arrays made by ``init_state(shape)``.  ``rows`` selects the neurons to examine as
flat (n, h, w) indices (None: all); the result is the (up, down) masks of those rows, (rows, channels).

* :class:`NegativeSpikeNeuron` -- the neuron-exact rule (``rule='exact'``): the count is an integer and the next
  up- and down-thresholds are recomputed from it, ``b + (c + 1) theta`` and ``b + c theta`` (float: ``>``/``<=``;
  integer membranes: ``>=``/``<``, i.e. count = #{j : m >= b + j theta}).
* :class:`AuthorsShadowNeuron` -- the authors' negative-spike update: a float shadow potential.
* :class:`AuthorsThresholdNeuron` -- the authors' all-integer scripts' update: running up/down thresholds.
* :class:`MultiThresholdNeuron` -- scatter-and-gather: all thresholds compared in one step (and the authors'
  :class:`AuthorsMultiThresholdNeuron`).
* :class:`DynamicThresholdNeuron` -- the all-integer encoding layer: a threshold rising by theta per step (and
  the authors' :class:`AuthorsDynamicThresholdNeuron`).

Which neuron a layer gets is the simulation rule's choice (:mod:`snn_conversion.snn.rules`).
"""

from __future__ import absolute_import, division, print_function

import collections.abc

import numpy as np

__all__ = ['NegativeSpikeNeuron', 'CountThresholds', 'AuthorsShadowNeuron', 'AuthorsThresholdNeuron',
           'MultiThresholdNeuron',
           'AuthorsMultiThresholdNeuron', 'DynamicThresholdNeuron', 'AuthorsDynamicThresholdNeuron',
           'AUTHORS_TOLERANCE']

AUTHORS_TOLERANCE = 1e-5  # the authors' down-spike tolerance


class NegativeSpikeNeuron(object):
    """The exact rule; ``integer``: int64 membranes and thresholds."""

    def __init__(self, theta, base, integer=False):
        self.theta, self.base, self.integer = theta, base, bool(integer)
        self.lowest = np.iinfo(np.int64).min if self.integer else -np.inf

    def init_state(self, shape):
        hi = np.empty(shape, dtype=self.theta.dtype)
        hi[...] = self.base + self.theta
        return dict(hi=hi, lo=np.full(shape, self.lowest, dtype=self.theta.dtype))

    def state_of(self, count):
        """The state as a function of the counts (:class:`CountThresholds`), for a backend that stores none."""
        return CountThresholds(self, count)

    def fire(self, m, hi, lo):
        """(up, down) masks against the next thresholds."""
        if self.integer:
            return m >= hi, m < lo
        return m > hi, m <= lo

    def update(self, m, count, state, rows):
        cout = m.shape[-1]
        m2, c2 = m.reshape(-1, cout), count.reshape(-1, cout)
        hi2, lo2 = state['hi'].reshape(-1, cout), state['lo'].reshape(-1, cout)
        if rows is None:  # every neuron: whole-array passes
            up, down = self.fire(m2, hi2, lo2)
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
        up, down = self.fire(m2[rows], hi2[rows], lo2[rows])
        spiked = up | down
        c2[rows] += up.astype(np.int32) - down
        r, c = np.nonzero(spiked)
        self.set_thresholds(count, state, rows[r] * cout + c)
        return up, down

    def set_thresholds(self, count, state, flat):
        """Recompute the next thresholds of the neurons ``flat`` (flat NHWC indices) from their counts."""
        if not len(flat):
            return
        ch = flat % count.shape[-1]
        c = count.reshape(-1)[flat]
        state['hi'].reshape(-1)[flat] = self.base[ch] + (c + 1) * self.theta[ch]
        state['lo'].reshape(-1)[flat] = np.where(c > 0, self.base[ch] + c * self.theta[ch], self.lowest)


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


class AuthorsShadowNeuron(object):
    """The authors' negative-spike scripts: a float shadow potential ``m_q`` starting at the base; +1 when
    ``max(m, b) - m_q > theta``, -1 when it is ``< -1e-5``; ``m_q`` moves by theta (float64 comparisons)."""

    integer = False

    def __init__(self, theta, base):
        self.theta, self.base = theta, base

    def init_state(self, shape):
        return dict(m_q=np.broadcast_to(self.base, shape).copy())

    def update(self, m, count, state, rows):
        cout = m.shape[-1]
        sel = slice(None) if rows is None else rows
        m_b = np.maximum(m.reshape(-1, cout)[sel], self.base)
        q2 = state['m_q'].reshape(-1, cout)
        d = m_b - q2[sel]
        up = d > self.theta
        down = (d < -AUTHORS_TOLERANCE) & ~up
        q2[sel] += np.where(up, self.theta, np.where(down, -self.theta, 0.0))
        count.reshape(-1, cout)[sel] += up.astype(np.int32) - down
        return up, down


class AuthorsThresholdNeuron(object):
    """The authors' all-integer scripts: the next up- and down-thresholds start at ``b + theta`` and ``b``; +1
    when ``max(m, b)`` exceeds the first, -1 when it is below the second minus 1e-5; both move by theta."""

    integer = False

    def __init__(self, theta, base):
        self.theta, self.base = theta, base

    def init_state(self, shape):
        return dict(pos=np.broadcast_to(self.base + self.theta, shape).copy(),
                    neg=np.broadcast_to(self.base, shape).copy())

    def update(self, m, count, state, rows):
        cout = m.shape[-1]
        sel = slice(None) if rows is None else rows
        m_b = np.maximum(m.reshape(-1, cout)[sel], self.base)
        pos, neg = state['pos'].reshape(-1, cout), state['neg'].reshape(-1, cout)
        up = m_b > pos[sel]
        down = (m_b < neg[sel] - AUTHORS_TOLERANCE) & ~up
        move = np.where(up, self.theta, np.where(down, -self.theta, 0.0))
        pos[sel] += move
        neg[sel] += move
        count.reshape(-1, cout)[sel] += up.astype(np.int32) - down
        return up, down


class MultiThresholdNeuron(object):
    """Scatter-and-gather: a graded spike ``#{j <= levels : m > b + j theta}`` in one step.  With
    ``noise_ratio`` each comparison is dropped with that probability (kept when U >= r)."""

    strict = True  # ``m > T``

    def __init__(self, theta, base, levels, noise_ratio=0.0):
        self.theta, self.base, self.levels = theta, base, int(levels)
        self.noise_ratio = float(noise_ratio)

    def level_table(self):
        """[levels, channels] float64: the thresholds compared against (with ``strict``: ``>``, else ``>=``)."""
        return np.stack([self.base + j * self.theta for j in range(1, self.levels + 1)]).reshape(self.levels, -1)

    def compare(self, m, j):
        return m > self.base + j * self.theta

    def keep(self, u):
        """Which comparisons survive the noise draws ``u``."""
        return u >= self.noise_ratio

    def fire(self, m, rng):
        out = np.zeros(m.shape, dtype=np.int16)
        for j in range(1, self.levels + 1):
            fire = self.compare(m, j)
            if self.noise_ratio > 0:
                fire &= self.keep(rng.random_sample(m.shape))
            out += fire
        return out


class AuthorsMultiThresholdNeuron(MultiThresholdNeuron):
    """The authors' scatter-and-gather neuron: ``#{i : m >= T_i}`` with their [levels, channels] ``thresholds``
    table (:func:`snn_conversion.snn.conversion.authors_level_thresholds`; None: the (theta, base) thresholds in
    float64); a comparison survives the noise when U > r."""

    strict = False  # ``m >= T``

    def __init__(self, theta, base, levels, thresholds=None, noise_ratio=0.0):
        super(AuthorsMultiThresholdNeuron, self).__init__(theta, base, levels, noise_ratio)
        if thresholds is None:  # the same (theta, base) thresholds, in float64
            thresholds = self.base[None, :] + (np.arange(self.levels)[:, None] + 1.0) * self.theta[None, :]
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        if self.thresholds.shape != (self.levels, len(self.theta)):
            raise ValueError('thresholds must be [%d, %d]' % (self.levels, len(self.theta)))

    def level_table(self):
        return self.thresholds.reshape(self.levels, -1)

    def compare(self, m, j):
        return m >= self.thresholds[j - 1]

    def keep(self, u):
        return u > self.noise_ratio


class DynamicThresholdNeuron(object):
    """The all-integer encoding layer: at each of its first ``levels`` steps t a neuron fires where its
    membrane exceeds ``b + (t + 1) theta``."""

    def __init__(self, theta, base, levels):
        self.theta, self.base, self.levels = theta, base, int(levels)

    def init_state(self, shape):
        return dict(t=0, threshold=self.base + self.theta)

    def fire(self, m, state):
        """The firing mask of this step, or None once the layer's steps are over."""
        t = state['t']
        state['t'] = t + 1
        if t >= self.levels:
            return None
        return self.compare(m, t, state)

    def compare(self, m, t, state):
        return m > self.base + (t + 1) * self.theta


class AuthorsDynamicThresholdNeuron(DynamicThresholdNeuron):
    """The authors' encoding layer: ``max(m, b) >=`` a running threshold raised by theta after each step, in
    float64."""

    def compare(self, m, t, state):
        fire = np.maximum(m, self.base) >= state['threshold']
        state['threshold'] = state['threshold'] + self.theta
        return fire
