"""The TensorLayer graph of a registered architecture (the ANN side of the single description)."""

from __future__ import absolute_import, division, print_function

import numpy as np

import tensorlayer_patches
from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import check_params
from snn_conversion.core.numerics import BN_DECAY, BN_EPSILON
from snn_conversion.ann.settings import Network as Settings

__all__ = ['Network', 'build_network', 'QuantANN', 'load_variables']

SCOPE = 'snn_net'


class Network(object):
    """A built graph: ``net`` (TensorLayer layer), ``logits``, ``hidden`` (per-block activation tensors),
    ``export`` (tensors in the checkpoint's order, weights as used in the forward pass) and ``assignable``
    (the variables those values are loaded into)."""

    def __init__(self, net, hidden, export, assignable):
        self.net = net
        self.logits = net.outputs
        self.hidden = hidden
        self.export = export
        self.assignable = assignable


def build_network(settings, x, is_train=False, reuse=False):
    """Build the network ``settings`` (a :class:`snn_conversion.ann.settings.Network`: architecture, k, B, ...) on
    input tensor ``x``.

    Hidden block: Quant_Conv2d (no bias; weights quantized as ``arch.weight_quant_for(ternary)``
    says, except in the first block) -> BatchNorm(ReLU, decay 0.9, eps 1e-5) ->
    Quant_Layer(k, B) -- Quant_Layer(k0, B0) in the first block when ``arch.first_quant`` --
    (``full_precision``: neither weight nor activation quantization, but ternary weights in the hidden blocks
    numbered in ``ternary_blocks``, from 1); a depthwise block uses
    Quant_DepthwiseConv2d.  Readout: flatten (``arch.global_pool``: global mean pool) ->
    bias-free dense, full precision.  Call once with ``reuse=False`` (training
    graph) and again with ``reuse=True`` (inference graph) to share variables.
    """
    tl = tensorlayer_patches.load()
    tf = tensorlayer_patches.quiet_tensorflow()

    hidden, export, assignable = [], [], []
    arch, k, B, full_precision = settings.arch, settings.k, settings.B, settings.full_precision
    with tf.variable_scope(SCOPE, reuse=reuse):
        net = tl.layers.InputLayer(x, name='input')
        for i, blk in enumerate(arch.blocks):
            wq = settings.weight_quant_of(i)
            if blk.depthwise:
                conv = tl.layers.Quant_DepthwiseConv2d(net, (blk.kernel, blk.kernel), (blk.stride, blk.stride),
                                                       padding=blk.padding, weight_quant=wq, name='conv%d' % (i + 1))
            else:
                conv = tl.layers.Quant_Conv2d(net, blk.filters, (blk.kernel, blk.kernel), (blk.stride, blk.stride),
                                              padding=blk.padding, weight_quant=wq, name='conv%d' % (i + 1))
            bn = tl.layers.BatchNormLayer(conv, decay=BN_DECAY, epsilon=BN_EPSILON, act=tf.nn.relu,
                                          is_train=is_train, name='bn%d' % (i + 1))
            bn_vars = list(bn.all_params[-4:])
            names = [v.name.rsplit('/', 1)[-1].split(':')[0] for v in bn_vars]
            if names != ['beta', 'gamma', 'moving_mean', 'moving_variance']:
                raise RuntimeError('unexpected BatchNormLayer parameters %s' % names)
            kq, Bq = arch.first_quant if (i == 0 and arch.first_quant) else (k, B)
            net = bn if full_precision else tl.layers.Quant_Layer(bn, kq, Bq, name='quant%d' % (i + 1))
            hidden.append(net.outputs)
            export += [conv.W_q] + bn_vars
            assignable += [conv.W] + bn_vars
        if arch.global_pool:
            net = tl.layers.GlobalMeanPool2d(net, name='global_pool')
        else:
            net = tl.layers.FlattenLayer(net, name='flatten')
        out = tl.layers.Quant_DenseLayer(net, arch.n_classes, name='readout')
        export.append(out.W_q)
        assignable.append(out.W)
    return Network(out, hidden, export, assignable)


class QuantANN(object):
    """An inference-only quantized ANN in its own graph and session (for evaluation and tests).

    ``QuantANN(arch, k).assign(params)`` loads a parameter list in the checkpoint
    order; ``logits(x)`` and ``hidden(x)`` evaluate the graph.
    """

    def __init__(self, arch, k=1, B=None, full_precision=False, ternary=None):
        tf = tensorlayer_patches.quiet_tensorflow()

        self.arch = architectures.get(arch) if isinstance(arch, str) else arch
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x = tf.placeholder(tf.float32, (None,) + self.arch.input_shape, name='x')
            self.network = build_network(Settings(self.arch, k, B, ternary, full_precision), self.x)
            self.sess = tf.Session(graph=self.graph)
            self.sess.run(tf.global_variables_initializer())

    def assign(self, params):
        check_params(self.arch, params)
        load_variables(self.sess, [(var, np.asarray(value, dtype=np.float32))
                                   for var, value in zip(self.network.assignable, params)])
        return self

    def _run(self, tensors, x, batch_size):
        outs = []
        for s in range(0, len(x), batch_size):
            outs.append(self.sess.run(tensors, {self.x: x[s:s + batch_size]}))
        return outs

    def logits(self, x, batch_size=1000):
        return np.concatenate(self._run(self.network.logits, x, batch_size))

    def hidden(self, x, batch_size=1000):
        outs = self._run(self.network.hidden, x, batch_size)
        return [np.concatenate([o[i] for o in outs]) for i in range(len(self.network.hidden))]

    def accuracy(self, x, y, batch_size=1000):
        return float(np.mean(np.argmax(self.logits(x, batch_size), axis=1) == np.asarray(y)))

    def close(self):
        self.sess.close()


def load_variables(sess, pairs):
    """Give each (variable, value) of ``pairs`` its value in one session call (one call per variable, as
    ``Variable.load`` does, prunes the whole graph once per variable: seconds for a large graph)."""
    sess.run([var.initializer for var, _ in pairs], {var.initializer.inputs[1]: value for var, value in pairs})
