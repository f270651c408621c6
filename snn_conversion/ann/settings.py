"""The settings of an ANN command, as values: made once from the command line (or by a caller), checked once,
passed down whole.

* :class:`Network` -- which ANN: architecture, k, B, ternary hidden weights, full precision or not (and which
  blocks of a full-precision network still have ternary weights).
* :class:`AnnRun` -- one training or inference run of it: checkpoint, mode, training budget and options, data.

Pure Python: importing it does not import TensorFlow.
"""

from __future__ import absolute_import, division, print_function

import collections

from snn_conversion.core.weights import NONE, TERNARY

__all__ = ['Network', 'AnnRun', 'MODES', 'blocks_text']

MODES = ('training', 'inference')


def blocks_text(blocks):
    """'6', '2,6': block numbers as the ``--ternary_blocks`` flag and a checkpoint's record write them."""
    return ','.join(str(b) for b in blocks or ())


class Network(collections.namedtuple('Network', 'arch k B ternary full_precision ternary_blocks')):
    """The ANN of a run: ``arch`` (an :class:`~snn_conversion.core.architectures.Architecture`), activation level
    ``k`` (0 for full precision), bound ``B`` (scatter-and-gather), ``ternary`` (the ``--use_ternary`` choice,
    None: the default) and ``full_precision`` (the FP32 network of the same architecture).

    ``ternary_blocks``: hidden blocks (numbered from 1) whose weights a full-precision network still ternarizes,
    as the authors' ``FP32_LeNet_MNIST.py`` of seed 003 does with its 256-channel block (``(6,)``); () for none,
    None: not chosen (a checkpoint's record decides, see :meth:`with_ternary_blocks`)."""

    __slots__ = ()

    def __new__(cls, arch, k=None, B=None, ternary=None, full_precision=False, ternary_blocks=()):
        full_precision = bool(full_precision)
        k = 0 if full_precision else int(arch.defaults['k'] if k is None else k)
        B = None if full_precision else B
        ternary = None if full_precision else ternary
        if ternary_blocks is not None:
            ternary_blocks = tuple(sorted(set(int(b) for b in ternary_blocks)))
            if ternary_blocks and not full_precision:
                raise ValueError('ternary_blocks is a choice of the full-precision network (a quantized one '
                                 'follows its family: %s)' % arch.weight_quant_for(ternary))
            wrong = [b for b in ternary_blocks if not 1 <= b <= len(arch.blocks)]
            if wrong:
                raise ValueError('%s has hidden blocks 1 to %d, not %s'
                                 % (arch.name, len(arch.blocks), ', '.join(str(b) for b in wrong)))
        return super(Network, cls).__new__(cls, arch, k, B, ternary, full_precision, ternary_blocks)

    def with_ternary(self, ternary):
        """The same network with the ``--use_ternary`` choice resolved (e.g. from a checkpoint's record)."""
        return self._replace(ternary=None if self.full_precision else ternary)

    def with_ternary_blocks(self, ternary_blocks):
        """The same network with its ternary blocks resolved (e.g. from a checkpoint's record)."""
        return Network(self.arch, self.k, self.B, self.ternary, self.full_precision, ternary_blocks or ())

    def weight_quant_of(self, i):
        """The weight quantization of hidden block ``i`` (from 0): None for the first (always full precision)
        and for a full-precision network's blocks but its ``ternary_blocks``."""
        if self.full_precision:
            return TERNARY if i + 1 in (self.ternary_blocks or ()) else NONE
        return self.weight_quant if i > 0 else NONE

    @property
    def tag(self):
        """'fp32', or the checkpoint tag of the quantized network ('k1', 'k1B2', 'k0_WQ')."""
        return 'fp32' if self.full_precision else self.arch.config_tag(self.k, self.B, self.ternary)

    @property
    def label(self):
        """For messages: 'lenet_mnist k1', 'lenet_mnist FP32'."""
        if self.ternary_blocks:
            return '%s FP32 (ternary weights in block %s)' % (self.arch.name, blocks_text(self.ternary_blocks))
        return '%s %s' % (self.arch.name, 'FP32' if self.full_precision else self.tag)

    @property
    def weight_quant(self):
        """The hidden blocks' weight quantization this network trains with (:data:`~snn_conversion.core.weights.NONE`:
        full precision weights)."""
        return NONE if self.full_precision else self.arch.weight_quant_for(self.ternary)

    def checkpoint_meta(self):
        """The metadata every checkpoint of this network carries."""
        return dict(architecture=self.arch.name, k=None if self.full_precision else int(self.k),
                    B=None if self.full_precision else self.B, weight_quant=self.weight_quant.stored,
                    dataset=self.arch.dataset, ternary_blocks=blocks_text(self.ternary_blocks) or None)


class AnnRun(collections.namedtuple('AnnRun', 'net model_file mode epochs learning_rate batch_size data_dir download '
                                              'num_test resume seed threads observe_test xla overwrite num_train '
                                              'drop_last')):
    """One run of an ANN command: train (``mode='training'``) or evaluate (``'inference'``) the :class:`Network`
    ``net`` with the checkpoint ``model_file``.  Training: ``epochs``, ``learning_rate``, ``batch_size`` (None:
    the architecture's), ``resume``, ``seed``, ``threads`` (0: every core), ``observe_test`` (print the test
    accuracy after every epoch), ``xla`` (XLA auto-clustering), ``overwrite`` (a fresh training may replace an
    existing checkpoint).  Data: ``data_dir``, ``download``, ``num_test`` (the first N test images only),
    ``num_train`` (train on the first N training images, and validate on the same share of the validation images: a
    quick look, e.g. the
    table runner's ``--smoke``).  ``drop_last``: an array input's epoch leaves out its last partial batch, as
    TensorLayer's ``tl.iterate.minibatches`` does in the authors' loop (a recipe choice, recorded in the checkpoint
    and the training state; inference ignores it)."""

    __slots__ = ()

    def __new__(cls, net, model_file, mode='training', epochs=None, learning_rate=None, batch_size=None,
                data_dir=None, download=False, num_test=None, resume=False, seed=0, threads=0, observe_test=False,
                xla=False, overwrite=False, num_train=None, drop_last=False):
        if mode not in MODES:
            raise ValueError('mode must be one of %s, got %r' % (MODES, mode))
        d = net.arch.defaults
        return super(AnnRun, cls).__new__(
            cls, net, model_file, mode, int(epochs or d['epochs']), float(learning_rate or d['learning_rate']),
            int(batch_size or d['batch_size']), data_dir, bool(download), None if num_test is None else int(num_test),
            bool(resume), int(seed), int(threads), bool(observe_test), bool(xla), bool(overwrite),
            None if num_train is None else int(num_train), bool(drop_last))

    @property
    def training(self):
        return self.mode == 'training'
