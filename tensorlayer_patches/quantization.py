"""Activation and weight quantization layers of the authors' TensorLayer fork (TensorFlow 1.15).

All gradients are straight-through: ``Round`` and ``Sign`` are differentiated
as the identity.
"""

from __future__ import absolute_import, division, print_function

from snn_conversion.core.numerics import ROUND_OFFSET, TERNARY_DELTA
from snn_conversion.core.tf_logging import quiet_tensorflow
from snn_conversion.core.weights import WeightQuant
from tensorlayer_patches.startup import import_tensorlayer

tf = quiet_tensorflow()
Layer = import_tensorlayer().layers.core.Layer  # TensorLayer imported the light way, whoever imports this first

__all__ = ['quantize_active', 'ternarize', 'quantize_weight', 'apply_weight_quant', 'Quant_Layer',
           'Quant_Conv2d', 'Quant_DepthwiseConv2d', 'Quant_DenseLayer', 'register', 'WEIGHT_QUANT_CHOICES', 'checked_weight_quant']

WEIGHT_QUANT_CHOICES = (None, 'ternary', 1, 2, 3, 4, 5, 6, 7, 8)


def _round_ste(x):
    # tf.math.rint rounds half to even exactly as tf.round does, in a vectorized kernel (tf.round's CPU kernel
    # is a scalar loop: a measurable share of a quantized network's training step)
    with tf.get_default_graph().gradient_override_map({'Rint': 'Identity'}):
        return tf.math.rint(x)


def _sign_ste(x):
    with tf.get_default_graph().gradient_override_map({'Sign': 'Identity'}):
        return tf.sign(x)


def quantize_active(x, k, B=None):
    """``round(2^k x + 1e-5) / 2^k``, after clipping to [-B, B] when ``B`` is given (scatter-and-gather)."""
    if B is not None:
        x = tf.clip_by_value(x, -float(B), float(B))
    n = float(2 ** int(k))
    return _round_ste(x * n + ROUND_OFFSET) / n


def ternarize(w):
    """TWN ternarization: Delta = 0.7 mean|W| over the tensor; W_t in {-1, 0, +1} (no scale)."""
    delta = TERNARY_DELTA * tf.reduce_mean(tf.abs(w))
    return _sign_ste(_sign_ste(w + delta) + _sign_ste(w - delta))


def quantize_weight(w, bits):
    """k-bit weights: 1 bit = sign(W) * mean|W|; more bits = DoReFa (tanh-normalised, uniform in [-1, 1])."""
    bits = int(bits)
    if bits == 1:
        return _sign_ste(w) * tf.stop_gradient(tf.reduce_mean(tf.abs(w)))
    t = tf.tanh(w)
    t = t / (2.0 * tf.reduce_max(tf.abs(t))) + 0.5
    n = float(2 ** bits - 1)
    return 2.0 * _round_ste(t * n) / n - 1.0


def checked_weight_quant(weight_quant):
    """The :class:`~snn_conversion.core.weights.WeightQuant` of a layer's ``weight_quant`` argument: one of
    :data:`WEIGHT_QUANT_CHOICES` (or a value of one), else a ValueError."""
    try:
        wq = WeightQuant.of(weight_quant)
    except ValueError:
        wq = None
    if wq is None or not (wq.full_precision or wq.ternary or wq.bits in WEIGHT_QUANT_CHOICES):
        raise ValueError('weight_quant must be one of %s' % (WEIGHT_QUANT_CHOICES,))
    return wq


def apply_weight_quant(w, weight_quant):
    """``w`` quantized as ``weight_quant`` says (a :class:`~snn_conversion.core.weights.WeightQuant`, or what
    :meth:`WeightQuant.of` takes: None, 'none', 'ternary', a bit width)."""
    wq = WeightQuant.of(weight_quant)
    if wq.full_precision:
        return w
    if wq.ternary:
        return ternarize(w)
    return quantize_weight(w, wq.bits)


class Quant_Layer(Layer):
    """Activation quantizer layer: outputs ``round(2^k x + 1e-5) / 2^k`` (clipped to [-B, B] if B)."""

    def __init__(self, prev_layer, k=1, B=None, name='quant'):
        super(Quant_Layer, self).__init__(prev_layer=prev_layer, name=name)
        self.k, self.B = int(k), B
        with tf.variable_scope(name):
            self.outputs = quantize_active(self.inputs, self.k, B)
        self._add_layers(self.outputs)


class Quant_Conv2d(Layer):
    """Bias-free 2-D convolution whose kernel is quantized in the forward pass.

    ``weight_quant``: None (full precision), 'ternary' (TWN) or an int bit width.
    ``self.W`` is the latent float variable (trained), ``self.W_q`` the kernel used
    in the forward pass (what the checkpoint stores).
    """

    def __init__(self, prev_layer, n_filter=32, filter_size=(3, 3), strides=(1, 1), padding='SAME',
                 weight_quant=None, W_init=tf.truncated_normal_initializer(stddev=0.02), name='quant_conv2d'):
        super(Quant_Conv2d, self).__init__(prev_layer=prev_layer, name=name)
        weight_quant = checked_weight_quant(weight_quant)
        cin = int(self.inputs.get_shape()[-1])
        with tf.variable_scope(name):
            self.W = tf.get_variable('W', shape=(filter_size[0], filter_size[1], cin, n_filter), initializer=W_init,
                                     dtype=tf.float32)
            self.W_q = apply_weight_quant(self.W, weight_quant)
            h, w = (int(d) if d is not None else None for d in self.inputs.get_shape()[1:3])
            if padding == 'VALID' and (h, w) == tuple(filter_size):
                # the kernel covers the input: the same product as a matmul, much faster on CPU
                flat = tf.reshape(self.inputs, (-1, h * w * cin))
                self.outputs = tf.reshape(tf.matmul(flat, tf.reshape(self.W_q, (h * w * cin, n_filter))),
                                          (-1, 1, 1, n_filter))
            else:
                self.outputs = tf.nn.conv2d(self.inputs, self.W_q, strides=(1, strides[0], strides[1], 1),
                                            padding=padding)
        self._add_layers(self.outputs)
        self._add_params(self.W)


class Quant_DepthwiseConv2d(Layer):
    """Bias-free depthwise convolution (channel multiplier 1, kernel HWC1) with an optionally quantized kernel
    (see :class:`Quant_Conv2d`): MobileNet's depthwise layer."""

    def __init__(self, prev_layer, filter_size=(3, 3), strides=(1, 1), padding='SAME', weight_quant=None,
                 W_init=tf.truncated_normal_initializer(stddev=0.02), name='quant_depthwise_conv2d'):
        super(Quant_DepthwiseConv2d, self).__init__(prev_layer=prev_layer, name=name)
        weight_quant = checked_weight_quant(weight_quant)
        cin = int(self.inputs.get_shape()[-1])
        with tf.variable_scope(name):
            self.W = tf.get_variable('W', shape=(filter_size[0], filter_size[1], cin, 1), initializer=W_init,
                                     dtype=tf.float32)
            self.W_q = apply_weight_quant(self.W, weight_quant)
            self.outputs = tf.nn.depthwise_conv2d(self.inputs, self.W_q, strides=(1, strides[0], strides[1], 1),
                                                  padding=padding)
        self._add_layers(self.outputs)
        self._add_params(self.W)


class Quant_DenseLayer(Layer):
    """Bias-free dense layer with optionally quantized weights (see :class:`Quant_Conv2d`)."""

    def __init__(self, prev_layer, n_units=100, weight_quant=None,
                 W_init=tf.truncated_normal_initializer(stddev=0.1), name='quant_dense'):
        super(Quant_DenseLayer, self).__init__(prev_layer=prev_layer, name=name)
        weight_quant = checked_weight_quant(weight_quant)
        n_in = int(self.inputs.get_shape()[-1])
        with tf.variable_scope(name):
            self.W = tf.get_variable('W', shape=(n_in, n_units), initializer=W_init, dtype=tf.float32)
            self.W_q = apply_weight_quant(self.W, weight_quant)
            self.outputs = tf.matmul(self.inputs, self.W_q)
        self._add_layers(self.outputs)
        self._add_params(self.W)


def register(tl):
    """Expose the layers under ``tl.layers`` as in the authors' fork."""
    for cls in (Quant_Layer, Quant_Conv2d, Quant_DepthwiseConv2d, Quant_DenseLayer):
        setattr(tl.layers, cls.__name__, cls)
    tl.layers.quantize_active = quantize_active
    tl.layers.ternarize = ternarize
    tl.layers.quantize_weight = quantize_weight
