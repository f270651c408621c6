"""The converted network and its time loop: parse -> convert -> simulate (snn_toolbox's stages).

:meth:`SpikingNetwork.from_checkpoint` parses a checkpoint (refusing one that does not fit), converts it with
its family's recipe (:mod:`snn_conversion.snn.families`) and :meth:`SpikingNetwork.simulate` runs the time loop
on a batch, counting spikes and synaptic operations per step into a :class:`Trace`.  Once no layer spikes during
a step nothing can change (the input is zero after t = 0): the loop stops there and fills the remaining steps.
"""

from __future__ import absolute_import, division, print_function

import collections
import os

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import check_params, open_checkpoint
from snn_conversion.snn import backends
from snn_conversion.snn.conversion import ConversionError, prepare_params
from snn_conversion.snn.families import recipe_for
from snn_conversion.snn.kernels import readout_input, sops_dense
from snn_conversion.snn.rules import get_rule
from snn_conversion.snn.workers import simulate_split, start_pool, stop_pool

__all__ = ['SpikingNetwork', 'Trace', 'ENGINES', 'Options']

ENGINES = backends.engines()  # the registered backends' names ('dense' among them)


def _shown(value):
    """``value`` for a one-line message."""
    text = 'an array of shape %s' % (value.shape,) if isinstance(value, np.ndarray) else repr(value)
    text = ' '.join(text.split())
    return text if len(text) <= 60 else text[:57] + '...'


def _checked_time_steps(time_steps):
    """``time_steps`` as an int: an integer >= 1 (numpy integers too), else a one-line ValueError naming it."""
    if isinstance(time_steps, (bool, np.bool_)) or not isinstance(time_steps, (int, np.integer)) or time_steps < 1:
        raise ValueError('time_steps must be an integer >= 1, got %s' % _shown(time_steps))
    return int(time_steps)


def _checked_input(arch, x):
    """``x`` as a float64 NHWC batch for ``arch``, else a one-line ValueError naming ``x``: numeric, of the
    architecture's input shape, at least one image, finite, and within ``arch.input_range`` (its data set's
    preprocessed range: raw 0-255 pixels or a wrong scale never reach the network)."""
    try:
        raw = np.asarray(x)
    except ValueError:  # a ragged nesting, as numpy >= 1.24 says
        raw = np.asarray(None)
    if raw.dtype.kind not in 'biuf':
        raise ValueError('x must be a numeric NHWC array, got %s'
                         % (_shown(x) if raw.ndim == 0 else 'an array of dtype %s' % raw.dtype))
    if raw.ndim != 4 or raw.shape[1:] != arch.input_shape:
        raise ValueError('x has shape %s; %s expects (N, %s) (NHWC)'
                         % (raw.shape, arch.name, ', '.join(str(v) for v in arch.input_shape)))
    if raw.shape[0] == 0:
        raise ValueError('x is an empty batch (0 images); %s needs at least one' % arch.name)
    x = np.asarray(raw, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.all():
        raise ValueError('x holds %d NaN and %d Inf values (the first in image %d): the input must be finite'
                         % (np.isnan(x).sum(), np.isinf(x).sum(), np.argwhere(~finite)[0][0]))
    limits = arch.input_range
    if limits is not None and (x.min() < limits.low or x.max() > limits.high):
        raise ValueError("x has values in [%g, %g] but %s expects [%g, %g] (%s): the ANN's preprocessed input, as "
                         "snn_conversion.data.datasets.load_test_inputs gives it"
                         % (x.min(), x.max(), arch.name, limits.low, limits.high, limits.what))
    return x


class Trace(object):
    """Result of :meth:`SpikingNetwork.simulate` for one batch.

    logits [T, N, classes]; spike_num, spike_collect, sop_num [T] cumulative; abs_spike, sum_spike [T] per
    step (|spikes| and signed spikes at that step); counts: final per-layer spike counts (int arrays, NHWC);
    layer_spikes [layers]: |spikes| each hidden layer fired over the whole simulation (every layer, the ones the
    family leaves out of the counters included: ``layer_spikes[counted_from:].sum() == spike_num[-1]``);
    steps_run: steps actually computed (the rest were filled after quiescence); converged: whether the
    network became quiescent within T steps.  The spike counters cover the layers the family counts.
    """

    def __init__(self, logits, spike_num, spike_collect, sop_num, counts, steps_run, converged, abs_spike=None,
                 sum_spike=None, layer_spikes=None):
        self.logits = logits
        self.layer_spikes = layer_spikes
        self.spike_num = spike_num
        self.spike_collect = spike_collect
        self.sop_num = sop_num
        self.abs_spike = abs_spike
        self.sum_spike = sum_spike
        self.counts = counts
        self.steps_run = steps_run
        self.converged = converged

    def predictions(self):
        return np.argmax(self.logits, axis=2)

    @classmethod
    def merge(cls, traces):
        """The trace of a batch from the traces of its consecutive sub-batches (images are independent)."""
        def total(key):
            values = [getattr(t, key) for t in traces]
            return None if values[0] is None else np.sum(values, axis=0)
        counts = [np.concatenate(layer) for layer in zip(*[t.counts for t in traces])]
        return cls(np.concatenate([t.logits for t in traces], axis=1), total('spike_num'), total('spike_collect'),
                   total('sop_num'), counts, max(t.steps_run for t in traces), all(t.converged for t in traces),
                   abs_spike=total('abs_spike'), sum_spike=total('sum_spike'), layer_spikes=total('layer_spikes'))

    def correct(self, labels):
        """[T] number of correct predictions at each step."""
        return (self.predictions() == np.asarray(labels)[None, :]).sum(axis=1)


class Options(collections.namedtuple('Options', 'noise_ratio seed engine use_ternary use_int')):
    """How a checkpoint is converted and simulated, beyond k, B and the rule -- one checked value.

    ``noise_ratio``: scatter-and-gather: probability of dropping each first-layer threshold comparison;
    negative-spike and all-integer: input noise amplitude r (input times ``1 + (U[0,1) - 0.5) r``); drawn from
    ``seed`` and the batch index.  ``engine``: see :data:`ENGINES` (None: the fastest available).
    ``use_ternary`` (None: the architecture's default): ternarize the hidden weights (TWN, as the ANN's forward
    pass; idempotent on stored ternary weights); all-integer family only, ``use_int``: integer membranes and
    thresholds (needs ternary weights)."""

    __slots__ = ()

    def __new__(cls, noise_ratio=0.0, seed=0, engine=None, use_ternary=None, use_int=False):
        if not 0.0 <= float(noise_ratio) <= 1.0:
            raise ConversionError('noise_ratio must be in [0, 1], got %g' % noise_ratio)
        engine = backends.default_engine() if engine is None else engine
        if engine not in backends.engines():
            raise ValueError('engine must be one of %s' % (backends.engines(),))
        if not backends.available(engine):
            raise ValueError("engine=%r needs numba (pinned in requirements.txt); use engine='sparse'" % engine)
        return super(Options, cls).__new__(cls, float(noise_ratio), int(seed), engine, use_ternary, bool(use_int))


def _hold_after(steps_run, logits, counters):
    """After an early stop the cumulative values stay as they were at the last step run; the per-step ones are 0."""
    if steps_run < len(logits):
        logits[steps_run:] = logits[steps_run - 1]
        for key in ('spike_num', 'spike_collect', 'sop_num'):
            counters[key][steps_run:] = counters[key][steps_run - 1]


class SpikingNetwork(object):
    """A converted network: hidden :class:`~snn_conversion.snn.layers.SpikingLayer` layers and a dense readout on
    accumulated counts.

    Made by :meth:`from_params` / :meth:`from_checkpoint` (``config``: the checked
    :class:`~snn_conversion.core.families.NetConfig`; ``options``: :class:`Options`)."""

    def __init__(self, arch, layers, w_out, config, rule='exact', options=None):
        options = Options() if options is None else options
        self.spec = arch.spec
        self.log_files = self.log_files_of(arch)
        self.engine = options.engine
        for layer in layers:
            layer.engine = self.engine
        self.arch = arch
        self.layers = layers
        self.w_out = np.asarray(w_out, dtype=np.float64)
        self.config = config
        self.k, self.B = config.k, config.B
        self.use_ternary, self.use_int = config.ternary, config.use_int
        self.noise_ratio = options.noise_ratio
        self.family = arch.family
        self.meta = {}
        self.seed = options.seed
        self.rule = rule
        self.rng = np.random.RandomState(0)
        self.workers, self._pool = 1, None
        self.counted_from = self.spec.counted_from  # the all-integer family leaves its encoding layer out
        self.sop_factor = self.spec.sop_factor(self.k, self.B)  # the authors' convention for graded spikes
        self.reseed(0)

    @property
    def rule(self):
        """The simulation rule (:mod:`snn_conversion.snn.rules`); set by name or object."""
        return self._rule

    @rule.setter
    def rule(self, rule):
        self._rule = get_rule(rule)

    @staticmethod
    def log_files_of(arch):
        """The log files a family writes."""
        return arch.spec.log_files

    @property
    def config_tag(self):
        """Names the checkpoint: 'k1', 'k1B2', 'k0_WQ'."""
        return self.arch.config_tag(self.k, self.B, self.use_ternary)

    @property
    def log_tag(self):
        """The log folder under figs/: 'k1', 'k1B2', 'WQ_INT/k0'."""
        return self.spec.log_tag(self.arch, self.config)

    def reseed(self, batch_index):
        """Seed the random draws (scatter-and-gather threshold noise; input noise of the negative-spike and
        all-integer families) from (seed, batch index)."""
        self.rng = np.random.RandomState([self.seed, int(batch_index)])
        for layer in self.layers:
            layer.rng = self.rng

    def encode(self, x):
        """The input as injected at t = 0: ``x * 2^k``, times ``1 + (U[0,1) - 0.5) r`` with input noise r.

        ``x``: a non-empty NHWC batch of the architecture's input shape, finite and within its data set's
        preprocessed range (``arch.input_range``); anything else is a one-line ValueError naming ``x``."""
        x = _checked_input(self.arch, x)
        encoded = x * (2.0 ** self.k)
        if self.spec.noise == 'input' and self.noise_ratio > 0:  # one draw per input value, NHWC order
            encoded = encoded * (1.0 + (self.rng.random_sample(x.shape) - 0.5) * self.noise_ratio)
        return encoded

    @classmethod
    def from_params(cls, arch, params, k, B=None, rule='exact', *, source='parameters', **options):
        """Convert a parameter list in the authors' order for architecture ``arch`` (name or object).

        ``B`` (scatter-and-gather only): activation bound.  ``rule``: 'exact' (neuron-exact, the default) or
        'authors' (the authors' simulators: their update, their threshold arithmetic in the checkpoint's dtype,
        their readout-SOP convention), see :mod:`snn_conversion.snn.rules`.  ``options``: the fields of
        :class:`Options` (noise_ratio, seed, engine, use_ternary, use_int).
        """
        if isinstance(arch, str):
            arch = architectures.get(arch)
        options = Options(**options)
        rule = get_rule(rule)
        if options.use_int and not rule.supports_integer:
            raise ConversionError("integer thresholds use their own consistent rule; rule='%s' is the float one" % rule)
        config = arch.spec.net_config(arch, k, B, options.use_ternary, options.use_int)
        check_params(arch, params, source)
        params = prepare_params(arch, params, config.ternary)
        recipe = recipe_for(arch)
        first_k = recipe.first_k(arch, config.k)
        if first_k > config.k:
            raise ConversionError('k=%d is below the first layer\'s k0=%d: its spikes would not be integers'
                                  % (config.k, first_k))
        layers = recipe.layers(arch, params, config, rule, options.noise_ratio, source)
        return cls(arch, layers, params[-1], config, rule, options)

    @classmethod
    def from_checkpoint(cls, path, arch, k=None, B=None, rule='exact', **options):
        """Load ``path`` and convert it; refuses checkpoints whose metadata disagree with the request.

        ``k``, ``B``, ``use_ternary`` default to the checkpoint's record (else the architecture's defaults).
        """
        arch_obj = architectures.get(arch) if isinstance(arch, str) else arch
        params, meta, k, B, ternary = open_checkpoint(path, arch_obj, k=k, B=B, ternary=options.pop('use_ternary', None),
                                                      source=os.path.basename(path))
        net = cls.from_params(arch_obj, params, k, B=B, rule=rule, source=os.path.basename(path), use_ternary=ternary,
                              **options)
        net.meta = meta
        return net

    def simulate(self, x, time_steps):
        """Simulate one batch ``x`` (NHWC float, the ANN's preprocessed input) for ``time_steps`` steps.

        Stops computing as soon as no neuron spiked during a step (nothing can change
        afterwards: the input is zero after t = 0) and fills the remaining steps with
        the converged values, so the trace equals that of a full run.  ``time_steps``: an integer >= 1.
        """
        time_steps = _checked_time_steps(time_steps)
        encoded = self.encode(x)
        pool = getattr(self, '_pool', None)
        if pool is not None and len(encoded) >= 2 and self.spec.splits_batches:
            return Trace.merge(simulate_split(pool, self.workers, encoded, time_steps))
        return self.simulate_encoded(encoded, time_steps)

    def set_workers(self, workers):
        """Simulate every batch split into ``workers`` sub-batches in as many processes (each with one BLAS
        thread), merged exactly: images are independent, so the trace is the one of a single process.
        ``workers=1`` goes back to this process.  Scatter-and-gather (one step, per-layer noise draws) stays
        in-process.  Call :meth:`close` (or use ``with net:``) to stop the workers."""
        if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError('workers must be an integer >= 1, got %s' % _shown(workers))
        self.close()
        self.workers = int(workers)
        if self.workers == 1:
            return self
        for layer in self.layers:
            layer.reset(0)  # ship the network without simulation state
        self._pool = start_pool(self.workers, self)
        return self

    def close(self):
        pool, self._pool = getattr(self, '_pool', None), None  # stopped at once if interrupted meanwhile
        stop_pool(pool)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_pool'] = None
        return state

    def _advance(self, i, layer, inp, event_driven):
        """Layer ``i``, one step: (output spikes or None, their |sum|, their signed sum, input SOPs)."""
        if event_driven:
            sops = layer.sops(inp) if i > 0 else 0
            out, n_abs, n_sig = layer.step_events(inp)
            return out, n_abs, n_sig, sops
        sops = sops_dense(inp, layer.fanout) * self.sop_factor if i > 0 else 0
        out = layer.step(inp)
        if not out.any():
            return None, 0, 0, sops
        return out, int(np.abs(out).sum(dtype=np.int64)), int(out.sum(dtype=np.int64)), sops

    def simulate_encoded(self, encoded, time_steps):
        """The time loop on an already encoded batch (:meth:`encode`)."""
        time_steps = _checked_time_steps(time_steps)
        n = encoded.shape[0]
        for layer in self.layers:
            layer.reset(n)
        logits = np.zeros((time_steps, n, self.arch.n_classes), dtype=np.float64)
        counters = {key: np.zeros(time_steps, dtype=np.int64)
                    for key in ('spike_num', 'spike_collect', 'sop_num', 'abs_spike', 'sum_spike')}
        layer_spikes = np.zeros(len(self.layers), dtype=np.int64)
        n_abs = n_sig = n_sop = 0
        last = len(self.layers) - 1
        single_step = self.spec.single_step
        converged = False
        t = 0
        event_driven = backends.backend_class(self.engine).event_driven and not single_step
        readout_sop = self.rule.readout_sop(self.arch)
        for t in range(time_steps):
            inp = encoded if t == 0 else None
            active = False
            step_abs = step_sig = 0
            for i, layer in enumerate(self.layers):
                inp, layer_abs, layer_sig, sops = self._advance(i, layer, inp, event_driven)
                n_sop += sops
                if inp is not None:
                    active = True
                    layer_spikes[i] += layer_abs
                    if i >= self.counted_from:
                        step_abs += layer_abs
                        step_sig += layer_sig
                    if i == last and readout_sop:  # readout accumulation (the rule's convention)
                        n_sop += layer_abs * self.arch.n_classes
            n_abs += step_abs
            n_sig += step_sig
            logits[t] = np.dot(readout_input(self.arch, self.layers[-1].count.astype(np.float64)), self.w_out)
            for key, value in (('spike_num', n_abs), ('spike_collect', n_sig), ('sop_num', n_sop),
                               ('abs_spike', step_abs), ('sum_spike', step_sig)):
                counters[key][t] = value
            if not active or single_step:  # scatter-and-gather: one step is the whole computation
                converged = True
                break
        steps_run = t + 1
        _hold_after(steps_run, logits, counters)
        counts = [layer.count.copy() for layer in self.layers]
        return Trace(logits, counters['spike_num'], counters['spike_collect'], counters['sop_num'], counts,
                     steps_run, converged, abs_spike=counters['abs_spike'], sum_spike=counters['sum_spike'],
                     layer_spikes=layer_spikes)
