"""Firing sparsity: spikes per neuron (or per image when the neuron count is unknown) of SNN log folders.

    python figs/sparsity.py FashionMNIST/figs/MLP/k1 --out FashionMNIST/figs/MLP/sparsity
"""
from figs.logs import figure_cli


def draw(runs, args):
    import matplotlib.pyplot as plt
    import numpy as np

    per_neuron = all(run.neurons for run in runs)
    unit = 'spikes per neuron' if per_neuron else 'spikes per image'
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(runs))
    total = [(run.spikes_per_neuron() if per_neuron else run.spikes_per_image())[-1] for run in runs]
    signed = []
    for run in runs:
        s = run.signed_spikes_per_image()
        signed.append(np.nan if s is None else s[-1] / (float(run.neurons) if per_neuron else 1.0))
    ax.bar(x - 0.2, total, 0.4, label='all spikes |+1| + |-1|')
    ax.bar(x + 0.2, signed, 0.4, label='net spikes (+1) - (-1)')
    ax.set_xticks(x)
    ax.set_xticklabels([run.label for run in runs])
    ax.set_ylabel(unit + ' (whole simulation)')
    ax.set_title(args.title or 'Firing sparsity')
    ax.legend()
    lines = ['%-28s %14s %14s %16s' % ('run', 'spikes/image', 'net/image', unit.replace(' ', '/'))]
    for run, tot in zip(runs, total):
        s = run.signed_spikes_per_image()
        lines.append('%-28s %14.1f %14s %16.4f' % (run.label, run.spikes_per_image()[-1],
                                                  '-' if s is None else '%.1f' % s[-1], tot))
    return fig, lines


def main(argv=None):
    return figure_cli(__doc__.strip().splitlines()[0], 'sparsity', draw, argv)


if __name__ == '__main__':
    main()
