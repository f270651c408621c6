"""The single description of every network, shared by the ANN and the SNN.

Both the TensorLayer graph (``snn_conversion.ann.model``) and the spiking
network (``snn_conversion.snn``) are built from the :class:`Architecture` objects
registered here, so an architecture is written down exactly once.

A network is a stack of *hidden blocks* followed by a bias-free dense readout.
Every hidden block is ``Conv (no bias) -> BatchNorm(ReLU) -> quantizer``.  The
"P2" of the papers' network strings is not pooling but a 2x2 stride-2 SAME
convolution block of its own, and fully connected hidden layers are written as
convolutions whose kernel covers the whole input (VALID), as the authors did.

This module is pure Python: importing it does not import TensorFlow.
"""

from __future__ import absolute_import, division, print_function

import collections

from snn_conversion.core.families import FAMILIES, NetConfig, get_family
from snn_conversion.core.flags import CLASSES, IMAGE_SIZE, WIDTH
from snn_conversion.core.weights import WeightQuant

__all__ = ['FAMILIES', 'ConvBlock', 'Architecture', 'InputRange', 'INPUT_SCALING', 'register', 'unregister', 'get',
           'names', 'conv_output_size', 'same_padding', 'register_variant', 'add_variant_flags', 'select_variant', 'variants_help', 'add_selector_flags', 'add_mobilenet_flags']


class ConvBlock(collections.namedtuple('ConvBlock', 'filters kernel stride padding depthwise')):
    """One hidden block: ``filters`` channels, square ``kernel``, ``stride``, 'SAME' or 'VALID'.

    ``depthwise``: a depthwise convolution (channel multiplier 1: each output channel sees only its own input
    channel; ``filters`` must equal the input's channels; weights HWC1 as TensorFlow's depthwise_conv2d).
    """

    __slots__ = ()

    def __new__(cls, filters, kernel, stride=1, padding='VALID', depthwise=False):
        if padding not in ('SAME', 'VALID'):
            raise ValueError("padding must be 'SAME' or 'VALID', got %r" % (padding,))
        return super(ConvBlock, cls).__new__(cls, int(filters), int(kernel), int(stride), padding, bool(depthwise))

    def weight_shape(self, cin):
        """HWIO (HWC1 for a depthwise block) shape of the block's kernel on ``cin`` input channels."""
        return (self.kernel, self.kernel, cin, 1 if self.depthwise else self.filters)

    def fan_in(self, cin):
        """Inputs of one output neuron."""
        return self.kernel * self.kernel * (1 if self.depthwise else cin)


def conv_output_size(size, kernel, stride, padding):
    """Output length of a TensorFlow convolution along one axis."""
    if padding == 'SAME':
        return -(-size // stride)
    return (size - kernel) // stride + 1


def same_padding(size, kernel, stride, padding):
    """(pad_before, pad_after) exactly as TensorFlow pads along one axis."""
    if padding == 'VALID':
        return 0, 0
    out = conv_output_size(size, kernel, stride, padding)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


InputRange = collections.namedtuple('InputRange', 'low high what')  # inputs in [low, high]; what: for messages
# Each data set's preprocessed input (data.datasets.load_test_inputs: the ANN's and the SNN's): (what, its range for
# n = H W C values).  Pixels / 256 lie in [0, 255/256] (/ 255 passes too), N-MNIST's uint16 event counts / 32 in [0,
# 65535/32]; per-image standardization (x - mean) / max(std, 1/sqrt(n)) within sqrt(n - 1) of 0 (Samuelson; +0.1 %).
_PIXELS, _COUNTS = ('pixels / 256', lambda n: (0.0, 1.0)), ('event counts / 32', lambda n: (0.0, 65535 / 32.0))
_STANDARDIZED = ('per-image standardized', lambda n: (-1.001 * max(n - 1, 1) ** 0.5, 1.001 * max(n - 1, 1) ** 0.5))
INPUT_SCALING = {'mnist': _PIXELS, 'fashion_mnist': _PIXELS, 'n_mnist': _COUNTS, 'n_mnist_2p': _COUNTS,
                 'cifar10': _STANDARDIZED, 'cifar100': _STANDARDIZED, 'imagenet': _STANDARDIZED}


class Architecture(object):
    """A registered network.

    Attributes:
        name: registry key, e.g. ``'mlp_fashionmnist'``.
        dataset: dataset key understood by ``tensorlayer_patches.datasets``.
        input_shape: (H, W, C) of the preprocessed input.
        n_classes: number of output classes.
        blocks: tuple of :class:`ConvBlock` (hidden layers, in order).
        family: conversion family: 'negative' (signed spikes over many steps), 'scatter_gather'
            (graded spikes 0..2^k*B in a single step; activations clipped to B in the ANN) or 'integer'
            (the all-integer network: negative-spike hidden neurons, optionally with integer thresholds,
            behind a dynamic-threshold encoding layer).
        weight_quant: weight quantization of the hidden blocks after the first (None or 'ternary', kept as a
            :class:`~snn_conversion.core.weights.WeightQuant`);
            the first block and the readout are always full precision.  In the 'integer' family it is
            the default of the ``--use_ternary`` choice (see :meth:`weight_quant_for`).
        first_quant: (k0, B0) of the first block's activation quantizer when it differs from the hidden
            blocks' (the 'integer' family: ``round(2^k0 clip(y, B0) + 1e-5) / 2^k0``, k0=0, B0=4, which the
            SNN's encoding layer emits as up to 2^k0*B0 spikes over its first steps); None otherwise.
        defaults: the authors' settings (k, B for scatter-and-gather, time_steps, epochs, batch_size,
            learning_rate, sim_batch_size).
        string: the network string of the paper.
        global_pool: the readout sees the global mean (over height and width) of the last block's output,
            as MobileNet's classifier, instead of the flattened output.
        log_group: sub-folder of the workspace's ``figs/`` holding this network's log folders, where one
            workspace holds several networks of one family (``figs/CNN1/k1`` beside ``figs/CNN2/k1``,
            as the authors' ``CNN_1/figs/k1``); '' for ``figs/<tag>`` directly.
        authors_readout_sop: whether the authors' simulator of this network adds the readout's synaptic
            operations (last-layer spikes x classes) to ``sop_num``.  Their scripts disagree (the all-integer
            MNIST LeNet adds them, the all-integer CIFAR-10 VGG-Net does not; the scatter-and-gather scripts
            never do); ``rule='authors'`` follows the script, ``rule='exact'`` the family's consistent
            convention.  None: the family's convention (all but scatter-and-gather).
        input_range: :class:`InputRange` of the input values (``simulate`` refuses others): (low, high) given, else
            on :func:`register` its data set's preprocessed range (:data:`INPUT_SCALING`); None: any finite input.
    """

    def __init__(self, name, dataset, input_shape, n_classes, blocks, family, defaults, string,
                 weight_quant=None, first_quant=None, log_group='', global_pool=False, authors_readout_sop=None,
                 input_range=None):
        if family not in FAMILIES:
            raise ValueError('%s: family must be one of %s' % (name, tuple(sorted(FAMILIES))))
        self.spec = get_family(family)
        if self.spec.needs_first_quant != (first_quant is not None):
            raise ValueError('%s: first_quant (k0, B0) is required by, and only by, the integer family' % name)
        self.name = name
        self.log_group = log_group
        self.global_pool = bool(global_pool)
        self.weight_quant = WeightQuant.of(weight_quant)
        self.first_quant = None if first_quant is None else (int(first_quant[0]), int(first_quant[1]))
        self.dataset = dataset
        self.input_range = None if input_range is None else InputRange(*(float(v) for v in input_range), what='declared')
        self.input_shape = tuple(int(v) for v in input_shape)
        self.n_classes = int(n_classes)
        self.blocks = tuple(blocks)
        self.family = family
        self.authors_readout_sop = self.readout_sop if authors_readout_sop is None else bool(authors_readout_sop)
        self.defaults = dict(defaults)
        self.string = string
        shapes = [self.input_shape]
        for i, blk in enumerate(self.blocks):
            h, w, _ = shapes[-1]
            ho = conv_output_size(h, blk.kernel, blk.stride, blk.padding)
            wo = conv_output_size(w, blk.kernel, blk.stride, blk.padding)
            if ho < 1 or wo < 1:
                raise ValueError('%s: block %d (%s) does not fit its %dx%d input' % (name, i + 1, blk, h, w))
            if blk.depthwise and blk.filters != shapes[-1][2]:
                raise ValueError('%s: depthwise block %d has %d filters for %d input channels'
                                 % (name, i + 1, blk.filters, shapes[-1][2]))
            shapes.append((ho, wo, blk.filters))
        self._shapes = shapes

    def __repr__(self):
        return 'Architecture(%r, %s)' % (self.name, self.string)

    @property
    def uses_B(self):
        """Whether the family has an activation upper bound B (scatter-and-gather)."""
        return self.spec.uses_B

    @property
    def readout_sop(self):
        """Whether ``sop_num`` counts the readout's synaptic operations (the family's consistent convention)."""
        return self.spec.readout_sop

    def weight_quant_for(self, ternary=None):
        """The hidden blocks' weight quantization for a ``--use_ternary`` choice (None: the default)."""
        return self.spec.weight_quant_for(self, ternary)

    def config_tag(self, k, B=None, ternary=None):
        """Names checkpoints: 'k1'; scatter-and-gather 'k1B2'; all-integer 'k0_WQ' (ternary) or 'k0_NWQ'."""
        return self.spec.config_tag(k, B, self.weight_quant_for(ternary).ternary)

    def log_tag(self, k, B=None, ternary=None, use_int=False):
        """The log folder under figs/: 'k1', 'k1B2', or for the all-integer family the authors'
        '{WQ,NWQ}[_INT]/k<K>' (ternary or not, integer thresholds or not), e.g. 'WQ_INT/k0';
        behind ``log_group`` when the architecture has one (e.g. 'CNN1/k1')."""
        config = NetConfig(k, B, self.weight_quant_for(ternary).ternary, bool(use_int))
        return self.spec.log_tag(self, config)

    def block_input_shape(self, i):
        """(H, W, C) entering hidden block ``i`` (0-based)."""
        return self._shapes[i]

    @property
    def flat_features(self):
        """Inputs of the readout: the flattened last block, or its channels with ``global_pool``."""
        h, w, c = self._shapes[-1]
        return c if self.global_pool else h * w * c

    def block_labels(self):
        """Short names of the hidden blocks, for figures: 'fc400' (a kernel covering its whole input),
        'dw3x3/2' (depthwise), 'c5x5 20' (convolution; '/2': stride 2)."""
        labels = []
        for i, blk in enumerate(self.blocks):
            h, w, _ = self._shapes[i]
            stride = '/%d' % blk.stride if blk.stride > 1 else ''
            if blk.kernel == h == w and blk.padding == 'VALID' and not blk.depthwise:
                labels.append('fc%d' % blk.filters)
            else:
                labels.append('%s%dx%d%s %d' % ('dw' if blk.depthwise else 'c', blk.kernel, blk.kernel, stride,
                                                blk.filters))
        return labels

    def neurons_per_layer(self):
        """Number of spiking neurons of each hidden block."""
        return [h * w * c for (h, w, c) in self._shapes[1:]]

    @property
    def n_neurons(self):
        return sum(self.neurons_per_layer())

    def param_shapes(self):
        """Shapes of the checkpoint's ``params`` list, in the authors' order.

        Per block: W (HWIO), beta, gamma, moving_mean, moving_variance; then the
        readout W (features, classes).  Returns a list of (label, shape).
        """
        out = []
        for i, blk in enumerate(self.blocks):
            label = 'block %d' % (i + 1)
            out.append((label + ' W', blk.weight_shape(self._shapes[i][2])))
            for part in ('beta', 'gamma', 'moving_mean', 'moving_variance'):
                out.append(('%s BN %s' % (label, part), (blk.filters,)))
        out.append(('readout W', (self.flat_features, self.n_classes)))
        return out

    def ann_macs(self):
        """Multiply-accumulates of one ANN inference, excluding the input (first) layer.

        This is the ANN counterpart of the SNN's synaptic-operation count
        (the papers exclude the input-encoding layer for both).
        """
        total = 0
        for i, blk in enumerate(self.blocks):
            if i == 0:
                continue
            ho, wo, co = self._shapes[i + 1]
            total += ho * wo * co * blk.fan_in(self._shapes[i][2])
        total += self.flat_features * self.n_classes
        return total


_REGISTRY = collections.OrderedDict()


def register(arch):
    if arch.name in _REGISTRY:
        raise ValueError('architecture %r registered twice' % arch.name)
    if arch.input_range is None and arch.dataset in INPUT_SCALING:  # a registered network: its data set's inputs
        what, values = INPUT_SCALING[arch.dataset]
        arch.input_range = InputRange(*values(arch.input_shape[0] * arch.input_shape[1] * arch.input_shape[2]),
                                      what='%s %s' % (arch.dataset, what))
    _REGISTRY[arch.name] = arch
    return arch


def unregister(name):
    """Remove an architecture added by :func:`register` (tests, plug-ins)."""
    _REGISTRY.pop(name, None)


def names():
    return list(_REGISTRY)


_VARIANTS = collections.OrderedDict()


_SELECTORS = {}  # flag -> (value meaning the base architecture, help) for flags that exist only to select


def register_variant(base, target, flag, values=None, base_value=None, help=None):
    """The scripts of ``base`` run ``target`` instead when ``flag`` is on their command line
    (with one of ``values``, if given): e.g. ``Spiking_CNN1_CIFAR10.py --use_int True`` simulates the
    all-integer VGG-Net, as seed 002 types it.  A flag that is an option of no architecture (e.g.
    ``--polarity on|both``) gives ``base_value`` (its value for ``base``) and ``help``; the scripts of
    both architectures then accept it (:func:`add_selector_flags`)."""
    get(base), get(target)
    _VARIANTS.setdefault(base, []).append((flag, target, None if values is None else tuple(values)))
    if base_value is not None:
        _SELECTORS[(base, flag)] = (base_value, tuple(values), target, help)


def add_selector_flags(parser, base, arch):
    """Add to an argparse ``parser`` of a script registered for ``base`` the selection-only flags."""
    for (b, flag), (base_value, values, target, help) in _SELECTORS.items():
        if b == base:
            parser.add_argument(flag, choices=(base_value,) + values,
                                default=values[0] if arch.name == target else base_value, help=help)


def add_variant_flags(parser, name):
    """Add to a selection pre-parser (``parse_known_args``) every flag that selects a variant of ``name``, as a
    plain string (the command's own parser checks its value)."""
    for flag in sorted(set(flag for flag, _, _ in _VARIANTS.get(name, ()))):
        parser.add_argument(flag, dest=flag, default=None, nargs='?', const='')  # bare: its own parser says what is missing


def select_variant(name, parsed):
    """The architecture a script registered for ``name`` runs, given the pre-parsed variant flags
    (:func:`add_variant_flags`)."""
    for flag, target, values in _VARIANTS.get(name, ()):
        value = getattr(parsed, flag)
        if value is not None and (values is None or value in values):
            return get(target)
    return get(name)


def variants_help(name):
    """One sentence for ``--help`` naming the variants of ``name`` and the flags selecting them."""
    parts = collections.OrderedDict()
    for flag, target, values in _VARIANTS.get(name, ()):
        parts.setdefault(target, []).append(flag + ('' if values is None else ' ' + '|'.join(values)))
    return ' '.join('With %s this script runs %s (%s, %s family); add --help after those flags for its options.'
                    % (' or '.join(flags), t, get(t).string, get(t).family) for t, flags in parts.items())


def get(name):
    """The registered architecture ``name``; a clear error listing the known ones otherwise.

    MobileNet variants (``mobilenet_imagenet_w<width>_s<size>_c<classes>``) are registered on first use."""
    if name not in _REGISTRY:
        variant = _parse_mobilenet_name(name)
        if variant is not None:
            return mobilenet(*variant)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError('unknown architecture %r (known: %s)' % (name, ', '.join(_REGISTRY)))


C = ConvBlock

# Negative-spike family (NeurIPS'21 submission, seed 001): authors' settings from their scripts.
register(Architecture(
    name='mlp_fashionmnist', dataset='fashion_mnist', input_shape=(28, 28, 1), n_classes=10,
    blocks=[C(400, 28), C(400, 1)], family='negative',
    defaults=dict(k=1, time_steps=40, epochs=150, batch_size=200, learning_rate=1e-4, sim_batch_size=50),
    string='400-400', log_group='MLP'))

register(Architecture(
    name='lenet_fashionmnist', dataset='fashion_mnist', input_shape=(28, 28, 1), n_classes=10,
    blocks=[C(32, 5), C(32, 2, 2, 'SAME'), C(64, 5), C(64, 2, 2, 'SAME'), C(1024, 4)], family='negative',
    defaults=dict(k=1, time_steps=20, epochs=100, batch_size=200, learning_rate=1e-4, sim_batch_size=50),
    string='32C5-P2-64C5-P2-1024', log_group='LeNet'))

register(Architecture(
    name='lenet_mnist', dataset='mnist', input_shape=(28, 28, 1), n_classes=10,
    blocks=[C(20, 5), C(20, 2, 2, 'SAME'), C(50, 5), C(50, 2, 2, 'SAME'), C(500, 4)], family='negative',
    defaults=dict(k=1, time_steps=20, epochs=150, batch_size=200, learning_rate=1e-4, sim_batch_size=200),
    string='20C5-P2-50C5-P2-500'))

# Scatter-and-gather family (Frontiers 2021, seed 003): the LeNet of the authors' released checkpoint.
register(Architecture(
    name='lenet_mnist_sg', dataset='mnist', input_shape=(28, 28, 1), n_classes=10,
    blocks=[C(16, 5, 1, 'SAME'), C(16, 5), C(16, 2, 2, 'SAME'), C(32, 5), C(32, 2, 2, 'SAME'), C(256, 4)],
    family='scatter_gather', weight_quant='ternary',
    defaults=dict(k=1, B=2, time_steps=1, epochs=200, batch_size=128, learning_rate=1e-3, sim_batch_size=200),
    string='16C5-P2-16C5-P2-256'))

# CIFAR-10 negative-spike VGG-style networks (seed 001); input: the 24x24 central crop, per-image standardized.
def _cifar_vgg(name, w, string, family='negative', k=1, time_steps=100, **extra):
    """wC3-wC3-P2-wC3-P2-wC3-wC3-P2-wC3(VALID)-wC1 with the widths ``w`` (10 hidden blocks)."""
    blocks = [C(w[0], 3, 1, 'SAME'), C(w[1], 3, 1, 'SAME'), C(w[2], 2, 2, 'SAME'), C(w[3], 3, 1, 'SAME'),
              C(w[4], 2, 2, 'SAME'), C(w[5], 3, 1, 'SAME'), C(w[6], 3, 1, 'SAME'), C(w[7], 2, 2, 'SAME'),
              C(w[8], 3), C(w[9], 1)]
    return register(Architecture(
        name=name, dataset='cifar10', input_shape=(24, 24, 3), n_classes=10, blocks=blocks, family=family,
        defaults=dict(k=k, time_steps=time_steps, epochs=200, batch_size=200, learning_rate=1e-3,
                      sim_batch_size=50),
        string=string, **extra))


_cifar_vgg('cnn1_cifar10', (96, 256, 256, 384, 384, 384, 256, 256, 1024, 1024),
           '96C3-256C3-P2-384C3-P2-384C3-256C3-P2-1024-1024',
           log_group='CNN1')
_cifar_vgg('cnn2_cifar10', (128, 256, 256, 512, 512, 1024, 512, 512, 1024, 512),
           '128C3-256C3-P2-512C3-P2-1024C3-512C3-P2-1024-512',
           log_group='CNN2')

# All-integer family (Frontiers 2024, seed 002): ternary hidden weights, integer thresholds, and a first layer
# quantized with k0=0, B0=4 that the SNN turns into a dynamic-threshold encoding layer (4 steps).
register(Architecture(
    name='lenet_mnist_int', dataset='mnist', input_shape=(28, 28, 1), n_classes=10,
    blocks=[C(32, 5), C(32, 2, 2, 'SAME'), C(64, 5), C(64, 2, 2, 'SAME'), C(1000, 4)],
    family='integer', weight_quant='ternary', first_quant=(0, 4),
    defaults=dict(k=0, time_steps=30, epochs=200, batch_size=200, learning_rate=1e-4, sim_batch_size=200),
    string='32C5-P2-64C5-P2-1000'))

_cifar_vgg('cnn1_cifar10_int', (96, 256, 256, 384, 384, 384, 256, 256, 1024, 1024),
           '96C3-256C3-P2-384C3-P2-384C3-256C3-P2-1024-1024',
           family='integer', k=0, time_steps=30, weight_quant='ternary', first_quant=(0, 4),
           authors_readout_sop=False)  # the authors' Spiking_VGGNet_CIFAR10.py adds no readout term
register_variant('cnn1_cifar10', 'cnn1_cifar10_int', '--use_ternary')
register_variant('cnn1_cifar10', 'cnn1_cifar10_int', '--use_int')


# Scatter-and-gather VGG-Net (seed 003, the authors' models/vgg_cifar10.py and vgg_cifar100.py): three 64C3
# (the first full precision), P2, 2x128C3, P2, 2x256C3, P2, 512C3, 512C3 VALID on the 24x24 crop; ternary hidden.
def _sg_vgg(name, dataset, n_classes):
    blocks = ([C(64, 3, 1, 'SAME')] * 3 + [C(64, 2, 2, 'SAME')] + [C(128, 3, 1, 'SAME')] * 2 + [C(128, 2, 2, 'SAME')]
              + [C(256, 3, 1, 'SAME')] * 2 + [C(256, 2, 2, 'SAME'), C(512, 3, 1, 'SAME'), C(512, 3)])
    return register(Architecture(
        name=name, dataset=dataset, input_shape=(24, 24, 3), n_classes=n_classes, blocks=blocks,
        family='scatter_gather', weight_quant='ternary', log_group='VGG',
        defaults=dict(k=1, B=2, time_steps=1, epochs=400, batch_size=200, learning_rate=1e-3, sim_batch_size=100),
        string='64C3*2-2P2-128C3*2-P2-256C3*2-P2-512C3-512'))


_sg_vgg('vgg_cifar10_sg', 'cifar10', 10)
_sg_vgg('vgg_cifar100_sg', 'cifar100', 100)


# N-MNIST (seed 004): frames of event counts / 32 (34x34, ON events; '_2p': ON and OFF channels).
def _nmnist(name, blocks, string, log_group):
    for two in (False, True):
        register(Architecture(
            name=name + ('_2p' if two else ''), dataset='n_mnist_2p' if two else 'n_mnist',
            input_shape=(34, 34, 2 if two else 1), n_classes=10, blocks=blocks, family='negative',
            log_group=log_group + ('_2p' if two else ''),
            defaults=dict(k=1, time_steps=30, epochs=150, batch_size=200, learning_rate=1e-4, sim_batch_size=100),
            string=string))
    register_variant(name, name + '_2p', '--polarity', ('both',), base_value='on',
                     help="input frames: 'on' = ON-event counts (the authors', default), 'both' = ON and OFF "
                          "channels (%s_2p; frames from preprocessing_N_MNIST.py --polarity both)" % name)


_nmnist('mlp_nmnist', [C(400, 34), C(400, 1)], '400-400', 'MLP')
# the authors' LeNet: 12C5 VALID, 12 (k2 s2), 64C4 VALID, 64 (k2 s2), then the readout (their string: 12C5-P2-64C5-P2)
_nmnist('lenet_nmnist', [C(12, 5), C(12, 2, 2, 'SAME'), C(64, 4), C(64, 2, 2, 'SAME')], '12C5-P2-64C5-P2', 'LeNet')


# ImageNet MobileNetV1 (seed 000; the authors never published their quantized definition, SPEC section 5): a
# full-precision 3x3 stride-2 convolution, 13 depthwise-separable blocks -- a 3x3 depthwise convolution and a 1x1
# pointwise one, each a hidden block with BN + ReLU + quantizer(k) -- global mean pool and the bias-free readout.
MOBILENET_BASE = 'mobilenet_imagenet'
MOBILENET_DEFAULTS = dict(width=1.0, image_size=224, n_classes=1000)
_MOBILENET_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
                     (512, 1), (512, 1), (1024, 2), (1024, 1))  # (pointwise filters, depthwise stride)


def _mobilenet_depth(channels, width):
    """TF-slim's rule: channels x width multiplier, at least 8."""
    return max(int(channels * width), 8)


def mobilenet_name(width, image_size, n_classes):
    """Registry name of a MobileNet variant; the defaults (1.0, 224, 1000) are ``mobilenet_imagenet``."""
    if (float(width), int(image_size), int(n_classes)) == (1.0, 224, 1000):
        return MOBILENET_BASE
    return '%s_w%g_s%d_c%d' % (MOBILENET_BASE, float(width), int(image_size), int(n_classes))


def _parse_mobilenet_name(name):
    import re
    m = re.match(r'^%s_w([0-9.]+)_s([0-9]+)_c([0-9]+)$' % MOBILENET_BASE, str(name))
    return None if m is None else (float(m.group(1)), int(m.group(2)), int(m.group(3)))


def mobilenet(width=1.0, image_size=224, n_classes=1000):
    """The (registered) quantized MobileNetV1 with width multiplier ``width`` on ``image_size`` px inputs."""
    width, image_size, n_classes = float(width), int(image_size), int(n_classes)
    if not 0 < width <= 4:
        raise ValueError('the width multiplier must be in (0, 4], got %g' % width)
    if image_size < 32:
        raise ValueError('the MobileNet input size must be >= 32 px, got %d' % image_size)
    if n_classes < 2:
        raise ValueError('MobileNet needs >= 2 classes, got %d' % n_classes)
    name = mobilenet_name(width, image_size, n_classes)
    if name in _REGISTRY:
        return _REGISTRY[name]
    channels = _mobilenet_depth(32, width)
    blocks = [C(channels, 3, 2, 'SAME')]
    for filters, stride in _MOBILENET_BLOCKS:
        blocks.append(C(channels, 3, stride, 'SAME', depthwise=True))
        channels = _mobilenet_depth(filters, width)
        blocks.append(C(channels, 1, 1, 'SAME'))
    return register(Architecture(
        name=name, dataset='imagenet', input_shape=(image_size, image_size, 3), n_classes=n_classes, blocks=blocks,
        family='negative', global_pool=True, log_group='' if name == MOBILENET_BASE else name[len(MOBILENET_BASE) + 1:],
        defaults=dict(k=1, time_steps=100, epochs=60, batch_size=200, learning_rate=1e-2, sim_batch_size=10,
                      width=width, image_size=image_size),
        string='MobileNetV1 (width %g, %d px): C3s2-13x(dw3-pw1)-GAP' % (width, image_size)))


def add_mobilenet_flags(p):
    """The flags choosing the MobileNet variant (shared by the ANN and SNN scripts)."""
    d = MOBILENET_DEFAULTS
    p.add_argument('--width_multiplier', type=WIDTH, default=d['width'],
                   help='channels x this (TF-slim rule, at least 8; default %(default)s)')
    p.add_argument('--image_size', type=IMAGE_SIZE, default=d['image_size'],
                   help='input size in px (default %(default)s)')
    p.add_argument('--num_classes', type=CLASSES, default=None,
                   help='classes (default: those of the converted data set, synsets.txt; else 1000)')


mobilenet()
