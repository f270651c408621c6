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

__all__ = ['Row', 'Table', 'TABLES', 'get_table', 'all_rows', 'chosen_rows', 'Variant', 'VARIANTS', 'get_variant']


class Row(collections.namedtuple('Row', 'workspace script arch k B epochs learning_rate batch_size time_steps '
                                        'paper authors_log train_flags sim_flags note')):
    """One row of a table.

    ``script``: the workspace scripts' common part (``LeNet_MNIST`` -> ``Quant_LeNet_MNIST.py``,
    ``FP32_LeNet_MNIST.py``, ``Spiking_LeNet_MNIST.py``); ``k`` None: the full-precision row (no SNN).
    ``train_flags`` / ``sim_flags``: extra flags of the Quant / Spiking scripts.
    """

    __slots__ = ()

    def __new__(cls, workspace, script, arch, k, epochs, learning_rate, batch_size, paper, B=None, time_steps=None,
                authors_log=None, train_flags=(), sim_flags=(), note=''):
        return super(Row, cls).__new__(cls, workspace, script, arch, k, B, int(epochs), float(learning_rate),
                                       int(batch_size), time_steps, tuple(paper), authors_log, tuple(train_flags),
                                       tuple(sim_flags), note)

    @property
    def full_precision(self):
        return self.k is None

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
        return '%s_%s' % (self.arch, self.tag)


Table = collections.namedtuple('Table', 'name seed title network rows')


XLA = ('--xla', 'True')


Budget = collections.namedtuple('Budget', 'epochs learning_rate batch_size')  # a row's training budget


def _rows(workspace, script, arch, budget, paper, per_row=None, table_flags=(), **common):
    """A table's rows, trained at ``budget`` (:data:`Budget`): ``paper`` lists (k or (k, B), the paper's
    numbers), k None for full precision;
    ``common``: Row fields of every quantized row; ``per_row``: {k: Row fields} of single rows;
    ``table_flags``: training flags of every row, full precision included (:data:`XLA`)."""
    out = []
    for key, numbers in paper:
        k, B = key if isinstance(key, tuple) else (key, None)
        fields = dict(common) if k is not None else dict(note=common.get('note', ''))
        fields.update((per_row or {}).get(key, {}))
        fields['train_flags'] = tuple(fields.get('train_flags', ())) + tuple(table_flags)
        out.append(Row(workspace, script, arch, k, budget.epochs, budget.learning_rate, budget.batch_size,
                       numbers, B=B, **fields))
    return out


NA = None  # the seeds' "N/A" (no SNN for a full-precision network)

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
])


def get_table(name):
    """The table named ``name`` (a :class:`Table` itself is returned as it is)."""
    if isinstance(name, Table):
        return name
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError('unknown table %r (known: %s)' % (name, ', '.join(TABLES)))


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
