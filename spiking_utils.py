"""Spiking side of the ANN->SNN conversion: build, simulate, count, log.

Negative-spike family (SPEC sections 3-4).  A quantized ANN hidden block
``y = q_k(ReLU(BN(W * x)))`` with ``q_k(v) = round(2^k v + 1e-5) / 2^k`` becomes
a layer of signed integrate-and-fire neurons with a shadow potential:

* input encoding: the preprocessed ANN input times 2^k is injected at t = 0 only;
* membrane ``m`` accumulates ``W * s`` of the incoming signed spikes ``s``;
* BN is folded exactly into a per-channel threshold step ``theta = sigma / gamma``
  and base ``b``; the neuron's spike count ``n`` (the shadow potential is
  ``b + n * theta``) rises by one when ``m > b + (n + 1) theta`` and falls by one
  when ``n > 0`` and ``m <= b + n theta`` -- at most one spike per step;
* once quiescent, ``n = round(2^k y)``: the count equals 2^k times the ANN's
  quantized activation, and the readout ``W_out . counts`` equals 2^k times the
  ANN logits (lossless conversion).

``rule='exact'`` (default) compares against thresholds recomputed from the
integer count and shifts the base by ``-1e-5 theta`` to mirror the ANN's
``+1e-5`` rounding offset, which makes every neuron equal to the ANN except
within floating-point noise of a rounding tie.  ``rule='authors'`` is the
authors' simulators, so that logs line up with theirs line for line: their
update (float shadow potential, ``-1e-5`` tolerance, unshifted base; the
all-integer scripts' running up/down thresholds; the scatter-and-gather
scripts' ``>=``), their threshold arithmetic (theta and the thresholds computed
term by term in the checkpoint's dtype -- float32 -- as numpy does in their
``convert_assign_params``, compared in float64) and their scripts' readout-SOP
convention (``Architecture.authors_readout_sop``).  A rule is one strategy object
(:mod:`snn_conversion.snn.rules`: ``EXACT``, ``AUTHORS``, ``get_rule``); ``rule=`` takes its name or the
object.

Scatter-and-gather family (Frontiers 2021): the same thresholds ``b + j theta``
(j = 1..2^k B) are all compared in one step and the neuron emits a graded spike
``n = #{j : m > b + j theta}`` in {0..2^k B}: the ANN's level of
``round(2^k clip(y, B) + 1e-5)`` in a single time step.  ``noise_ratio`` drops
each threshold comparison of the first layer with that probability.

All-integer family (Frontiers 2024): the first block's ANN quantizer is
``round(2^k0 clip(y, B0) + 1e-5)`` (k0 = 0, B0 = 4); the SNN's encoding layer
integrates the input once and, over its first 2^k0 B0 steps, emits a spike of
amplitude 2^(k-k0) whenever its membrane exceeds a threshold that rises by
``theta_1 = 2^(k-k0) sigma / gamma`` per step (dynamic threshold): the number of
spikes is the ANN's level.  Hidden layers are negative-spike neurons; with
``use_int`` they are all-integer: ternary weights, the membrane holds
``10^4 (W . s)`` as an int64, and ``theta`` and the first threshold are each
rounded once, after scaling by 10^4, to the nearest integer (numpy's round half
to even); the j-th threshold is ``F + (j - 1) theta`` exactly, and a neuron's count
is ``#{j : m >= F + (j - 1) theta}`` -- ``>=`` mirrors the ANN's round-half-up.
This is the integer-threshold ANN of :func:`quantized_forward` (``use_int=True``)
neuron for neuron; it differs from the float ANN only where a float threshold lies
within about ``j * 0.5e-4`` of the (integer) membrane.  ``noise_ratio`` r perturbs
the input: ``x (1 + (U[0,1) - 0.5) r)`` (the negative-spike family too, as the
authors' MNIST and CIFAR-10 simulators; default 0, theirs 1.0).  The encoding layer's spikes are left out
of the counters (the authors' convention for this family), which add per-step
``abs_spike.txt`` and ``sum_spike.txt``.

Counters and log files follow the authors' formats: one line per (batch, t),
``accuracy.txt`` (correct predictions at t), ``spike_num.txt`` (cumulative
|spikes| over all spiking layers), ``spike_collect.txt`` (cumulative signed
spikes, written as a float like the original; scatter-and-gather writes
``spike_num``/``sop_num`` as floats, as its scripts), ``sop_num.txt`` (cumulative
synaptic operations: for every spiking layer but the input-encoding one,
|input events| x fan-out, plus last-layer spikes x classes).

Programmatic use::

    net = SpikingNetwork.from_checkpoint('FashionMNIST/pretrained/mlp_fashionmnist_k1.npz', arch='mlp_fashionmnist')
    x, y = load_test_inputs('fashion_mnist', n=100)   # the ANN's preprocessed NHWC input, the labels
    trace = net.simulate(x, time_steps=40)
    trace.logits        # [T, N, classes]
    trace.spike_num     # [T] cumulative, also trace.spike_collect, trace.sop_num
"""

from __future__ import absolute_import, division, print_function

# Before numpy loads (the Spiking_* scripts import this module first): OpenBLAS's AVX2 kernels where the CPU has
# them and the user chose none (snn_conversion/core/blas.py); where numpy came first it changes nothing.
from snn_conversion.core.blas import kernel_report, select_kernels

select_kernels()

# The public SNN module: the names the workspace scripts and users import, from the snn package's layers
# (snn_conversion/snn/, see ARCHITECTURE.md).  Nothing here imports TensorFlow.
from snn_conversion.core.families import ALL_LOG_FILES, LOG_FILES, Family  # noqa: E402,F401
from snn_conversion.core.fileio import file_sha256  # noqa: E402,F401
from snn_conversion.data.datasets import load_test_inputs as _load_test_inputs  # noqa: E402
from snn_conversion.snn.cli import snn_main  # noqa: E402,F401
from snn_conversion.snn.conversion import (ConversionError, authors_level_thresholds, fold_bn,  # noqa: E402,F401
                                           fold_bn_authors, integer_thresholds, neuron_thresholds, prepare_params,
                                           ternarize)
from snn_conversion.snn.families import (NegativeSpikeRecipe, Recipe, register_family,  # noqa: E402,F401
                                         unregister_family)
from snn_conversion.snn.kernels import (Events, block_conv, conv2d_nhwc, depthwise_conv2d_nhwc,  # noqa: E402,F401
                                        readout_input)
from snn_conversion.snn.layers import Geometry, SpikingLayer  # noqa: E402,F401
from snn_conversion.snn.logs import FLOAT_LOGS, format_log_lines, write_logs  # noqa: E402,F401
from snn_conversion.snn.network import ENGINES, SpikingNetwork, Trace  # noqa: E402,F401
from snn_conversion.snn.neurons import NEURONS, Neuron, register_neuron, unregister_neuron  # noqa: E402,F401
from snn_conversion.snn.rules import AUTHORS, EXACT, RULES, Rule, get_rule  # noqa: E402,F401  (RULES: the names)
from snn_conversion.snn.reference import block_pads, quantized_forward, random_calibrated_params  # noqa: E402,F401
from snn_conversion.snn.runs import (PROGRESS_FILE, first_matching_step, merge_shards, parse_shard,  # noqa: E402,F401
                                     run_key, run_test_set, shard_batches, shard_dir, write_run_info)

# the one spiking layer under the names of the three classes it replaced (negative-spike, scatter-and-gather,
# dynamic-threshold layers): the neuron it is given is what differs
SpikingConv = ScatterGatherConv = DynamicThresholdConv = SpikingLayer

__all__ = ['SpikingNetwork', 'SpikingConv', 'Trace', 'ConversionError', 'quantized_forward', 'conv2d_nhwc',
           'depthwise_conv2d_nhwc', 'block_conv', 'readout_input',
           'run_test_set', 'write_logs', 'snn_main', 'RULES', 'DynamicThresholdConv', 'ternarize',
           # and the rest of the SNN side's public names
           'ALL_LOG_FILES', 'LOG_FILES', 'FLOAT_LOGS', 'ENGINES', 'PROGRESS_FILE', 'Events', 'ScatterGatherConv',
           'authors_level_thresholds', 'block_pads', 'file_sha256', 'first_matching_step', 'fold_bn',
           'fold_bn_authors', 'format_log_lines', 'integer_thresholds', 'merge_shards', 'neuron_thresholds',
           'parse_shard', 'prepare_params', 'random_calibrated_params', 'run_key', 'shard_batches', 'shard_dir',
           'write_run_info', 'Family', 'Recipe', 'NegativeSpikeRecipe', 'register_family', 'unregister_family',
           'Geometry', 'Rule', 'EXACT', 'AUTHORS', 'get_rule', 'select_kernels', 'kernel_report',
           'load_test_inputs', 'SpikingLayer', 'Neuron', 'NEURONS', 'register_neuron', 'unregister_neuron']


def load_test_inputs(dataset, data_dir=None, n=None, input_shape=None):
    """(x, y) of the test set of ``dataset`` ('mnist', 'fashion_mnist', 'cifar10', 'cifar100', 'n_mnist',
    'imagenet'), in file order: ``x`` the network's preprocessed NHWC input, as :meth:`SpikingNetwork.simulate`
    takes it (pixels / 256, N-MNIST counts / 32, standardized CIFAR and ImageNet), ``y`` the labels; the first
    ``n`` images when given.  The files are searched for as the scripts do (``data_dir`` alone when given, else
    ``$SNN_DATA_DIR``, ``./data``, ``/usr/share/datasets``); a missing set raises an error naming every place
    looked.  ImageNet needs ``input_shape`` and gives lazy views of its validation records."""
    return _load_test_inputs(dataset, data_dir=data_dir, num_test=n, input_shape=input_shape)
