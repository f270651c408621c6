"""RESULTS.md's figures: one PNG per finished quantized row, drawn from its record alone.

Four panels: accuracy against time step (ours, the ANN's level, the paper's step count, the authors' published
curve where one exists -- :mod:`figs.reference_curves`), the same near the ANN's level, spikes per image in each
hidden layer, and cumulative synaptic operations per image against time step beside the ANN's
multiply-accumulates.  ``python reproduce.py --write_results`` writes them to ``figs/results/<row>.png``; the
staleness test draws them again and compares the bytes.
"""

from __future__ import absolute_import, division, print_function

import io
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from figs.reference_curves import curve_for  # noqa: E402
from snn_conversion.core import architectures  # noqa: E402

__all__ = ['FOLDER', 'figure_path', 'wants_figure', 'row_figure_png']

FOLDER = os.path.join('figs', 'results')  # below the repository root, beside RESULTS.md
OURS, AUTHORS, ANN, PAPER = 'C0', 'C1', 'C3', '0.35'


def figure_path(root, row_id):
    return os.path.join(root, FOLDER, row_id + '.png')


def wants_figure(rec):
    """Whether a record is a finished quantized row (it has an SNN to draw)."""
    return bool(rec) and rec.get('status') == 'done' and bool(rec.get('snn'))


def _steps(values):
    return list(range(1, len(values) + 1))


def _time_axis(ax):
    from matplotlib.ticker import MaxNLocator
    ax.set_xlabel('time step')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _accuracy(ax, rec, authors, zoom):
    snn, ann, paper = rec['snn'], rec['ann']['accuracy'], rec.get('paper') or {}
    ax.plot(_steps(snn['accuracy']), snn['accuracy'], color=OURS, marker='.', ms=4, label='SNN (ours)')
    if authors:
        ax.plot(_steps(authors['accuracy']), authors['accuracy'], color=AUTHORS, ls='--', marker='.', ms=3,
                label='SNN (authors\' log)')
    ax.axhline(ann, color=ANN, ls=':', label='ANN (ours) %.2f %%' % ann)
    if paper.get('snn') is not None:
        ax.axhline(paper['snn'], color=PAPER, ls='-.', lw=1, label='paper SNN %.2f %%' % paper['snn'])
    if paper.get('steps'):
        ax.axvline(paper['steps'], color=PAPER, ls='--', lw=1, label='paper: %d steps' % paper['steps'])
    _time_axis(ax)
    ax.set_ylabel('test accuracy (%)')
    if zoom:
        levels = [ann] + [v for v in (paper.get('snn'), (authors or {}).get('accuracy', [None])[-1]) if v is not None]
        ax.set_ylim(min(levels) - 2.0, min(100.0, max(levels) + 1.0))
        ax.set_title('near the ANN\'s level')
    else:
        ax.set_ylim(0, 100)
        ax.set_title('accuracy against time step')
        ax.legend(fontsize=7, loc='lower right')
    ax.grid(alpha=0.3)


def _layers(ax, rec, arch):
    per_layer = rec['snn'].get('spikes_per_layer')
    total = rec['snn']['spikes_per_image']
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
    snn = rec['snn']
    per_step = snn.get('sops_per_step')
    if per_step:
        ax.plot(_steps(per_step), per_step, color=OURS, marker='.', ms=4, label='SNN (ours)')
    else:
        ax.plot([snn['time_steps']], [snn['sops_per_image']], color=OURS, marker='o', label='SNN (ours), at T')
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
    """The PNG bytes of a finished quantized row's figure (deterministic for one matplotlib version)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    arch = architectures.get(rec['architecture'])
    tag = arch.config_tag(rec['k'], rec.get('B'))
    authors_folder, authors = curve_for(arch.name, tag, curves)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    try:
        _accuracy(axes[0][0], rec, authors, zoom=False)
        _accuracy(axes[0][1], rec, authors, zoom=True)
        _layers(axes[1][0], rec, arch)
        _sops(axes[1][1], rec, arch, authors)
        source = ('authors\' curve: reference_logs/%s' % authors_folder if authors else
                  'no published authors\' log for this setting')
        fig.suptitle('%s: %s %s, %s, %d test images\n%s' % (rec['row'], arch.string, rec['label'], arch.dataset,
                                                              rec['snn']['n'], source), fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.94))
        out = io.BytesIO()
        fig.savefig(out, format='png', dpi=72, metadata={'Software': None})
        return out.getvalue()
    finally:
        plt.close(fig)
