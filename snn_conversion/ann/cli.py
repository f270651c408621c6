"""Command line of the ``Quant_*`` / ``FP32_*`` workspace scripts (and the MobileNet's): arguments, then calls."""

from __future__ import absolute_import, division, print_function

import math
import os
import sys

import tensorlayer_patches
from snn_conversion.ann import device, speed
from snn_conversion.ann.cluster import cluster_from_env
from snn_conversion.ann.mobilenet import train_mobilenet
from snn_conversion.ann.settings import AnnRun, Network
from snn_conversion.ann.trainer import Trainer, checkpoint_lock, default_model_file, evaluate, open_for, train
from snn_conversion.core.checkpoint import load_checkpoint
from snn_conversion.core.errors import ArgumentParser, UserError, ensure_writable_dir, parse_bool, run_cli
from snn_conversion.core.flags import (add_data_dir_flag, GPUS, IMAGES, K_LEVEL, THREADS, BlockNumbers,
                                       add_seed_flag, add_training_flags)
from snn_conversion.data import imagenet, imagenet_folder
from snn_conversion.data.datasets import choose_network, eval_inputs, load_dataset, load_test_inputs
from snn_conversion.data.locate import DATASETS
from snn_conversion.core import architectures

__all__ = ['ann_main', 'run_ann', 'mobilenet_ann_main']


def ann_main(arch_name, script_file, full_precision=False, argv=None, preset=()):
    """Command line of the ``Quant_*`` (and, with ``full_precision``, ``FP32_*``) workspace scripts.

    ``preset``: flags put before the user's (who can override them), for the seeds' per-setting
    script names such as ``training_k0_lenet_N_MNIST.py``."""
    return run_cli(lambda args: _ann_cli(arch_name, script_file, full_precision, list(preset) + args), argv)


def _ann_cli(arch_name, script_file, full_precision, argv):

    arch, _ = choose_network(arch_name, argv)  # (the MobileNet has its own command line, mobilenet_ann_main)
    workspace = os.path.dirname(os.path.abspath(script_file))
    d = arch.defaults
    what = 'full-precision' if full_precision else 'quantized'
    p = ArgumentParser(description='Train or evaluate the %s ANN %s (%s) on %s. %s'
                                            % (what, arch.name, arch.string, arch.dataset,
                                               architectures.variants_help(arch_name)))
    architectures.add_selector_flags(p, arch_name, arch)
    if not full_precision:
        p.add_argument('--k', type=K_LEVEL, default=d['k'], help='activation quantization level (default %(default)s)')
        arch.spec.add_config_flags(p, arch, 'ann')
    else:
        p.add_argument('--ternary_blocks', type=BlockNumbers(len(arch.blocks)), default=None, metavar='N[,N...]',
                       help='hidden blocks (numbered from 1, of %d) whose weights are ternary all the same, as in the '
                            'authors\' FP32_LeNet_MNIST.py of the scatter-and-gather paper (its 256-channel block: 6); '
                            '"none" for none (default: none, or a resumed or evaluated checkpoint\'s choice)'
                            % len(arch.blocks))
    add_training_flags(p, d, 'epochs (default: the authors\' %(default)s)')
    add_data_dir_flag(p)
    p.add_argument('--download', action='store_true', help='download the dataset if it is not found locally')
    p.add_argument('--model_file', default=None, help='checkpoint path (default: <arch>_k<K>.npz in the workspace)')
    p.add_argument('--num_test', type=IMAGES, default=None, help='evaluate on the first N test images only')
    _add_run_flags(p)
    p.add_argument('--overwrite', type=parse_bool, default=False,
                   help='True: training without --resume may replace an existing checkpoint (and its training '
                        'state); default False: it refuses, naming the epochs it would lose')
    p.add_argument('--xla', type=parse_bool, default=False,
                   help='True: train with XLA auto-clustering on the CPU (faster; the weights differ in the last '
                        'bits from a run without it, so a resumed run must keep the setting; default False)')
    p.add_argument('--drop_last', type=parse_bool, default=False,
                   help='True: each epoch leaves out its last partial batch (floor(N / batch) steps over the same '
                        'seeded order), as TensorLayer\'s tl.iterate.minibatches does in the authors\' loop; '
                        'recorded in the checkpoint, so a resumed run must keep the setting (inference ignores '
                        'it; default False: every image once per epoch, the last batch smaller)')
    add_seed_flag(p, 'random seed (initialisation and data order)')
    a = p.parse_args(argv)
    net = Network(arch, getattr(a, 'k', None), getattr(a, 'B', None), getattr(a, 'use_ternary', None), full_precision,
                  getattr(a, 'ternary_blocks', ()))
    model_file = a.model_file or default_model_file(workspace, net)
    return run_ann(AnnRun(net, model_file, a.mode, epochs=a.epochs, learning_rate=a.learning_rate,
                          batch_size=a.batch_size, data_dir=a.data_dir, download=a.download, num_test=a.num_test,
                          resume=a.resume, seed=a.seed, threads=a.threads, observe_test=a.observe_test, xla=a.xla,
                          overwrite=a.overwrite, num_train=a.num_train, drop_last=a.drop_last))


def _add_run_flags(p):
    """--num_train, --threads and --observe_test: how a training runs, the same for every ANN script."""
    p.add_argument('--num_train', type=IMAGES, default=None,
                   help='train on the first N training images only, validating on the same share of the '
                        'validation images (a quick look, or a timing of part of an epoch; default: all)')
    p.add_argument('--threads', type=THREADS, default=0,
                   help='CPU threads TensorFlow may use (default 0: all cores; 1 for a background run on one core)')
    p.add_argument('--observe_test', type=parse_bool, default=False,
                   help='True: also print the test accuracy after every epoch, to see how much the final figure '
                        'moves by chance (an observation: the last epoch is still the result; default False, '
                        'as the authors\' scripts)')


def refuse_to_overwrite(model_file):
    """A fresh training would replace ``model_file``: refuse in one line, naming what would be lost."""
    if not os.path.isfile(model_file):
        return
    try:
        epoch = load_checkpoint(model_file)[1].get('epoch')
    except UserError:
        epoch = None
    raise UserError('%s already holds %s; continue it with --resume True, or replace it (and its training state) '
                    'with --overwrite True' % (model_file, '%d epoch(s) of training' % epoch if epoch else 'a checkpoint'))


def run_ann(run):
    """Train or evaluate (an :class:`~snn_conversion.ann.settings.AnnRun`), printing the ANN test accuracy;
    returns it.  A training may use XLA auto-clustering (``run.xla``; inference never does) and refuses to
    replace an existing checkpoint unless it resumes it or ``run.overwrite``."""
    if run.training:  # before hours of training: the checkpoint can be written, by this run alone
        speed.tune_malloc()
        if run.xla:
            speed.use_xla()
        ensure_writable_dir(os.path.dirname(os.path.abspath(run.model_file)), 'checkpoints')
        with checkpoint_lock(run.model_file):  # a live holder is named first
            if not run.resume and not run.overwrite:
                refuse_to_overwrite(run.model_file)
            return _run_ann(run)
    return _run_ann(run)


def part_of_data(num_train, n_train, n_val):
    """(training, validation) images of a ``--num_train`` run: the first ``num_train`` training images and the
    same share of the validation images (at least one), so an epoch of the part costs that share of a whole
    epoch; said in one line (the table runner's ``--measure`` reads it)."""
    used = min(num_train, n_train)
    val = min(n_val, max(1, int(math.ceil(n_val * used / float(n_train)))))
    print('part of the data (--num_train): %d of %d training images, %d of %d validation images'
          % (used, n_train, val, n_val))
    return used, val


def _take_part(data, num_train):
    used, val = part_of_data(num_train, len(data['train'][1]), len(data['val'][1]))
    data['train'] = tuple(v[:used] for v in data['train'])
    data['val'] = tuple(v[:val] for v in data['val'])


def _run_ann(run):
    net, model_file = run.net, run.model_file
    if not run.training:  # before loading the data: the checkpoint fits the request
        params, net = open_for(net, model_file)
    dataset = net.arch.dataset
    if run.training:
        data = load_dataset(dataset, splits=('train', 'val', 'test'), data_dir=run.data_dir, download=run.download)
        if run.num_test is not None:
            data['test'] = tuple(v[:run.num_test] for v in data['test'])
        if run.num_train is not None:
            _take_part(data, run.num_train)
        for split in ('val', 'test'):  # evaluation inputs (CIFAR: central crop + standardization), each image once
            data[split] = (eval_inputs(dataset, data[split][0]), data[split][1])
    else:  # arrays, or lazy views of streamed records (ImageNet)
        data = {'test': load_test_inputs(dataset, data_dir=run.data_dir, download=run.download, num_test=run.num_test,
                                         input_shape=net.arch.input_shape)}
    if run.training:
        print('training %s: %d epochs, batch %d, Adam lr %g, seed %d -> %s'
              % (net.label, run.epochs, run.batch_size, run.learning_rate, run.seed, model_file))
        device.report(tensorlayer_patches.quiet_tensorflow())
        trainer = train(run, data)
        if not os.path.isfile(model_file):
            raise UserError('nothing was trained and %s does not exist' % model_file)
        acc = evaluate(trainer, data, model_file, record=run.num_test is None)
    else:
        trainer = Trainer(net, run.learning_rate, run.seed, threads=run.threads)
        trainer.assign_params(params)
        acc = evaluate(trainer, data, model_file, record=False)
    trainer.sess.close()
    print('ANN %s accuracy (%s, %d images): %.2f%%' % (DATASETS[dataset].get('test_split', 'test'), net.label,
                                                       len(data['test'][1]), 100 * acc))
    return acc


# ----------------------------------------------------------------------------- the ImageNet MobileNet

def mobilenet_ann_main(script_file, argv=None):
    """Command line of ``Quant_MobileNet_ImageNet.py`` (and the seed's ``running_distributed_mobilenet.py``)."""
    cluster = []
    run_cli(lambda args: cluster.append(cluster_from_env()), argv)  # a bad TF_CONFIG: one line, exit 2
    if cluster[0] is None:
        return run_cli(lambda args: _mobilenet_cli(script_file, args), argv)
    # a task of a cluster: TensorFlow 1.15's server can hang the interpreter's exit (its __del__ and gRPC
    # threads), so once the work is done the process leaves at once
    code = 0
    try:
        run_cli(lambda args: _mobilenet_cli(script_file, args), argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _mobilenet_cli(script_file, argv):
    base = architectures.get(architectures.MOBILENET_BASE)
    d = base.defaults
    p = ArgumentParser(description='Train or evaluate the quantized MobileNetV1 on ImageNet (TFRecords from '
                                            'tfrecord_imagenet.py); several GPUs with --num_gpus, several machines '
                                            'with TF_CONFIG (see ImageNet_MobileNet/README.md).')
    p.add_argument('--k', '--quant_level', dest='k', type=K_LEVEL, default=d['k'],
                   help='activation quantization level (default %(default)s; --quant_level is the authors\' name)')
    add_training_flags(p, d, 'epochs (default %(default)s, as the authors)', 'images per GPU tower and step')
    p.add_argument('--num_gpus', type=GPUS, default=1, help='GPU towers with averaged gradients (default 1)')
    architectures.add_mobilenet_flags(p)
    add_data_dir_flag(p, 'folder of the converted ImageNet (meta.json, *.tfrecord), else the usual search')
    p.add_argument('--model_file', default=None, help='checkpoint path (default: <arch>_k<K>.npz in the workspace)')
    p.add_argument('--num_test', type=IMAGES, default=None, help='evaluate on the first N validation images only')
    p.add_argument('--val_images', type=IMAGES, default=None,
                   help='validation images evaluated after each epoch (default: all)')
    _add_run_flags(p)
    add_seed_flag(p, 'random seed (initialisation, data order, augmentation)')
    a = p.parse_args(argv)
    cluster = cluster_from_env()
    if cluster is not None and cluster.is_ps:  # a parameter server needs no data
        return train_mobilenet(None, None, None, cluster=cluster)
    folder = imagenet_folder.find_imagenet(a.data_dir)
    net = Network(imagenet_folder.mobilenet_arch(a, folder), a.k)
    workspace = os.path.dirname(os.path.abspath(script_file))
    run = AnnRun(net, a.model_file or default_model_file(workspace, net), a.mode, epochs=a.epochs,
                 learning_rate=a.learning_rate, batch_size=a.batch_size, data_dir=folder, num_test=a.num_test,
                 resume=a.resume, seed=a.seed, threads=a.threads, observe_test=a.observe_test, num_train=a.num_train)
    model_file = run.model_file
    if a.mode == 'inference':
        return run_ann(run)
    if cluster is None or cluster.is_chief:  # the chief writes the checkpoints: prove it can, before training
        ensure_writable_dir(os.path.dirname(os.path.abspath(model_file)), 'checkpoints')
        with checkpoint_lock(model_file):
            return _train_mobilenet(run, a, cluster)
    return _train_mobilenet(run, a, cluster)


def _train_mobilenet(run, a, cluster):
    """Train an :class:`~snn_conversion.ann.settings.AnnRun` of the MobileNet (``a``: its parsed command line,
    for --image_size, --val_images and --num_gpus)."""
    arch, label, folder, model_file = run.net.arch, run.net.label, run.data_dir, run.model_file
    val_images = a.val_images
    if run.num_train is not None:
        counts = imagenet.read_meta(folder)['splits']
        val_images = part_of_data(run.num_train, counts['train']['count'], counts['validation']['count'])[1]
    val = imagenet.EvalSplit(folder, 'validation', a.image_size, val_images)
    test = val if a.num_test is None and val_images is None else \
        imagenet.EvalSplit(folder, 'validation', a.image_size, a.num_test)
    print('training %s (%s): %d epochs, %d GPU tower(s) x batch %d, Adam lr %g, seed %d%s -> %s'
          % (label, arch.string, a.epochs, a.num_gpus, a.batch_size, a.learning_rate, a.seed,
             '' if cluster is None else ', task %s/%d of %d worker(s)' % (cluster.task_type, cluster.task_index,
                                                                        len(cluster.replicas)), model_file))
    device.report(tensorlayer_patches.quiet_tensorflow(), a.num_gpus)
    trainer = train_mobilenet(run, (val.images, val.labels), (test.images, test.labels), num_gpus=a.num_gpus,
                              cluster=cluster)
    if cluster is None:  # a cluster task leaves without closing: the other tasks may be gone already
        trainer.sess.close()
    if not trainer.is_chief:
        return None
    acc = trainer.test_accuracy
    print('ANN validation accuracy (%s, %d images): %.2f%%' % (label, len(test), 100 * acc))
    return acc
