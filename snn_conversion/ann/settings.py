"""The settings of an ANN command, as values: made once from the command line (or by a caller), checked once,
passed down whole.

* :class:`Network` -- which ANN: architecture, k, B, ternary hidden weights, full precision or not.
* :class:`AnnRun` -- one training or inference run of it: checkpoint, mode, training budget and options, data.

Pure Python: importing it does not import TensorFlow.
"""

from __future__ import absolute_import, division, print_function

import collections

__all__ = ['Network', 'AnnRun', 'MODES']

MODES = ('training', 'inference')


class Network(collections.namedtuple('Network', 'arch k B ternary full_precision')):
    """The ANN of a run: ``arch`` (an :class:`~snn_conversion.core.architectures.Architecture`), activation level
    ``k`` (0 for full precision), bound ``B`` (scatter-and-gather), ``ternary`` (the ``--use_ternary`` choice,
    None: the default) and ``full_precision`` (the FP32 network of the same architecture)."""

    __slots__ = ()

    def __new__(cls, arch, k=None, B=None, ternary=None, full_precision=False):
        full_precision = bool(full_precision)
        k = 0 if full_precision else int(arch.defaults['k'] if k is None else k)
        B = None if full_precision else B
        ternary = None if full_precision else ternary
        return super(Network, cls).__new__(cls, arch, k, B, ternary, full_precision)

    def with_ternary(self, ternary):
        """The same network with the ``--use_ternary`` choice resolved (e.g. from a checkpoint's record)."""
        return self._replace(ternary=None if self.full_precision else ternary)

    @property
    def tag(self):
        """'fp32', or the checkpoint tag of the quantized network ('k1', 'k1B2', 'k0_WQ')."""
        return 'fp32' if self.full_precision else self.arch.config_tag(self.k, self.B, self.ternary)

    @property
    def label(self):
        """For messages: 'lenet_mnist k1', 'lenet_mnist FP32'."""
        return '%s %s' % (self.arch.name, 'FP32' if self.full_precision else self.tag)

    @property
    def weight_quant(self):
        """The hidden blocks' weight quantization this network trains with (None: full precision weights)."""
        return None if self.full_precision else self.arch.weight_quant_for(self.ternary)

    def checkpoint_meta(self):
        """The metadata every checkpoint of this network carries."""
        return dict(architecture=self.arch.name, k=None if self.full_precision else int(self.k),
                    B=None if self.full_precision else self.B, weight_quant=self.weight_quant or 'none',
                    dataset=self.arch.dataset)


class AnnRun(collections.namedtuple('AnnRun', 'net model_file mode epochs learning_rate batch_size data_dir download '
                                              'num_test resume seed threads observe_test xla overwrite')):
    """One run of an ANN command: train (``mode='training'``) or evaluate (``'inference'``) the :class:`Network`
    ``net`` with the checkpoint ``model_file``.  Training: ``epochs``, ``learning_rate``, ``batch_size`` (None:
    the architecture's), ``resume``, ``seed``, ``threads`` (0: every core), ``observe_test`` (print the test
    accuracy after every epoch), ``xla`` (XLA auto-clustering), ``overwrite`` (a fresh training may replace an
    existing checkpoint).  Data: ``data_dir``, ``download``, ``num_test`` (the first N test images only)."""

    __slots__ = ()

    def __new__(cls, net, model_file, mode='training', epochs=None, learning_rate=None, batch_size=None,
                data_dir=None, download=False, num_test=None, resume=False, seed=0, threads=0, observe_test=False,
                xla=False, overwrite=False):
        if mode not in MODES:
            raise ValueError('mode must be one of %s, got %r' % (MODES, mode))
        d = net.arch.defaults
        return super(AnnRun, cls).__new__(
            cls, net, model_file, mode, int(epochs or d['epochs']), float(learning_rate or d['learning_rate']),
            int(batch_size or d['batch_size']), data_dir, bool(download), None if num_test is None else int(num_test),
            bool(resume), int(seed), int(threads), bool(observe_test), bool(xla), bool(overwrite))

    @property
    def training(self):
        return self.mode == 'training'
