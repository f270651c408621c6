"""The authors' published curves, condensed from their logs into ``figs/reference_curves.json`` (committed).

RESULTS.md draws each finished row beside the authors' curve for the same network and setting; the published
logs (``../shared/reference_logs``, 5 MB of per-batch lines) are not in the repository, so their per-step
accuracy, spikes and SOPs per image are condensed into one small JSON file by this script, and a test checks
that the file is what the logs give.

    python figs/reference_curves.py                          # ../shared/reference_logs -> figs/reference_curves.json
    python figs/reference_curves.py --reference_logs DIR --out FILE
"""

from __future__ import absolute_import, division, print_function

import json
import os

from figs.logs import LogRun
from snn_conversion.core.errors import ArgumentParser, UserError, run_cli
from snn_conversion.core.fileio import atomic_write_text, read_json_object

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ['AUTHORS_LOGS', 'CURVES', 'DEFAULT_LOGS', 'build', 'load', 'curve_for', 'render', 'main']

CURVES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference_curves.json')
DEFAULT_LOGS = os.path.join(os.path.dirname(_ROOT), 'shared', 'reference_logs')

# which published log folder holds an architecture's runs ('<folder>/<config tag>', e.g. '.../MLP/k1')
AUTHORS_LOGS = {
    'mlp_fashionmnist': 'negative_spike/FashionMNIST/MLP',
    'lenet_fashionmnist': 'negative_spike/FashionMNIST/LeNet',
    'lenet_mnist': 'negative_spike/MNIST',
    'cnn1_cifar10': 'negative_spike/CIFAR10/CNN_1',
    'cnn2_cifar10': 'negative_spike/CIFAR10/CNN_2',
    'lenet_mnist_sg': 'scatter_gather/LeNet',
    'vgg_cifar10_sg': 'scatter_gather/VGG/CIFAR10',
    'vgg_cifar100_sg': 'scatter_gather/VGG/CIFAR100',
}


def _rounded(values, digits):
    return [round(float(v), digits) for v in values]


def build(logs_root=DEFAULT_LOGS):
    """{folder relative to ``logs_root``: {time_steps, num_images, accuracy [%, per step], spikes_per_image and
    sops_per_image [cumulative, per step]}} of every published log folder; empty folders (the authors' LeNet
    scatter-and-gather logs are empty files) are listed with ``empty: true``."""
    if not os.path.isdir(logs_root):
        raise UserError('no reference logs at %s: pass --reference_logs (the authors\' logs, ../shared/reference_logs '
                        'beside the repository)' % logs_root)
    curves = {}
    for d, subdirs, files in os.walk(logs_root):
        subdirs.sort()
        if 'accuracy.txt' not in files:
            continue
        rel = os.path.relpath(d, logs_root).replace(os.sep, '/')
        if os.path.getsize(os.path.join(d, 'accuracy.txt')) == 0:
            curves[rel] = dict(empty=True)
            continue
        time_steps = 1 if rel.startswith('scatter_gather/') else None  # one step is the whole computation
        run = LogRun(d, time_steps=time_steps)
        curves[rel] = dict(time_steps=run.time_steps, num_images=run.num_images,
                           accuracy=_rounded(run.accuracy(), 4), spikes_per_image=_rounded(run.spikes_per_image(), 1),
                           sops_per_image=_rounded(run.sops_per_image(), 1))
    if not curves:
        raise UserError('%s holds no log folder (with accuracy.txt)' % logs_root)
    return curves


def render(curves):
    """The file's text: one folder per line."""
    return '{\n%s\n}\n' % ',\n'.join('%s: %s' % (json.dumps(rel), json.dumps(curves[rel], sort_keys=True))
                                      for rel in sorted(curves))


def load(path=CURVES):
    """The committed curves ({} when the file is absent)."""
    try:
        return read_json_object(path) or {}
    except (OSError, ValueError) as e:
        raise UserError('%s is damaged (%s): python figs/reference_curves.py writes it again' % (path, e))


def curve_for(architecture, config_tag, curves=None):
    """(folder, curve) of the authors' published run of ``architecture`` at ``config_tag`` ('k1', 'k1B2'), or
    (folder or None, None) when they published none (or an empty one)."""
    folder = AUTHORS_LOGS.get(architecture)
    if folder is None:
        return None, None
    rel = '%s/%s' % (folder, config_tag)
    curve = (load() if curves is None else curves).get(rel)
    return rel, (None if not curve or curve.get('empty') else curve)


def main(argv=None):
    def run(args):
        p = ArgumentParser(description=__doc__.strip().splitlines()[0])
        p.add_argument('--reference_logs', default=DEFAULT_LOGS,
                       help='the authors\' log folders (default: %(default)s)')
        p.add_argument('--out', default=CURVES, help='the JSON file to write (default: %(default)s)')
        a = p.parse_args(args)
        curves = build(a.reference_logs)
        try:
            atomic_write_text(a.out, render(curves))
        except (IOError, OSError) as e:
            raise UserError('cannot write %s (%s)' % (a.out, e))
        print('wrote %s (%d log folders)' % (a.out, len(curves)))
        return 0
    return run_cli(run, argv)


if __name__ == '__main__':
    main()
