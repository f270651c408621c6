"""Command line of the ``Quant_*`` / ``FP32_*`` workspace scripts (and the MobileNet's): arguments, then calls."""

from __future__ import absolute_import, division, print_function

import os

import sys

import numpy as np

import tensorlayer_patches
from snn_conversion.ann import device, speed
from snn_conversion.ann.cluster import cluster_from_env, train_mobilenet
from snn_conversion.ann.trainer import Trainer, checkpoint_lock, default_model_file, evaluate, train
from snn_conversion.core.checkpoint import load_checkpoint, open_checkpoint
from snn_conversion.core.errors import ArgumentParser, UserError, ensure_writable_dir, parse_bool, run_cli
from snn_conversion.core.flags import (GPUS, IMAGES, K_LEVEL, THREADS,
                                       add_seed_and_debug_flags, add_training_flags)
from snn_conversion.data import imagenet
from snn_conversion.data.datasets import eval_inputs, load_dataset
from snn_conversion.core import architectures

__all__ = ['ann_main', 'run_ann', 'mobilenet_ann_main']


def ann_main(arch_name, script_file, full_precision=False, argv=None, preset=()):
    """Command line of the ``Quant_*`` (and, with ``full_precision``, ``FP32_*``) workspace scripts.

    ``preset``: flags put before the user's (who can override them), for the seeds' per-setting
    script names such as ``training_k0_lenet_N_MNIST.py``."""
    return run_cli(lambda args: _ann_cli(arch_name, script_file, full_precision, list(preset) + args), argv)


def _ann_cli(arch_name, script_file, full_precision, argv):

    arch = architectures.select(arch_name, argv)
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
    add_training_flags(p, d, 'epochs (default: the authors\' %(default)s)')
    p.add_argument('--data_dir', default=None, help='dataset folder (see README for the search order)')
    p.add_argument('--download', action='store_true', help='download the dataset if it is not found locally')
    p.add_argument('--model_file', default=None, help='checkpoint path (default: <arch>_k<K>.npz in the workspace)')
    p.add_argument('--num_test', type=IMAGES, default=None, help='evaluate on the first N test images only')
    p.add_argument('--threads', type=THREADS, default=0,
                   help='CPU threads TensorFlow may use (default 0: all cores; 1 for a background run on one core)')
    p.add_argument('--observe_test', type=parse_bool, default=False,
                   help='True: also print the test accuracy after every epoch, to see how much the final figure '
                        'moves by chance (an observation: the last epoch is still the result; default False, '
                        'as the authors\' scripts)')
    p.add_argument('--overwrite', type=parse_bool, default=False,
                   help='True: training without --resume may replace an existing checkpoint (and its training '
                        'state); default False: it refuses, naming the epochs it would lose')
    p.add_argument('--xla', type=parse_bool, default=False,
                   help='True: train with XLA auto-clustering on the CPU (faster; the weights differ in the last '
                        'bits from a run without it, so a resumed run must keep the setting; default False)')
    add_seed_and_debug_flags(p, 'random seed (initialisation and data order)')
    a = p.parse_args(argv)
    k = 0 if full_precision else a.k
    B = getattr(a, 'B', None) if not full_precision else None
    ternary = getattr(a, 'use_ternary', None) if not full_precision else None
    model_file = a.model_file or default_model_file(workspace, arch, k, full_precision, B, ternary)
    return run_ann(arch, k, model_file, a.mode, epochs=a.epochs, learning_rate=a.learning_rate,
                   batch_size=a.batch_size, data_dir=a.data_dir, download=a.download, num_test=a.num_test,
                   resume=a.resume, seed=a.seed, full_precision=full_precision, B=B, ternary=ternary,
                   threads=a.threads, observe_test=a.observe_test, xla=a.xla, overwrite=a.overwrite)


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


def run_ann(arch, k, model_file, mode, epochs=None, learning_rate=None, batch_size=None, data_dir=None,
            download=False, num_test=None, resume=False, seed=0, full_precision=False, B=None, ternary=None,
            threads=0, observe_test=False, xla=False, overwrite=False):
    """Train (``mode='training'``) or evaluate (``'inference'``), printing the ANN test accuracy; returns it.

    ``xla``: train with XLA auto-clustering (:func:`snn_conversion.ann.speed.use_xla`); inference never uses it.
    ``overwrite``: a training without ``resume`` may replace an existing checkpoint (else it refuses)."""
    d = arch.defaults
    epochs, learning_rate = epochs or d['epochs'], learning_rate or d['learning_rate']
    batch_size = batch_size or d['batch_size']
    if mode == 'training':  # before hours of training: the checkpoint can be written, by this run alone
        speed.tune_malloc()
        if xla:
            speed.use_xla()
        ensure_writable_dir(os.path.dirname(os.path.abspath(model_file)), 'checkpoints')
        with checkpoint_lock(model_file):  # a live holder is named first
            if not resume and not overwrite:
                refuse_to_overwrite(model_file)
            return _run_ann(arch, k, model_file, mode, epochs, learning_rate, batch_size, data_dir, download,
                            num_test, resume, seed, full_precision, B, ternary, threads, observe_test)
    return _run_ann(arch, k, model_file, mode, epochs, learning_rate, batch_size, data_dir, download, num_test,
                    resume, seed, full_precision, B, ternary, threads, observe_test)


def _run_ann(arch, k, model_file, mode, epochs, learning_rate, batch_size, data_dir, download, num_test, resume,
             seed, full_precision, B, ternary, threads, observe_test):
    if mode != 'training':  # before loading the data: the checkpoint fits the request
        params, _, _, _, ternary = open_checkpoint(model_file, arch, k=k, B=B, full_precision=full_precision,
                                                   ternary=ternary)
    splits = ('train', 'val', 'test') if mode == 'training' else ('test',)
    data = load_dataset(arch.dataset, splits=splits, data_dir=data_dir, download=download)
    if num_test is not None:
        data['test'] = tuple(v[:num_test] for v in data['test'])
    for split in ('val', 'test'):  # evaluation inputs (CIFAR: central crop + standardization), each image once
        if split in data:
            data[split] = (eval_inputs(arch.dataset, data[split][0]), data[split][1])
    label = '%s %s' % (arch.name, 'FP32' if full_precision else arch.config_tag(k, B, ternary))
    if mode == 'training':
        print('training %s: %d epochs, batch %d, Adam lr %g, seed %d -> %s'
              % (label, epochs, batch_size, learning_rate, seed, model_file))
        device.report(tensorlayer_patches.quiet_tensorflow())
        trainer = train(arch, k, model_file, epochs, learning_rate, batch_size, data, resume=resume,
                        seed=seed, full_precision=full_precision, B=B, ternary=ternary, threads=threads,
                        observe_test=observe_test)
        if not os.path.isfile(model_file):
            raise UserError('nothing was trained and %s does not exist' % model_file)
        acc = evaluate(trainer, data, model_file, record=num_test is None)
    else:
        trainer = Trainer(arch, k, learning_rate, seed, full_precision, B=B, ternary=ternary, threads=threads)
        trainer.assign_params(params)
        acc = evaluate(trainer, data, model_file, record=False)
    trainer.sess.close()
    print('ANN test accuracy (%s, %d images): %.2f%%' % (label, len(data['test'][0]), 100 * acc))
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
                                            'with TF_CONFIG (see README).')
    p.add_argument('--k', '--quant_level', dest='k', type=K_LEVEL, default=d['k'],
                   help='activation quantization level (default %(default)s; --quant_level is the authors\' name)')
    add_training_flags(p, d, 'epochs (default %(default)s, as the authors)', 'images per GPU tower and step')
    p.add_argument('--num_gpus', type=GPUS, default=1, help='GPU towers with averaged gradients (default 1)')
    architectures.add_mobilenet_flags(p)
    p.add_argument('--data_dir', default=None, help='folder of the converted ImageNet (meta.json, *.tfrecord)')
    p.add_argument('--model_file', default=None, help='checkpoint path (default: <arch>_k<K>.npz in the workspace)')
    p.add_argument('--num_test', type=IMAGES, default=None, help='evaluate on the first N validation images only')
    p.add_argument('--val_images', type=IMAGES, default=None,
                   help='validation images evaluated after each epoch (default: all)')
    add_seed_and_debug_flags(p, 'random seed (initialisation, data order, augmentation)')
    a = p.parse_args(argv)
    cluster = cluster_from_env()
    if cluster is not None and cluster.is_ps:  # a parameter server needs no data
        return train_mobilenet(None, a.k, None, a.epochs, a.learning_rate, a.batch_size, None, None, cluster=cluster)
    folder = imagenet.find_imagenet(a.data_dir)
    arch = imagenet.mobilenet_arch(a, folder)
    workspace = os.path.dirname(os.path.abspath(script_file))
    model_file = a.model_file or default_model_file(workspace, arch, a.k)
    label = '%s k%d' % (arch.name, a.k)
    if a.mode == 'inference':
        from snn_conversion.ann.model import QuantANN

        params = open_checkpoint(model_file, arch, k=a.k)[0]
        split = imagenet.EvalSplit(folder, 'validation', a.image_size, a.num_test)
        ann = QuantANN(arch, a.k).assign(params)
        correct = 0
        for s in range(0, len(split), 100):  # each batch decoded once, images and labels together
            x, y = split.read(s, min(s + 100, len(split)))
            correct += int(np.sum(np.argmax(ann.logits(x), axis=1) == y))
        acc = correct / float(len(split))
        ann.close()
        print('ANN validation accuracy (%s, %d images): %.2f%%' % (label, len(split), 100 * acc))
        return acc
    if cluster is None or cluster.is_chief:  # the chief writes the checkpoints: prove it can, before training
        ensure_writable_dir(os.path.dirname(os.path.abspath(model_file)), 'checkpoints')
        with checkpoint_lock(model_file):
            return _train_mobilenet(a, arch, label, folder, model_file, cluster)
    return _train_mobilenet(a, arch, label, folder, model_file, cluster)


def _train_mobilenet(a, arch, label, folder, model_file, cluster):
    val = imagenet.EvalSplit(folder, 'validation', a.image_size, a.val_images)
    test = val if a.num_test is None and a.val_images is None else \
        imagenet.EvalSplit(folder, 'validation', a.image_size, a.num_test)
    print('training %s (%s): %d epochs, %d GPU tower(s) x batch %d, Adam lr %g, seed %d%s -> %s'
          % (label, arch.string, a.epochs, a.num_gpus, a.batch_size, a.learning_rate, a.seed,
             '' if cluster is None else ', task %s/%d of %d worker(s)' % (cluster.task_type, cluster.task_index,
                                                                        len(cluster.replicas)), model_file))
    device.report(tensorlayer_patches.quiet_tensorflow(), a.num_gpus)
    trainer = train_mobilenet(arch, a.k, model_file, a.epochs, a.learning_rate, a.batch_size, folder,
                              (val.images, val.labels), resume=a.resume, seed=a.seed, num_gpus=a.num_gpus,
                              cluster=cluster, test=(test.images, test.labels), record=a.num_test is None)
    if cluster is None:  # a cluster task leaves without closing: the other tasks may be gone already
        trainer.sess.close()
    if not trainer.is_chief:
        return None
    acc = trainer.test_accuracy
    print('ANN validation accuracy (%s, %d images): %.2f%%' % (label, len(test), 100 * acc))
    return acc
