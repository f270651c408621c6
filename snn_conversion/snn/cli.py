"""The ``Spiking_*`` command line: convert a checkpoint, simulate the test set, write the logs and run.json."""

from __future__ import absolute_import, division, print_function

import os

from snn_conversion.core import architectures
from snn_conversion.core.blas import kernel_report
from snn_conversion.core.errors import (ArgumentParser, UserError, add_resume_flag, ensure_writable_dir, parse_bool,
                                        run_cli)
from snn_conversion.core.fileio import file_sha256
from snn_conversion.core.flags import add_data_dir_flag, BATCH, IMAGES, K_LEVEL, PROCESSES, RATIO, SEED, TIME_STEPS
from snn_conversion.data.datasets import choose_network, load_test_inputs
from snn_conversion.snn.rules import RULES
from snn_conversion.snn.network import ENGINES, SpikingNetwork
from snn_conversion.snn.runs import (layer_info, log_dir_lock, merge_shards, parse_shard, run_test_set,
                                     shard_batches, shard_dir, write_run_info)

__all__ = ['snn_main']


def snn_main(arch_name, script_file, argv=None, preset=()):
    """Command line of the ``Spiking_*`` workspace scripts (thin wrappers call this); ``preset``: flags put
    before the user's, for the seeds' per-setting script names (``inference_k0_slenet_N_MNIST.py``)."""
    return run_cli(lambda args: _snn_cli(arch_name, script_file, list(preset) + args), argv)


def _snn_cli(arch_name, script_file, argv):
    arch, add_network_flags = choose_network(arch_name, argv)
    workspace = os.path.dirname(os.path.abspath(script_file))
    tag = arch.spec.log_tag_pattern
    logs = os.path.join(arch.log_group, tag)
    p = ArgumentParser(
        description='Convert the quantized %s (%s, %s) to a spiking network, simulate the test set and write the '
                    'logs (%s) to figs/%s/. %s' % (arch.name, arch.string, arch.dataset,
                                                    ', '.join(arch.spec.log_files),
                                                    logs, architectures.variants_help(arch_name)))
    architectures.add_selector_flags(p, arch_name, arch)
    p.add_argument('--k', type=K_LEVEL, default=None,
                   help='quantization level (default: the checkpoint\'s, else %d)' % arch.defaults['k'])
    add_network_flags(p)
    arch.spec.add_config_flags(p, arch, 'snn')
    p.add_argument('--noise_ratio', type=RATIO, default=0.0, help=arch.spec.noise_help)
    p.add_argument('--seed', type=SEED, default=0, help='random seed of the noise')
    p.add_argument('--time_steps', type=TIME_STEPS, default=arch.defaults['time_steps'], help='simulation steps T')
    p.add_argument('--batch_size', type=BATCH, default=arch.defaults['sim_batch_size'], help='images per batch')
    p.add_argument('--num_test', type=IMAGES, default=None, help='simulate only the first N test images')
    add_data_dir_flag(p)
    p.add_argument('--model_file', default=None, help='checkpoint (default: %s_%s.npz in the workspace)'
                   % (arch.name, arch.spec.config_tag_pattern))
    p.add_argument('--log_dir', default=None, help='log folder (default: figs/%s/ in the workspace)' % logs)
    p.add_argument('--rule', choices=RULES, default='exact',
                   help="'exact' (neuron-exact, default) or 'authors' (the authors' simulators: their neuron update, "
                        "float32 thresholds and SOP counting, for comparing logs line for line)")
    p.add_argument('--shard', default=None, metavar='I/N',
                   help='simulate only the I-th of N contiguous slices of the test set (logs in <log_dir>/shard-I-of-N)')
    add_resume_flag(p, 'True: continue an interrupted run after its last complete batch (the logs come out '
                       'byte-identical to an uninterrupted run)')
    p.add_argument('--overwrite', type=parse_bool, default=False,
                   help='True: replace the logs of another run in the log folder (default False: refuse, naming what '
                        'differs; the same run is continued, or found complete)')
    p.add_argument('--merge', action='store_true',
                   help='merge the finished shard-I-of-N logs of <log_dir> into one run (identical to an unsharded one)')
    p.add_argument('--engine', choices=ENGINES, default=None,
                   help="'compiled' (default where numba is installed: compiled event-driven kernels, certified "
                        "float32), 'sparse' (the same method in numpy/scipy) or 'dense' (the readable reference); "
                        "all give identical logs")
    p.add_argument('--workers', type=PROCESSES, default=1,
                   help='processes sharing each batch (identical results; e.g. the number of CPU cores; default 1)')
    return _snn_run(arch, workspace, p.parse_args(argv))


def _snn_run(arch, workspace, a):
    B, noise, seed = getattr(a, 'B', None), a.noise_ratio, a.seed
    ternary, use_int = getattr(a, 'use_ternary', None), getattr(a, 'use_int', False)
    k_guess = a.k if a.k is not None else arch.defaults['k']
    B_guess = B if B is not None else arch.defaults.get('B')  # (only a family with B has one)
    model_file = a.model_file or os.path.join(workspace, '%s_%s.npz'
                                              % (arch.name, arch.config_tag(k_guess, B_guess, ternary)))
    net = SpikingNetwork.from_checkpoint(model_file, arch, k=a.k, B=B, rule=a.rule, noise_ratio=noise,
                                         seed=seed, engine=a.engine, use_ternary=ternary, use_int=use_int)
    log_dir = a.log_dir or os.path.join(workspace, 'figs', net.log_tag)
    if a.merge:
        if not os.path.isdir(log_dir):
            return _merge(log_dir)  # its own message: nothing to merge
        with log_dir_lock(log_dir):
            return _merge(log_dir)
    shard = parse_shard(a.shard) if a.shard else None
    if shard:
        log_dir = shard_dir(log_dir, shard)
    ensure_writable_dir(log_dir, 'logs')
    with log_dir_lock(log_dir):  # one writer per log folder, from before the data are read
        return _simulate(arch, a, net, model_file, log_dir, shard)


def _merge(log_dir):
    merged = merge_shards(log_dir)
    print('merged %d shards into %s: %d images, SNN accuracy at T=%d: %.2f%%'
          % (merged['merged_from'], log_dir, merged['num_images'], merged['time_steps'], merged['snn_accuracy']))
    return merged


def _simulate(arch, a, net, model_file, log_dir, shard):
    noise, seed = a.noise_ratio, a.seed
    x, y = load_test_inputs(arch.dataset, data_dir=a.data_dir, num_test=a.num_test, input_shape=arch.input_shape)
    if shard and not len(shard_batches(len(x), a.batch_size, shard)):
        raise UserError('shard %s holds no batch: use at most %d shards' % (a.shard, -(-len(x) // a.batch_size)))
    print('SNN: %s (%s), %s, %d test images, T=%d, batch %d, rule=%s, checkpoint %s\nBLAS: %s'
          % (arch.name, arch.string, net.log_tag, len(x), a.time_steps, a.batch_size, a.rule, model_file,
             kernel_report()))
    digest = file_sha256(model_file)  # once: the resume key and run.json
    with net.set_workers(a.workers):
        res = run_test_set(net, x, y, a.time_steps, a.batch_size, log_dir=log_dir, shard=shard, resume=a.resume,
                           overwrite=a.overwrite,
                           key=dict(checkpoint_sha256=digest), lock=False)
    acc = 100.0 * res['correct'] / res['n']
    extra = dict(shard='%d/%d' % shard, batches=[res['batches'].start, res['batches'].stop]) if shard else {}
    write_run_info(log_dir, net, a.time_steps, a.batch_size, res['n'], model_file,
                   B=net.B, noise_ratio=noise, seed=seed, snn_accuracy=float(acc[-1]), steps_run=res['steps_run'],
                   checkpoint_sha256=digest, use_ternary=net.use_ternary, use_int=net.use_int,
                   **dict(extra, **layer_info(net, res['layer_spikes'])))
    print('SNN accuracy per step (%%): %s' % ' '.join('%.2f' % v for v in acc))
    if res['unconverged']:
        settled = ('not quiescent at T: %d batch%s still spiking (its counts have not reached the ANN\'s '
                   'activations; a larger --time_steps lets them)' % (res['unconverged'],
                                                                     'es' if res['unconverged'] > 1 else ''))
    else:
        settled = 'network quiescent after %d steps' % res['steps_run']
    print('SNN accuracy at T=%d: %.2f%%  (%s)' % (a.time_steps, acc[-1], settled))
    ann = net.meta.get('ann_accuracy')
    if ann is not None and a.num_test is None and not shard:
        print('ANN test accuracy recorded in the checkpoint: %.2f%%' % (100.0 * float(ann)))
    print('logs written to %s%s' % (log_dir, '; when all shards are done, run again with --merge' if shard else ''))
    return res
