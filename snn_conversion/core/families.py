"""What a conversion family is, in one place: the three families as objects.

The network, the simulation loop, the log writer, the command lines and the checkpoint checks ask a
:class:`Family` instead of branching on its name; the neurons and layers each family builds are its SNN recipe
(:mod:`snn_conversion.snn.families`).
"""

from __future__ import absolute_import, division, print_function

__all__ = ['Family', 'NetConfig', 'FAMILIES', 'get_family', 'register_family', 'unregister_family', 'LOG_FILES',
           'ALL_LOG_FILES', 'PROGRESS_FILE']

import collections
import os

import numpy as np

from snn_conversion.core.checkpoint import CheckpointError, ConversionError, agree_with_record
from snn_conversion.core.errors import parse_bool
from snn_conversion.core.flags import B_BOUND
from snn_conversion.core.formats import ALL_LOG_FILES, LOG_FILES, PROGRESS_FILE  # the log folder's files
from snn_conversion.core.weights import NONE, TERNARY, WeightQuant


def _whole(value):
    """An integer (numpy's too), not a bool: k and B are never silently truncated (2.5 is not 2)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class NetConfig(collections.namedtuple('NetConfig', 'k B ternary use_int')):
    """What a converted network is, beyond its architecture: activation level ``k``, bound ``B`` (None outside
    scatter-and-gather), ternary hidden weights or not, integer hidden neurons or not.  Made (and checked) by
    :meth:`Family.net_config`."""

    __slots__ = ()


class Family(object):
    """A conversion family.

    Attributes:
        name: 'negative', 'scatter_gather' or 'integer' (what checkpoints, run.json and the registry say).
        title: for messages and --help.
        uses_B: the ANN clips activations to B (``--B``); graded spikes 0..2^k B.
        optional_ternary: ternary hidden weights are a choice (``--use_ternary``), and integer neurons
            (``--use_int``) are offered.
        needs_first_quant: the first block has its own quantizer (k0, B0) (the dynamic-threshold encoding layer).
        single_step: one time step is the whole computation (no accumulation, no early stop to wait for).
        noise: what ``--noise_ratio`` perturbs: 'input' (x (1 + (U - 0.5) r)) or 'first_thresholds' (each
            threshold comparison of the first layer dropped with probability r).
        log_files: the log files its simulations write.
        float_logs: those written as floats (their scripts accumulate them in float64 arrays); the others are
            integers.
        counted_from: the first layer whose spikes the counters include (the all-integer family leaves its
            encoding layer out, as its authors).
        readout_sop: whether the readout's accumulation counts as synaptic operations (the consistent
            convention of ``rule='exact'``; an architecture may record its authors' script's own choice).
        splits_batches: a batch may be split over worker processes (per-layer random draws forbid it).
    """

    def __init__(self, name, title, uses_B, optional_ternary, single_step, noise, log_files, float_logs,
                 counted_from, readout_sop, log_tag_pattern, needs_first_quant=False):
        self.name, self.title = name, title
        self.uses_B, self.optional_ternary = bool(uses_B), bool(optional_ternary)
        self.needs_first_quant = bool(needs_first_quant)
        self.single_step, self.noise = bool(single_step), noise
        self.log_files, self.float_logs = tuple(log_files), tuple(float_logs)
        self.counted_from, self.readout_sop = int(counted_from), bool(readout_sop)
        self.splits_batches = noise != 'first_thresholds'
        self.log_tag_pattern = log_tag_pattern

    @property
    def noise_help(self):
        """The --noise_ratio help of the Spiking_* scripts."""
        if self.noise == 'first_thresholds':
            return 'probability of dropping each first-layer threshold comparison (default 0)'
        return ('input noise r: input x (1 + (U[0,1) - 0.5) r), drawn per batch from --seed '
                '(default 0; the authors\' MNIST and CIFAR-10 simulators defaulted to 1.0)')

    def __repr__(self):
        return 'Family(%r)' % self.name

    def sop_factor(self, k, B):
        """Synaptic operations per input event and fan-out: 1, or the authors' 2 x 2^k B for graded spikes."""
        return 2 * (2 ** int(k)) * int(B) if self.uses_B else 1

    def config_tag(self, k, B=None, ternary=False):
        """Names checkpoints: 'k1'; scatter-and-gather 'k1B2'; all-integer 'k0_WQ' (ternary) or 'k0_NWQ'."""
        if self.uses_B:
            return 'k%dB%d' % (k, B)
        if self.optional_ternary:
            return 'k%d_%s' % (k, 'WQ' if ternary else 'NWQ')
        return 'k%d' % k

    @property
    def config_tag_pattern(self):
        """:meth:`config_tag` for --help: 'k<K>', 'k<K>B<B>', 'k<K>_{WQ,NWQ}'."""
        return 'k<K>_{WQ,NWQ}' if self.optional_ternary else self.log_tag_pattern

    def weight_quant_for(self, arch, ternary=None):
        """The hidden blocks' weight quantization of ``arch`` for a ``--use_ternary`` choice (None: the
        default; a family without the choice keeps the architecture's)."""
        if ternary is None or not self.optional_ternary:
            return arch.weight_quant
        return TERNARY if ternary else NONE

    def log_tag(self, arch, config):
        """The log folder of a :class:`NetConfig` under figs/: 'k1', 'k1B2', or for the all-integer family the
        authors' '{WQ,NWQ}[_INT]/k<K>'; behind the architecture's ``log_group`` when it has one."""
        if not self.optional_ternary:
            tag = self.config_tag(config.k, config.B)
        else:
            tag = os.path.join(('WQ' if config.ternary else 'NWQ') + ('_INT' if config.use_int else ''),
                               'k%d' % config.k)
        return os.path.join(arch.log_group, tag) if arch.log_group else tag

    def add_config_flags(self, parser, arch, role):
        """The flags of the family's own settings: --B (scatter-and-gather), --use_ternary and, for the SNN
        (``role='snn'``), --use_int (all-integer).  The ANN's defaults are the architecture's; the SNN's (None)
        the checkpoint's."""
        d = arch.defaults
        if self.uses_B:
            parser.add_argument('--B', type=B_BOUND, default=d['B'] if role == 'ann' else None,
                                help='activation upper bound (default %(default)s)' if role == 'ann' else
                                'activation upper bound (default: the checkpoint\'s, else %d)' % d['B'])
        if not self.optional_ternary:
            return
        fixed = arch.weight_quant.ternary
        if role == 'ann':
            parser.add_argument('--use_ternary', type=parse_bool, default=None,
                                help='True: ternary hidden weights (TWN), as the all-integer network needs; False: '
                                     'full precision (default: the checkpoint\'s when resuming or inferring, else %s)'
                                     % fixed)
            return
        parser.add_argument('--use_ternary', type=parse_bool, default=None,
                            help='True: ternary hidden weights (default: the checkpoint\'s, else %s)' % fixed)
        parser.add_argument('--use_int', type=parse_bool, default=False,
                            help='True: all-integer hidden neurons (int64 membrane 10^4 W.s, integer thresholds; '
                                 'needs ternary weights); logs in figs/WQ_INT/k<K>/ (default %(default)s)')

    def net_config(self, arch, k, B=None, use_ternary=None, use_int=False):
        """The checked :class:`NetConfig` of a conversion request (one-line :class:`ConversionError` otherwise)."""
        if not _whole(k) or k < 0:
            raise ConversionError('k must be an integer >= 0, got %r' % (k,))
        k = int(k)
        if self.uses_B:
            if B is None or not _whole(B) or B < 1:
                raise ConversionError('%s (%s) needs B, an integer >= 1, got %r' % (arch.name, self.title, B))
        elif B is not None:
            raise ConversionError('B applies to the scatter-and-gather family only; %s is %s' % (arch.name, self.name))
        if use_int and not self.optional_ternary:
            raise ConversionError('use_int applies to the all-integer family only; %s is %s' % (arch.name, self.name))
        fixed = arch.weight_quant.ternary
        if use_ternary is not None and not self.optional_ternary and bool(use_ternary) != fixed:
            raise ConversionError('%s has %s hidden weights; use_ternary=%s does not apply' % (
                arch.name, 'ternary' if fixed else 'full-precision', use_ternary))
        ternary = self.weight_quant_for(arch, use_ternary).ternary
        if use_int and not ternary:
            raise ConversionError('integer thresholds need integer (ternary) hidden weights: use_ternary=True')
        return NetConfig(k, None if B is None else int(B), ternary, bool(use_int))

    def resolve_B(self, meta, arch, path, B=None):
        """The B to use with a checkpoint (the request, checked against its record; None outside the family
        that has one)."""
        return agree_with_record(path, 'B', B, meta['B'], arch.defaults['B']) if self.uses_B else None

    def resolve_ternary(self, meta, arch, path, ternary=None):
        """Whether the hidden weights are ternary: the request (``--use_ternary``), checked against the record.

        ``None`` takes the checkpoint's record, else the architecture's default.  Only the all-integer family
        offers the choice; elsewhere a request must match the architecture's fixed weight quantization.
        """
        recorded = meta.get('weight_quant') if meta.get('format') is not None else None
        recorded = None if recorded is None else WeightQuant.of(recorded).ternary
        fixed = arch.weight_quant.ternary
        if not self.optional_ternary:
            if ternary is not None and bool(ternary) != fixed:
                raise CheckpointError('%s has %s hidden weights; --use_ternary %s does not apply'
                                      % (arch.name, 'ternary' if fixed else 'full-precision', bool(ternary)))
            return fixed
        if ternary is None:
            return fixed if recorded is None else recorded
        if recorded is not None and recorded != bool(ternary):
            raise CheckpointError('%s was trained with %s hidden weights but --use_ternary %s was requested'
                                  % (path, 'ternary' if recorded else 'full-precision', bool(ternary)))
        return bool(ternary)


FAMILIES = dict((f.name, f) for f in (
    Family('negative', 'negative-spike', uses_B=False, optional_ternary=False, single_step=False, noise='input',
           log_files=LOG_FILES, float_logs=('spike_collect.txt',), counted_from=0, readout_sop=True,
           log_tag_pattern='k<K>'),
    Family('scatter_gather', 'scatter-and-gather', uses_B=True, optional_ternary=False, single_step=True,
           noise='first_thresholds', log_files=('accuracy.txt', 'spike_num.txt', 'sop_num.txt'),
           float_logs=('spike_num.txt', 'sop_num.txt'), counted_from=0, readout_sop=False,
           log_tag_pattern='k<K>B<B>'),
    Family('integer', 'all-integer', uses_B=False, optional_ternary=True, single_step=False, noise='input',
           log_files=ALL_LOG_FILES, float_logs=('spike_collect.txt',), counted_from=1, readout_sop=True,
           log_tag_pattern='{WQ,NWQ}[_INT]/k<K>', needs_first_quant=True),
))


def register_family(family):
    """Add a :class:`Family` (with its recipe: :func:`snn_conversion.snn.families.register_family`)."""
    if FAMILIES.setdefault(family.name, family) is not family:
        raise ValueError('family %r registered twice' % family.name)
    return family


def unregister_family(name):
    """Remove a family added by :func:`register_family` (tests, plug-ins)."""
    FAMILIES.pop(name, None)


def get_family(name):
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError('unknown family %r (known: %s)' % (name, ', '.join(sorted(FAMILIES))))
