"""RESULTS.md's figures: one PNG per finished quantized row, drawn from its record alone.

Four panels: accuracy against time step (ours, the ANN's level, the paper's step count, the authors' published
curve where one exists -- :mod:`figs.reference_curves`), the same near the ANN's level, spikes per image in each
hidden layer, and cumulative synaptic operations per image against time step beside the ANN's
multiply-accumulates.  ``python reproduce.py --write_results`` writes them to ``figs/results/<row>.png``; the
staleness test draws them again and compares the bytes.

    python figs/results.py                        # every finished quantized row's figure, from */records/*.json
    python figs/results.py mlp_fashionmnist_k1    # the figures of these rows only
"""

from __future__ import absolute_import, division, print_function

import glob
import io
import os

from figs.reference_curves import curve_for
from snn_conversion.core import architectures
from snn_conversion.core.errors import ArgumentParser, UserError, run_cli
from snn_conversion.core.fileio import atomic_write, read_json_object
from snn_conversion.core.records import Paper, Record

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ['FOLDER', 'figure_path', 'wants_figure', 'row_figure_png', 'find_records', 'draw_rows', 'main']

FOLDER = os.path.join('figs', 'results')  # below the repository root, beside RESULTS.md
OURS, AUTHORS, ANN, PAPER = 'C0', 'C1', 'C3', '0.35'


def figure_path(root, row_id):
    return os.path.join(root, FOLDER, row_id + '.png')


def wants_figure(rec):
    """Whether a record is a finished quantized row (it has an SNN to draw)."""
    return bool(rec) and rec.done and bool(rec.snn)


def _steps(values):
    return list(range(1, len(values) + 1))


def _time_axis(ax):
    from matplotlib.ticker import MaxNLocator
    ax.set_xlabel('time step')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _accuracy(ax, rec, authors, zoom):
    snn, ann, paper = rec.snn, rec.ann.accuracy, rec.paper or Paper()
    ax.plot(_steps(snn.accuracy), snn.accuracy, color=OURS, marker='.', ms=4, label='SNN (ours)')
    if authors:
        ax.plot(_steps(authors['accuracy']), authors['accuracy'], color=AUTHORS, ls='--', marker='.', ms=3,
                label='SNN (authors\' log)')
    ax.axhline(ann, color=ANN, ls=':', label='ANN (ours) %.2f %%' % ann)
    whole = ' (whole set)' if rec.subset else ''  # a run on a subset is not comparable with the paper
    if paper.snn is not None:
        ax.axhline(paper.snn, color=PAPER, ls='-.', lw=1, label='paper%s SNN %.2f %%' % (whole, paper.snn))
    if paper.steps:
        ax.axvline(paper.steps, color=PAPER, ls='--', lw=1, label='paper%s: %d steps' % (whole, paper.steps))
    _time_axis(ax)
    ax.set_ylabel('test accuracy (%)')
    if zoom:
        levels = [ann] + [v for v in (paper.snn, (authors or {}).get('accuracy', [None])[-1]) if v is not None]
        ax.set_ylim(min(levels) - 2.0, min(100.0, max(levels) + 1.0))
        ax.set_title('near the ANN\'s level')
    else:
        ax.set_ylim(0, 100)
        ax.set_title('accuracy against time step')
        ax.legend(fontsize=7, loc='lower right')
    ax.grid(alpha=0.3)


def _layers(ax, rec, arch):
    per_layer = rec.snn.spikes_per_layer
    total = rec.snn.spikes_per_image
    ax.set_title('spikes per image in each layer (whole run: %.0f)' % total)
    if not per_layer or len(per_layer) != len(arch.blocks):
        ax.text(0.5, 0.5, 'not recorded for this run:\nit was simulated before the per-layer counter existed\n'
                          '(`reproduce.py --verify --fill` adds it\nfrom the shipped checkpoint)',
                ha='center', va='center', transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    counted = arch.spec.counted_from
    x = range(len(per_layer))
    bars = ax.bar(x, per_layer, color=[OURS if i >= counted else '0.7' for i in x])
    if counted:
        bars[0].set_label('encoding layer (not in the spike count)')
        ax.legend(fontsize=7)
    ax.set_xticks(list(x))
    for b, v in zip(bars, per_layer):
        ax.text(b.get_x() + b.get_width() / 2.0, v, '%.0f' % v, ha='center', va='bottom', fontsize=7)
    many = len(per_layer) > 4
    ax.set_xticklabels(['%d: %s' % (i + 1, label) for i, label in enumerate(arch.block_labels())],
                       rotation=45 if many else 0, ha='right' if many else 'center', fontsize=8)
    ax.set_ylabel('spikes per image')
    ax.grid(alpha=0.3, axis='y')


def _sops(ax, rec, arch, authors):
    snn = rec.snn
    per_step = snn.sops_per_step
    if per_step:
        ax.plot(_steps(per_step), per_step, color=OURS, marker='.', ms=4, label='SNN (ours)')
    else:
        ax.plot([snn.time_steps], [snn.sops_per_image], color=OURS, marker='o', label='SNN (ours), at T')
    if authors:
        ax.plot(_steps(authors['sops_per_image']), authors['sops_per_image'], color=AUTHORS, ls='--', marker='.',
                ms=3, label='SNN (authors\' log)')
    ax.axhline(arch.ann_macs(), color=ANN, ls=':', label='ANN: %.3g MACs' % arch.ann_macs())
    _time_axis(ax)
    ax.set_ylabel('operations per image (cumulative)')
    ax.set_title('synaptic operations (input layer excluded)')
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc='lower right')
    ax.grid(alpha=0.3)


def row_figure_png(rec, curves=None):
    """The PNG bytes of a finished quantized row's figure (its :class:`~snn_conversion.core.records.Record`;
    deterministic for one matplotlib version)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    arch = architectures.get(rec.architecture)
    tag = arch.config_tag(rec.k, rec.B)
    authors_folder, authors = curve_for(arch.name, tag, curves)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    try:
        _accuracy(axes[0][0], rec, authors, zoom=False)
        _accuracy(axes[0][1], rec, authors, zoom=True)
        _layers(axes[1][0], rec, arch)
        _sops(axes[1][1], rec, arch, authors)
        source = ('authors\' curve: reference_logs/%s' % authors_folder if authors else
                  'no published authors\' log for this setting')
        fig.suptitle('%s: %s %s, %s, %d test images%s\n%s' % (
            rec.row, arch.string, rec.label, arch.dataset, rec.snn.n,
            ' (%s)' % rec.subset if rec.subset else '', source), fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.94))
        out = io.BytesIO()
        fig.savefig(out, format='png', dpi=72, metadata={'Software': None})
        return out.getvalue()
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------------- the command line

def find_records(root):
    """{row: its record's path} of the records below ``root`` (``<workspace>/records/<row>.json``)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(root, '*', 'records', '*.json'))):
        out.setdefault(os.path.basename(path)[:-len('.json')], path)
    return out


def _read(row, path):
    try:
        rec = read_json_object(path)
    except (OSError, ValueError) as e:
        raise UserError('%s is damaged (%s): restore it from git (git checkout -- <file>)' % (path, e))
    rec = Record.of(rec, path)
    if rec.row != row:
        raise UserError('%s is not the record of row %s (it says %r)' % (path, row, rec.row))
    return rec


def draw_rows(root, rows=None):
    """Draw the figures of ``rows`` (all finished quantized rows when None or empty) from their records below
    ``root`` into ``root``/figs/results/; returns the paths written.  A row without a record, or without a figure
    (not finished, or full precision), is a one-line UserError before anything is drawn."""
    records = find_records(root)
    if rows:
        unknown = [row for row in rows if row not in records]
        if unknown:
            raise UserError('no record of row %s below %s (looked for <workspace>/records/<row>.json; python '
                            'reproduce.py --list names the rows)' % (', '.join(unknown), root))
        chosen = [(row, _read(row, records[row])) for row in dict.fromkeys(rows)]
        idle = [row for row, rec in chosen if not wants_figure(rec)]
        if idle:
            raise UserError('row %s has no figure: only a finished quantized row has one (status done, with an '
                            'SNN)' % ', '.join(idle))
    else:
        chosen = [(row, rec) for row, rec in ((row, _read(row, path)) for row, path in sorted(records.items()))
                  if wants_figure(rec)]
        if not chosen:
            raise UserError('no finished quantized row below %s (no <workspace>/records/<row>.json with status done '
                            'and an SNN): nothing to draw' % root)
    written = []
    for row, rec in chosen:
        path = figure_path(root, row)
        png = row_figure_png(rec)
        try:
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path))
        except OSError as e:
            raise UserError('cannot write the figure %s (%s)' % (path, e.strerror or e))
        atomic_write(path, 'wb', lambda out, png=png: out.write(png))
        written.append(path)
    return written


def main(argv=None):
    def run(args):
        p = ArgumentParser(description='Draw RESULTS.md\'s per-row figures, figs/results/<row>.png, from the rows\' '
                                       'records (<workspace>/records/<row>.json) alone: accuracy against time step '
                                       'beside the ANN, the paper and the authors\' published curve; spikes per '
                                       'layer; synaptic operations.  `python reproduce.py --write_results` draws '
                                       'them too, with RESULTS.md.')
        p.add_argument('rows', nargs='*', metavar='ROW',
                       help='rows to draw, by record name (e.g. mlp_fashionmnist_k1); default: every finished '
                            'quantized row')
        p.add_argument('--root', default=_ROOT,
                       help='the checkout whose records are read and whose figs/results/ is written (default: '
                            '%(default)s)')
        a = p.parse_args(args)
        if not os.path.isdir(a.root):
            raise UserError('--root %s is not a folder' % a.root)
        for path in draw_rows(a.root, a.rows):
            print('wrote %s' % path)
        return 0
    return run_cli(run, argv)


if __name__ == '__main__':
    main()
