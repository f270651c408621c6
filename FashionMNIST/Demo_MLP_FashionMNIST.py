"""The main job (``make demo``): Fashion-MNIST MLP 400-400, k=1, end to end.

Train the quantized ANN (a reduced epoch count that fits in about ten minutes on
two CPU cores; resumed if a checkpoint exists), evaluate it, convert it,
simulate the full test set, write the logs to figs/MLP/k<K>/, draw the three
figures, and print the ANN/SNN table beside the paper's 88.79 % / 11 steps.
Each step is the workspace script's own command line (Quant_MLP_FashionMNIST.py,
Spiking_MLP_FashionMNIST.py), as reproduce.py runs them.
"""
import os
import sys

from snn_conversion.core.blas import select_kernels

select_kernels()  # before numpy loads: OpenBLAS's AVX2 kernels (snn_conversion/core/blas.py)

from snn_conversion.core.errors import ArgumentParser, run_cli  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARCH = 'mlp_fashionmnist'
DEMO_EPOCHS = 100
QUANT_SCRIPT = os.path.join(HERE, 'Quant_MLP_FashionMNIST.py')
SPIKING_SCRIPT = os.path.join(HERE, 'Spiking_MLP_FashionMNIST.py')


def main(argv):

    import spiking_utils
    from figs import accuracy_speed, sops, sparsity
    from snn_conversion.reproduce.tables import paper_numbers
    from figs.logs import figure_cli
    from snn_conversion.ann.cli import ann_main
    from snn_conversion.core import architectures
    from snn_conversion.core.flags import add_data_dir_flag, EPOCHS, IMAGES, K_LEVEL, SEED, TIME_STEPS

    arch = architectures.get(ARCH)
    p = ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--k', type=K_LEVEL, default=1)
    p.add_argument('--epochs', type=EPOCHS, default=DEMO_EPOCHS,
                   help='training epochs (default %(default)s; the paper used 150)')
    p.add_argument('--time_steps', type=TIME_STEPS, default=arch.defaults['time_steps'])
    add_data_dir_flag(p)
    p.add_argument('--num_test', type=IMAGES, default=None, help='first N test images only (default: all)')
    p.add_argument('--seed', type=SEED, default=0)
    a = p.parse_args(argv)

    # the workspace scripts' own command lines, as reproduce.py runs them (here in this process)
    model_file = os.path.join(HERE, '%s_%s.npz' % (ARCH, arch.config_tag(a.k)))
    common = ['--k', str(a.k), '--model_file', model_file] + (['--data_dir', a.data_dir] if a.data_dir else []) \
        + (['--num_test', str(a.num_test)] if a.num_test else []) + (['--debug'] if a.debug else [])
    resume = os.path.isfile(model_file)
    print('== 1/4 train the quantized ANN (%d epochs; resumes %s if present)' % (a.epochs, os.path.basename(model_file)))
    ann_main(ARCH, QUANT_SCRIPT, argv=common + ['--mode', 'training', '--epochs', str(a.epochs), '--seed', str(a.seed),
                                                '--resume', str(resume)])
    print('== 2/4 ANN inference on the test set')
    ann_acc = ann_main(ARCH, QUANT_SCRIPT, argv=common + ['--mode', 'inference'])

    print('== 3/4 convert and simulate the SNN (T=%d)' % a.time_steps)
    log_dir = os.path.join(HERE, 'figs', arch.log_tag(a.k))
    res = spiking_utils.snn_main(ARCH, SPIKING_SCRIPT, argv=common + ['--time_steps', str(a.time_steps),
                                                                     '--overwrite', 'True'])  # the demo's own logs
    snn_acc = 100.0 * res['correct'] / res['n']

    print('== 4/4 figures')
    out = os.path.join(HERE, 'figs', arch.log_group)
    for module, name in ((accuracy_speed, 'accuracy_speed'), (sparsity, 'sparsity'), (sops, 'sops')):
        figure_cli('', None, module.draw, argv=['%s=k=%d' % (log_dir, a.k), '--out', os.path.join(out, name)])

    ann_correct = int(round(ann_acc * res['n']))
    match = spiking_utils.first_matching_step(res['correct'], ann_correct)
    paper = [('%.2f%%' % v if isinstance(v, float) else '—' if v is None else str(v))
             for v in paper_numbers(ARCH, a.k)]  # the seed's table (snn_conversion/reproduce/tables.py)
    print('')
    print('Fashion-MNIST MLP %s, k=%d, %d test images' % (arch.string, a.k, res['n']))
    print('%-34s %12s %12s' % ('', 'this run', 'paper'))
    print('%-34s %11.2f%% %12s' % ('ANN (quantized) test accuracy', 100.0 * ann_acc, paper[0]))
    print('%-34s %11.2f%% %12s' % ('SNN test accuracy at T=%d' % a.time_steps, snn_acc[-1], paper[1]))
    print('%-34s %12s %12s' % ('first step where SNN = ANN', match if match else 'never', paper[2]))
    print('%-34s %12d %12s' % ('training epochs', a.epochs, '150'))
    print('SNN accuracy per step (%%): %s' % ' '.join('%.2f' % v for v in snn_acc))
    if match is None:
        print('WARNING: the SNN did not reach the ANN accuracy within %d steps' % a.time_steps)
        return 1
    print('lossless: SNN accuracy equals ANN accuracy from step %d on' % match)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
