"""What a conversion family is, in one place: the three families as objects.

The network, the simulation loop, the log writer, the command lines and the checkpoint checks ask a
:class:`Family` instead of branching on its name; the neurons and layers each family builds are its SNN recipe
(:mod:`snn_conversion.snn.families`).
"""

from __future__ import absolute_import, division, print_function

__all__ = ['Family', 'FAMILIES', 'get_family', 'register_family', 'unregister_family', 'LOG_FILES', 'ALL_LOG_FILES',
           'PROGRESS_FILE']

from snn_conversion.core.formats import ALL_LOG_FILES, LOG_FILES, PROGRESS_FILE  # the log folder's files


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
                 counted_from, readout_sop, log_tag_pattern):
        self.name, self.title = name, title
        self.uses_B, self.optional_ternary = bool(uses_B), bool(optional_ternary)
        self.needs_first_quant = self.optional_ternary
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
           log_tag_pattern='{WQ,NWQ}[_INT]/k<K>'),
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
