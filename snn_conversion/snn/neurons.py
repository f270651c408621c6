"""Neuron rules: pure steps over state arrays, apart from the synapses (layers) and from counting.

Every rule works on a layer's membrane ``m`` and spike count ``count`` (NHWC arrays the layer owns) and on the
rule's own state, a dict of arrays made by ``init_state(shape)``.  ``rows`` selects the neurons to examine as
flat (n, h, w) indices (None: all); the result is the (up, down) masks of those rows, (rows, channels).

* :class:`NegativeSpikeNeuron` -- the neuron-exact rule (``rule='exact'``): the count is an integer and the next
  up- and down-thresholds are recomputed from it, ``b + (c + 1) theta`` and ``b + c theta`` (float: ``>``/``<=``;
  integer membranes: ``>=``/``<``, i.e. count = #{j : m >= b + j theta}).
* :class:`AuthorsShadowNeuron` -- the authors' negative-spike update: a float shadow potential.
* :class:`AuthorsThresholdNeuron` -- the authors' all-integer scripts' update: running up/down thresholds.
* :class:`MultiThresholdNeuron` -- scatter-and-gather: all thresholds compared in one step.
* :class:`DynamicThresholdNeuron` -- the all-integer encoding layer: a threshold rising by theta per step.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

__all__ = ['NegativeSpikeNeuron', 'AuthorsShadowNeuron', 'AuthorsThresholdNeuron', 'MultiThresholdNeuron',
           'DynamicThresholdNeuron', 'negative_spike_neuron', 'AUTHORS_TOLERANCE']

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


def negative_spike_neuron(theta, base, rule='exact', integer=False, authors_dynamics='shadow'):
    """The negative-spike neuron of a rule: exact (float or integer), or the authors' ('shadow': negative-spike
    scripts, 'thresholds': all-integer scripts)."""
    if rule == 'exact':
        return NegativeSpikeNeuron(theta, base, integer)
    return AuthorsThresholdNeuron(theta, base) if authors_dynamics == 'thresholds' else AuthorsShadowNeuron(theta, base)


class MultiThresholdNeuron(object):
    """Scatter-and-gather: a graded spike ``#{j <= levels : m > b + j theta}`` in one step (rule='authors':
    ``#{i : m >= T_i}`` with the authors' [levels, channels] table).  With ``noise_ratio`` each comparison is
    dropped with that probability (the authors keep one when U > r; the exact rule when U >= r)."""

    def __init__(self, theta, base, levels, rule='exact', thresholds=None, noise_ratio=0.0):
        self.theta, self.base, self.levels, self.rule = theta, base, int(levels), rule
        self.thresholds, self.noise_ratio = thresholds, float(noise_ratio)

    def fire(self, m, rng):
        out = np.zeros(m.shape, dtype=np.int16)
        for j in range(1, self.levels + 1):
            if self.rule == 'exact':
                fire = m > self.base + j * self.theta
            else:
                fire = m >= self.thresholds[j - 1]
            if self.noise_ratio > 0:
                u = rng.random_sample(m.shape)
                fire &= (u >= self.noise_ratio) if self.rule == 'exact' else (u > self.noise_ratio)
            out += fire
        return out


class DynamicThresholdNeuron(object):
    """The all-integer encoding layer: at each of its first ``levels`` steps t a neuron fires where its
    membrane exceeds ``b + (t + 1) theta`` (rule='authors': ``max(m, b) >=`` a running threshold raised by
    theta after each step, in float64)."""

    def __init__(self, theta, base, levels, rule='exact'):
        self.theta, self.base, self.levels, self.rule = theta, base, int(levels), rule

    def init_state(self, shape):
        return dict(t=0, threshold=self.base + self.theta)

    def fire(self, m, state):
        """The firing mask of this step, or None once the layer's steps are over."""
        t = state['t']
        state['t'] = t + 1
        if t >= self.levels:
            return None
        if self.rule == 'exact':
            return m > self.base + (t + 1) * self.theta
        fire = np.maximum(m, self.base) >= state['threshold']
        state['threshold'] = state['threshold'] + self.theta
        return fire
