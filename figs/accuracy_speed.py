"""Accuracy versus time step of one or more SNN log folders.

    python figs/accuracy_speed.py FashionMNIST/figs/MLP/k0=k=0 FashionMNIST/figs/MLP/k1=k=1 --out FashionMNIST/figs/MLP/accuracy
    cd FashionMNIST/figs && python accuracy_speed.py     # every log folder below the workspace's figs/
"""
from figs.logs import figure_cli


def draw(runs, args):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    lines = ['%-28s %5s %10s %10s' % ('run', 'T', 'acc@T (%)', 'max (%)')]
    for run in runs:
        acc = run.accuracy()
        ax.plot(range(1, run.time_steps + 1), acc, marker='.', label=run.label)
        lines.append('%-28s %5d %10.2f %10.2f' % (run.label, run.time_steps, acc[-1], acc.max()))
    ax.set_xlabel('time step')
    ax.set_ylabel('test accuracy (%)')
    ax.set_title(args.title or 'SNN accuracy versus time step')
    ax.grid(alpha=0.3)
    ax.legend()
    return fig, lines


def main(argv=None):
    return figure_cli(__doc__.strip().splitlines()[0], 'accuracy_speed', draw, argv)


if __name__ == '__main__':
    main()
