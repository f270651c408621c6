"""The seeds' result tables that run on a CPU machine, row by row (data only).

Each row names the workspace scripts that produce it and the hyper-parameters the authors' code used.
Where a seed and the authors' code disagree, the code's value is used (it is what trained the published
models) and the row's ``note`` says so:

* every MNIST / Fashion-MNIST script of the three repositories trains with Adam at a hard-coded learning rate
  of 1e-4 for the whole budget (no schedule, no augmentation, TensorLayer's 50,000 / 10,000 train /
  validation split, pixels / 256);
* batch 200, except the scatter-and-gather LeNet (batch 128);
* seed 003 types ``--learning_rate 0.001`` for the scatter-and-gather LeNet, a flag its script does not
  have: the script trains at 1e-4, and so do these rows.

The all-integer and scatter-and-gather tables train with ``--xla True`` (XLA auto-clustering on the CPU:
deterministic, faster, but not bit-identical to training without it, see :mod:`snn_conversion.ann.speed`;
the measured gain is in RESULTS.md's notes on cost), every row of each table alike; the tables finished
before it keep the setting they were trained with.

``paper``: the seed's table (ANN %, SNN %, time steps); ``authors_log``: for rows the seeds' tables leave out
(Fashion-MNIST MLP k=0 and k=2), the final accuracy and first step reaching it in the authors' published logs
(``shared/reference_logs/negative_spike/FashionMNIST/MLP/k{0,2}``; a test checks these numbers against them).
"""

from __future__ import absolute_import, division, print_function

import collections

from snn_conversion.core import architectures
from snn_conversion.core.errors import UserError

__all__ = ['Row', 'Phase', 'Table', 'Subset', 'Budget', 'TABLES', 'get_table', 'all_rows', 'chosen_rows', 'Variant',
           'VARIANTS', 'get_variant', 'paper_numbers']


Phase = collections.namedtuple('Phase', 'epochs learning_rate')  # one run of a training script at one rate


class Row(collections.namedtuple('Row', 'workspace script arch k B epochs learning_rate batch_size time_steps '
                                        'paper authors_log train_flags sim_flags note phases suffix smoke_flags')):
    """One row of a table.

    ``script``: the workspace scripts' common part (``LeNet_MNIST`` -> ``Quant_LeNet_MNIST.py``,
    ``FP32_LeNet_MNIST.py``, ``Spiking_LeNet_MNIST.py``); ``k`` None: the full-precision row (no SNN).
    ``train_flags`` / ``sim_flags``: extra flags of the Quant / Spiking scripts.  ``phases``: the training's
    :class:`Phase` s in order, as the authors ran their scripts (e.g. 100 epochs at 1e-3, then ``--resume True``
    for 100 more at 1e-4: a resumed run at another rate is a new phase of the scripts); one phase of ``epochs`` at
    ``learning_rate`` when not given.  ``epochs`` is the whole budget, ``learning_rate`` the first phase's.
    ``suffix``: appended to the row's id (its checkpoint, record and log folder), for a table run on part of a data
    set beside the table on all of it (``'_subset'``).
    """

    __slots__ = ()

    def __new__(cls, workspace, script, arch, k, epochs, learning_rate, batch_size, paper, B=None, time_steps=None,
                authors_log=None, train_flags=(), sim_flags=(), note='', phases=None, suffix='', smoke_flags=()):
        phases = tuple(Phase(int(e), float(lr)) for e, lr in (phases or [(epochs, learning_rate)]))
        if sum(p.epochs for p in phases) != int(epochs) or phases[0].learning_rate != float(learning_rate):
            raise ValueError('a row\'s phases %s do not make %s epochs from rate %g' % (phases, epochs, learning_rate))
        if len(set(p.learning_rate for p in phases)) != len(phases):
            raise ValueError('a row\'s phases need distinct rates (the scripts tell a phase by its rate): %s'
                             % (phases,))
        return super(Row, cls).__new__(cls, workspace, script, arch, k, B, int(epochs), float(learning_rate),
                                       int(batch_size), time_steps, tuple(paper), authors_log, tuple(train_flags),
                                       tuple(sim_flags), note, phases, suffix, tuple(smoke_flags))

    def overall_epoch(self, epoch, learning_rate):
        """The epochs of the whole budget that a checkpoint (or training state) at ``epoch`` of the phase trained
        at ``learning_rate`` stands on; a row of one phase counts the epochs as they are."""
        if len(self.phases) == 1:
            return epoch
        done = 0
        for phase in self.phases:
            if abs(phase.learning_rate - float(learning_rate)) <= 1e-9 * phase.learning_rate:
                return done + epoch
            done += phase.epochs
        raise UserError('%s: a checkpoint trained at rate %g belongs to none of the row\'s phases (%s)'
                        % (self.id, learning_rate, ', '.join('%d at %g' % p for p in self.phases)))

    def phases_left(self, done):
        """[(epochs before the phase, :class:`Phase`)] of the phases a training at overall epoch ``done`` has still
        to run (the first one possibly begun)."""
        out, before = [], 0
        for phase in self.phases:
            if done < before + phase.epochs:
                out.append((before, phase))
            before += phase.epochs
        return out

    @property
    def recipe(self):
        """'200 epochs at 1e-4' or '100 epochs at 0.001, then 100 at 0.0001'."""
        return ', then '.join(('%d epochs at %g' if i == 0 else '%d at %g') % p for i, p in enumerate(self.phases))

    @property
    def full_precision(self):
        return self.k is None

    @property
    def paper_silent(self):
        """The seed gives no number for this row (neither in a table nor in the authors' logs)."""
        return all(v is None for v in self.paper) and not self.authors_log

    @property
    def label(self):
        """'full precision', 'k=1', 'k=1, B=2'."""
        if self.full_precision:
            return 'full precision'
        return 'k=%d' % self.k + ('' if self.B is None else ', B=%d' % self.B)

    @property
    def network(self):
        """The paper's network string, e.g. '20C5-P2-50C5-P2-500'."""
        return architectures.get(self.arch).string

    @staticmethod
    def _flag(flags, flag):
        """True / False when ``flags`` give ``flag True`` / another value, None when they do not give it."""
        return flags[flags.index(flag) + 1] == 'True' if flag in flags else None

    def trains_with(self, command):
        """Whether a training command line (as a record keeps it) gives every flag of ``train_flags`` its value;
        false for a command run before the row's table gained one (e.g. ``--xla True``)."""
        words = ' %s ' % command
        return all(' %s %s ' % pair in words for pair in zip(self.train_flags[::2], self.train_flags[1::2]))

    def timed_seconds(self, measured):
        """The seconds of a timing epoch (a record's ``measured``: ``reproduce.py --measure``), or None: not timed,
        or timed before the row's table gained a training flag it now uses (e.g. ``--xla True``), so the time is
        not its command's.  An epoch timed with one of the row's towers (``measured.towers``: on a CPU) counts as the
        row's: the towers run one after another there, the same images in as many more steps."""
        if measured is None:
            return None
        command = measured.command or ''
        if measured.towers:
            command = command.replace('--num_gpus %d' % measured.towers, '--num_gpus %d' % self.towers)
        return measured.epoch_seconds if self.trains_with(command) else None

    @property
    def towers(self):
        """Batches trained side by side in a step (``--num_gpus``; 1 for the scripts without it)."""
        flags = self.train_flags
        return int(flags[flags.index('--num_gpus') + 1]) if '--num_gpus' in flags else 1

    def sim_flag_true(self, flag):
        """Whether the Spiking script gets ``flag True`` (e.g. ``--use_int``)."""
        return bool(self._flag(self.sim_flags, flag))

    @property
    def tag(self):
        """The checkpoint's tag, as the workspace scripts name it: 'fp32', or the family's configuration tag
        ('k1', 'k1B2', 'k0_WQ')."""
        if self.full_precision:
            return 'fp32'
        return architectures.get(self.arch).config_tag(self.k, self.B, self._flag(self.train_flags, '--use_ternary'))

    @property
    def id(self):
        """Unique within the workspace: the checkpoint's base name, e.g. 'lenet_mnist_k1'."""
        return '%s_%s%s' % (self.arch, self.tag, self.suffix)


class Table(collections.namedtuple('Table', 'name seed title network rows subset')):
    """A seed's table: ``rows`` in the seed's order.  ``subset``: None, or a :class:`Subset` -- the table runs on a
    part of the data set only (its numbers are not the paper's, and everything showing them says so)."""

    __slots__ = ()

    def __new__(cls, name, seed, title, network, rows, subset=None):
        return super(Table, cls).__new__(cls, name, seed, title, network, list(rows), subset)


# a table on part of a data set: ``events``, the folder of raw event files under --data_root (Train/, Test/);
# ``prepare``, the workspace script that makes the networks' frames of them (--data_dir EVENTS --out_dir FRAMES);
# ``label``, what every place showing its numbers says
Subset = collections.namedtuple('Subset', 'events prepare label')


XLA = ('--xla', 'True')


class Budget(collections.namedtuple('Budget', 'epochs learning_rate batch_size phases')):
    """A row's training budget: ``epochs`` at ``learning_rate``, or ``phases`` ((epochs, rate), ...) run in turn
    (each a resumed run of the script at its rate, as the authors trained)."""

    __slots__ = ()

    def __new__(cls, epochs, learning_rate, batch_size, phases=None):
        return super(Budget, cls).__new__(cls, epochs, learning_rate, batch_size, phases)

    @classmethod
    def in_phases(cls, batch_size, *phases):
        return cls(sum(e for e, _ in phases), phases[0][1], batch_size, tuple(phases))


def _rows(workspace, script, arch, budget, paper, per_row=None, table_flags=(), **common):
    """A table's rows, trained at ``budget`` (:data:`Budget`): ``paper`` lists (k or (k, B), the paper's
    numbers), k None for full precision;
    ``common``: Row fields of every quantized row; ``per_row``: {k: Row fields} of single rows;
    ``table_flags``: training flags of every row, full precision included (:data:`XLA`)."""
    out = []
    for key, numbers in paper:
        k, B = key if isinstance(key, tuple) else (key, None)
        fields = dict(common) if k is not None else dict((key, common[key]) for key in ('note', 'suffix')
                                                          if key in common)
        fields.update((per_row or {}).get(key, {}))
        fields['train_flags'] = tuple(fields.get('train_flags', ())) + tuple(table_flags)
        out.append(Row(workspace, script, arch, k, budget.epochs, budget.learning_rate, budget.batch_size,
                       numbers, B=B, phases=budget.phases, **fields))
    return out


NA = None  # the seeds' "N/A" (no SNN for a full-precision network)

# the authors' CIFAR scripts hard-code the epochs of one run and train with Adam, batch 200, no schedule and no
# weight decay: the CNNs 100 epochs at 1e-3, then resumed for 100 at 1e-4 (seed 001's 200 epochs); the
# scatter-and-gather VGG 200 at 1e-3, then 200 at 1e-4 (seed 003's 400)
CIFAR_001 = Budget.in_phases(200, (100, 1e-3), (100, 1e-4))
CIFAR_NOTE = ('the authors train 100 epochs at 1e-3, then resume for 100 at 1e-4 (batch 200) and simulate T = 100 '
              'with no input noise, as these rows')
SG_VGG = Budget.in_phases(200, (200, 1e-3), (200, 1e-4))
SG_VGG_NOTE = ('the authors\' README trains 200 epochs at 1e-3, then resumes for 200 at 1e-4 (the table\'s 400); '
               'their CIFAR-10 quantized script hard-codes 100 epochs a run, their other scripts 200')
NMNIST_SUBSET = 'subset -- not comparable with the paper'
MOBILENET = architectures.get(architectures.MOBILENET_BASE)


def _nmnist_rows(suffix=''):
    """Seed 004's N-MNIST rows: the authors' scripts train 150 epochs at Adam 1e-4, batch 200, and simulate T = 40."""
    note = ('the authors train on all 60,000 training frames (no validation split; here the last 10,000 validate, '
            'as TensorLayer splits MNIST, and the last sixth of a smaller set) and simulate T = 40')
    return (_rows('N_MNIST', 'MLP_N_MNIST', 'mlp_nmnist', Budget(150, 1e-4, 200),
                  [(None, (96.43, NA, NA)), (1, (96.58, 96.58, 9))], time_steps=40, note=note, suffix=suffix)
            + _rows('N_MNIST', 'LeNet_N_MNIST', 'lenet_nmnist', Budget(150, 1e-4, 200),
                    [(None, (97.93, NA, NA)), (1, (97.86, 97.86, 14))], time_steps=40, note=note, suffix=suffix))


TABLES = collections.OrderedDict((t.name, t) for t in [
    Table('mnist_negative_spike', '001', 'MNIST, negative-spike LeNet', '20C5-P2-50C5-P2-500',
          _rows('MNIST', 'LeNet_MNIST', 'lenet_mnist', Budget(150, 1e-4, 200),
                [(None, (99.28, NA, NA)), (1, (99.32, 99.32, 13))])),
    Table('fashion_mnist', '001', 'Fashion-MNIST, negative-spike MLP and LeNet', '400-400; 32C5-P2-64C5-P2-1024',
          _rows('FashionMNIST', 'MLP_FashionMNIST', 'mlp_fashionmnist', Budget(150, 1e-4, 200),
                [(None, (89.83, NA, NA)), (0, (NA, NA, NA)), (1, (88.79, 88.79, 11)), (2, (NA, NA, NA))],
                per_row={0: dict(authors_log=(88.90, 5)), 2: dict(authors_log=(90.11, 15))})
          + _rows('FashionMNIST', 'LeNet_FashionMNIST', 'lenet_fashionmnist', Budget(100, 1e-4, 200),
                  [(None, (90.01, NA, NA)), (1, (89.99, 89.99, 17))])),
    Table('mnist_all_integer', '002', 'MNIST, all-integer LeNet (ternary weights, integer thresholds)',
          '32C5-P2-64C5-P2-1000',
          _rows('MNIST', 'LeNet_MNIST_INT', 'lenet_mnist_int', Budget(200, 1e-4, 200),
                [(None, (99.45, NA, NA)), (0, (99.45, 99.45, 4))],
                train_flags=('--use_ternary', 'True'), sim_flags=('--use_ternary', 'True', '--use_int', 'True'),
                table_flags=XLA)),
    Table('mnist_scatter_gather', '003', 'MNIST, scatter-and-gather LeNet (ternary weights, one time step)',
          '16C5-P2-16C5-P2-256',
          _rows('MNIST', 'LeNet_MNIST_SG', 'lenet_mnist_sg', Budget(200, 1e-4, 128),
                [(None, (99.52, NA, NA)),
                 ((0, 1), (99.27, 99.27, 1)), ((0, 2), (99.32, 99.32, 1)), ((0, 4), (99.43, 99.43, 1)),
                 ((1, 1), (99.30, 99.30, 1)), ((1, 2), (99.37, 99.37, 1)), ((1, 4), (99.50, 99.50, 1))],
                note='seed 003 types --learning_rate 0.001; the authors\' script trains at 1e-4', table_flags=XLA)),
    Table('cifar10_negative_spike', '001', 'CIFAR-10, negative-spike CNN1 and CNN2',
          '96C3-256C3-P2-384C3-P2-384C3-256C3-P2-1024-1024; 128C3-256C3-P2-512C3-P2-1024C3-512C3-P2-1024-512',
          _rows('CIFAR10', 'CNN1_CIFAR10', 'cnn1_cifar10', CIFAR_001,
                [(None, (92.66, NA, NA)), (1, (92.77, 92.77, 57))],
                time_steps=100, note=CIFAR_NOTE)
          + _rows('CIFAR10', 'CNN2_CIFAR10', 'cnn2_cifar10', CIFAR_001,
                  [(None, (93.20, NA, NA)), (1, (93.35, 93.35, 40))],
                  time_steps=100, note=CIFAR_NOTE)),
    Table('cifar10_all_integer', '002', 'CIFAR-10, all-integer VGG-Net (ternary weights, integer thresholds)',
          '96C3-256C3-P2-384C3-P2-384C3-256C3-P2-1024-1024',
          _rows('CIFAR10', 'VGGNet_CIFAR10', 'cnn1_cifar10_int', Budget(200, 1e-3, 200),
                [(None, (93.32, NA, NA)), (0, (93.32, 93.15, 8))], time_steps=50,
                train_flags=('--use_ternary', 'True'), sim_flags=('--use_ternary', 'True', '--use_int', 'True'),
                note='the authors train 200 epochs at 1e-3 in one run (batch 200) and simulate T = 50; their '
                     'training script inverts --use_ternary (it trained full-precision hidden weights, made ternary '
                     'only at conversion: hence their SNN below their ANN), here the ANN trains the ternary weights '
                     'the SNN uses')),
    Table('cifar10_scatter_gather', '003', 'CIFAR-10, scatter-and-gather VGG (ternary weights, one time step)',
          '64C3*2-2P2-128C3*2-P2-256C3*2-P2-512C3-512',
          _rows('CIFAR10', 'VGG_CIFAR10', 'vgg_cifar10_sg', SG_VGG,
                [(None, (92.85, NA, NA)),
                 ((0, 1), (89.12, 89.12, 1)), ((0, 2), (90.95, 90.95, 1)), ((0, 4), (91.65, 91.65, 1)),
                 ((1, 1), (90.14, 90.14, 1)), ((1, 2), (91.91, 91.91, 1)), ((1, 4), (92.27, 92.27, 1))],
                note=SG_VGG_NOTE)),
    Table('cifar100_scatter_gather', '003', 'CIFAR-100, scatter-and-gather VGG (ternary weights, one time step)',
          '64C3*2-2P2-128C3*2-P2-256C3*2-P2-512C3-512',
          _rows('CIFAR100', 'VGG_CIFAR100', 'vgg_cifar100_sg', SG_VGG,
                [(None, (67.4, NA, NA)),
                 ((0, 1), (56.1, 56.1, 1)), ((0, 2), (62.5, 62.5, 1)), ((0, 4), (65.6, 65.6, 1)),
                 ((1, 1), (59.2, 59.2, 1)), ((1, 2), (65.0, 65.0, 1)), ((1, 4), (66.2, 66.2, 1))],
                note=SG_VGG_NOTE)),
    Table('imagenet_mobilenet', '000', 'ImageNet, negative-spike MobileNetV1 (k = 0, 1, 2)',
          MOBILENET.string,
          _rows('ImageNet_MobileNet', 'MobileNet_ImageNet', MOBILENET.name, Budget(60, 1e-2, 200),
                [(0, (NA, NA, NA)), (1, (NA, NA, NA)), (2, (NA, NA, NA))],
                train_flags=('--num_gpus', '5'), smoke_flags=('--width_multiplier', '0.25', '--image_size', '32'),
                note='the seed trains 60 epochs with Adam at 0.01 (the authors\' script sets 100; the seed says the '
                     'training is accomplished in 60), 200 images per GPU on 5 GPUs with the gradients averaged '
                     '(here 5 towers of 200 on the GPUs TensorFlow sees, or on the CPU), and simulates part of the '
                     'validation set; it gives no accuracies or steps')),
    Table('n_mnist', '004', 'N-MNIST, negative-spike MLP and LeNet', '400-400; 12C5-P2-64C5-P2',
          _nmnist_rows()),
    Table('n_mnist_subset', '004', 'N-MNIST subset (1,000 training and 100 test samples of the real events)',
          '400-400; 12C5-P2-64C5-P2', _nmnist_rows('_subset'),
          subset=Subset('n_mnist_small', 'preprocessing_N_MNIST.py', NMNIST_SUBSET)),
])


def get_table(name):
    """The table named ``name`` (a :class:`Table` itself is returned as it is)."""
    if isinstance(name, Table):
        return name
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError('unknown table %r (known: %s)' % (name, ', '.join(TABLES)))


def paper_numbers(arch, k):
    """The paper's (ANN %, SNN %, steps) of the row of network ``arch`` at level ``k`` (the one place they are
    kept); a KeyError names a pair no table has."""
    for _, row in all_rows():
        if row.arch == arch and row.k == k and not row.suffix:
            return row.paper
    raise KeyError('no table row of %s at k=%s' % (arch, k))


def all_rows():
    """(table, row) for every row of every table, in table order."""
    return [(t, r) for t in TABLES.values() for r in t.rows]


def chosen_rows(table, rows=None):
    """The rows of ``table`` named in ``rows`` (all when None or empty), in the table's order; a one-line error
    names an id the table lacks."""
    unknown = sorted(set(rows or ()) - set(r.id for r in table.rows))
    if unknown:
        raise UserError('table %s has no row %s (rows: %s)' % (table.name, ', '.join(unknown),
                                                              ', '.join(r.id for r in table.rows)))
    return [r for r in table.rows if not rows or r.id in rows]


class Variant(collections.namedtuple('Variant', 'name rows train_flags text')):
    """A change of some rows' recipe, trained as a repeat of the row (``python reproduce.py TABLE --rows ROW
    --repeat SEED --variant NAME``) to test one explanation of a gap between a row and the paper: ``rows`` (the
    row ids it applies to), ``train_flags`` (added to the row's training and inference commands), ``text`` (what
    it changes, for RESULTS.md).  The rows themselves stay as the tables define them."""

    __slots__ = ()


VARIANTS = collections.OrderedDict((v.name, v) for v in [
    Variant('ternary6', ('lenet_mnist_sg_fp32',), ('--ternary_blocks', '6'),
            'the 256-channel 4x4 block with ternary weights, as the authors\' FP32_LeNet_MNIST.py '
            '(Spatio_temporal_SNNs) builds it'),
    Variant('drop_last', ('lenet_mnist_sg_fp32', 'lenet_mnist_sg_k1B4'), ('--drop_last', 'True'),
            'the last partial batch of each epoch dropped, as TensorLayer\'s minibatches does in the authors\' loop '
            '(390 steps of 128, not 391)'),
])


def get_variant(name, rows=None):
    """The variant ``name`` (None: no variant); a one-line error for an unknown name or a row it does not
    apply to."""
    if name is None:
        return None
    if name not in VARIANTS:
        raise UserError('unknown variant %r (known: %s)' % (name, ', '.join(
            '%s for %s' % (v.name, ', '.join(v.rows)) for v in VARIANTS.values())))
    variant = VARIANTS[name]
    other = sorted(set(rows or ()) - set(variant.rows))
    if other:
        raise UserError('variant %s is a change of %s, not of %s' % (name, ', '.join(variant.rows), ', '.join(other)))
    return variant
