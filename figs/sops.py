"""Synaptic operations per image of SNN log folders, beside the ANN's multiply-accumulates when known.

    python figs/sops.py FashionMNIST/figs/MLP/k1 --out FashionMNIST/figs/MLP/sops
"""
from figs.logs import figure_cli


def draw(runs, args):
    import matplotlib.pyplot as plt

    names = [run.label for run in runs]
    values = [run.sops_per_image()[-1] for run in runs]
    lines = ['%-28s %16s' % ('run', 'SOPs/image')]
    lines += ['%-28s %16.0f' % (n, v) for n, v in zip(names, values)]
    macs = sorted({run.ann_macs for run in runs if run.ann_macs})
    if len(macs) == 1:
        names.append('ANN (MACs)')
        values.append(macs[0])
        lines.append('%-28s %16.0f' % ('ANN MACs/image', macs[0]))
    fig, ax = plt.subplots(figsize=(6, 4))
    bars = ax.bar(range(len(values)), values, color=['C0'] * len(runs) + ['C3'] * (len(values) - len(runs)))
    for b, v in zip(bars, values):
        ax.text(b.get_x() + b.get_width() / 2.0, b.get_height() * 1.01, '%.3g' % v, ha='center', va='bottom')
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(names)
    ax.set_ylabel('operations per image (excluding the input layer)')
    ax.set_title(args.title or 'Synaptic operations')
    return fig, lines


def main(argv=None):
    return figure_cli(__doc__.strip().splitlines()[0], 'sops', draw, argv)


if __name__ == '__main__':
    main()
