"""Training and inference of the quantized (or FP32) ANNs: the ``Quant_*`` / ``FP32_*`` scripts call :func:`ann_main`.

Checkpoints (every epoch, atomically):

* ``<model>.npz``: the parameters in the authors' TensorLayer order plus
  metadata (see :mod:`tensorlayer_patches.checkpoint`) -- the file the spiking
  simulator converts;
* ``<model>.train_state.npz``: every graph variable by name (latent float
  weights, BN statistics, Adam moments), the finished epoch and the learning
  rate, for ``--resume True``.

``--resume True`` with the learning rate of the interrupted run continues that
run up to ``--epochs``; with a different ``--learning_rate`` (the authors' second
phase at 1e-4) it starts a new phase of ``--epochs`` epochs from the saved state.
"""

from __future__ import absolute_import, division, print_function

import os
import sys
import time
import zipfile

import numpy as np

from tensorlayer_patches import architectures
from snn_conversion.core.checkpoint import (atomic_savez, check_params, load_checkpoint, read_npz, resolve_config,
                                            resolve_ternary, save_checkpoint)
from snn_conversion.core.provenance import provenance
from snn_conversion.data.datasets import eval_inputs, load_dataset
from snn_conversion.core.errors import (ArgumentParser, StopRequest, UserError, add_resume_flag,
                                        ensure_writable_dir, parse_bool, run_cli)

__all__ = ['ann_main', 'train', 'evaluate', 'default_model_file', 'save_epoch']


def default_model_file(workspace, arch, k, full_precision=False, B=None, ternary=None):
    tag = 'fp32' if full_precision else arch.config_tag(k, B, ternary)
    return os.path.join(workspace, '%s_%s.npz' % (arch.name, tag))


def _train_state_path(model_file):
    return model_file[:-4] + '.train_state.npz' if model_file.endswith('.npz') else model_file + '.train_state.npz'


class _Trainer(object):
    """The training and inference graphs of one architecture in one session."""

    def __init__(self, arch, k, learning_rate, seed, full_precision, B=None, ternary=None, batch_size=None,
                 threads=0):
        import tensorlayer_patches
        from snn_conversion.ann.model import build_network
        from snn_conversion.ann.inputs import TrainInput

        tf = tensorlayer_patches.quiet_tensorflow()
        self.arch, self.k, self.full_precision, self.batch_size = arch, k, full_precision, batch_size
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(seed)
            self.x = tf.placeholder(tf.float32, (None,) + arch.input_shape, name='x')
            self.y = tf.placeholder(tf.int64, (None,), name='y')
            # training graph on the tf.data pipeline (only when training: batch_size given), inference graph on
            # the placeholder
            self.input = self.cost = self.train_op = None
            if batch_size:
                self.input = TrainInput(arch.dataset, batch_size)
                train_net = build_network(arch, self.input.x, k, is_train=True, reuse=False, B=B,
                                          full_precision=full_precision, ternary=ternary)
                self.cost = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=self.input.y, logits=train_net.logits))
            self.net = build_network(arch, self.x, k, is_train=False, reuse=bool(batch_size), B=B,
                                     full_precision=full_precision, ternary=ternary)
            self.correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(self.net.logits, 1), self.y), tf.int64))
            if batch_size:
                self.train_op = tf.train.AdamOptimizer(learning_rate).minimize(self.cost,
                                                                               var_list=tf.trainable_variables())
            self.variables = tf.global_variables()
            # threads: 0 lets TensorFlow use every core; 1 keeps a background run on one core
            self.sess = tf.Session(graph=self.graph, config=tf.ConfigProto(
                allow_soft_placement=True, intra_op_parallelism_threads=threads,
                inter_op_parallelism_threads=threads))
            self.sess.run(tf.global_variables_initializer())

    def run_epoch(self, x, y, seed, epoch, progress, desc, stop=None):
        """One pass over the training set through the pipeline; returns the mean training loss.

        ``stop``: a :class:`~snn_conversion.core.errors.StopRequest`, checked after every step."""
        import tensorlayer_patches
        from tqdm import tqdm

        tf = tensorlayer_patches.quiet_tensorflow()
        self.input.start(self.sess, x, y, seed, epoch)
        bar = tqdm(total=-(-len(x) // self.batch_size), desc=desc, unit='batch', file=sys.stderr,
                   disable=not progress, leave=False, mininterval=0.5 if sys.stderr.isatty() else 30)
        loss_sum, n_batches = 0.0, 0
        try:
            while True:
                try:
                    loss, _ = self.sess.run([self.cost, self.train_op])
                except tf.errors.OutOfRangeError:
                    break
                loss_sum += loss
                n_batches += 1
                bar.update(1)
                if stop is not None and stop.requested:
                    raise KeyboardInterrupt()
        finally:
            bar.close()
        return loss_sum / max(n_batches, 1)

    def count_correct(self, x, y, batch_size=1000):
        n = 0
        for s in range(0, len(x), batch_size):
            n += int(self.sess.run(self.correct, {self.x: x[s:s + batch_size], self.y: y[s:s + batch_size]}))
        return n

    def export_params(self):
        return self.sess.run(self.net.export)

    def assign_params(self, params):
        with self.graph.as_default():
            for var, value in zip(self.net.assignable, params):
                var.load(np.asarray(value, dtype=np.float32), self.sess)

    def state(self):
        values = self.sess.run(self.variables)
        return {v.name: val for v, val in zip(self.variables, values)}

    def load_state_file(self, state_file):
        """Load a ``.train_state.npz``; returns (epochs done, their learning rate)."""
        try:
            state = read_npz(state_file)
            done, lr_done = int(state['__epoch__']), float(state['__learning_rate__'])
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
            raise UserError('%s is not a readable training state (%s: %s); delete it to resume from the weights '
                            'of the checkpoint alone' % (state_file, type(e).__name__, e))
        self.load_state({key: v for key, v in state.items() if ':' in key}, state_file)
        return done, lr_done

    def load_state(self, state, source):
        with self.graph.as_default():
            for v in self.variables:
                if v.name not in state:
                    raise UserError('%s lacks variable %s: it belongs to another architecture or optimizer'
                                    % (source, v.name))
                if tuple(state[v.name].shape) != tuple(v.shape.as_list()):
                    raise UserError('%s: variable %s has shape %s, expected %s'
                                    % (source, v.name, state[v.name].shape, tuple(v.shape.as_list())))
                v.load(state[v.name], self.sess)


def _meta(arch, k, full_precision, B=None, ternary=None):
    return dict(architecture=arch.name, k=None if full_precision else int(k), B=None if full_precision else B,
                weight_quant='none' if full_precision else (arch.weight_quant_for(ternary) or 'none'),
                dataset=arch.dataset)


def save_epoch(trainer, model_file, epoch, learning_rate, meta, previous=None):
    """After epoch ``epoch`` (1-based): the checkpoint, then the training state, each written atomically.

    ``previous``: the provenance of the run this one resumes; it is kept in the checkpoint's record, so a
    checkpoint trained in several phases names every command that shaped it.
    """
    record = provenance(epoch=int(epoch), learning_rate=float(learning_rate))
    if previous:
        record['previous'] = previous
    save_checkpoint(model_file, trainer.export_params(), epoch=epoch, learning_rate=learning_rate,
                    provenance=record, **meta)
    state = trainer.state()
    state['__epoch__'] = np.array(epoch)
    state['__learning_rate__'] = np.array(learning_rate)
    atomic_savez(_train_state_path(model_file), **state)


def resumed_provenance(model_file):
    """The provenance record of the checkpoint a resumed training continues (None without one)."""
    if not os.path.isfile(model_file):
        return None
    return load_checkpoint(model_file)[1].get('provenance')


STOP_NOTICE = 'stopping after this training step; the last finished epoch stays saved (Ctrl-C again: at once)'


def interrupted(model_file, epochs_done):
    """The KeyboardInterrupt of an interrupted training, saying what is saved and how to go on."""
    if epochs_done:
        return KeyboardInterrupt('%d epoch(s) saved in %s; continue with --resume True' % (epochs_done, model_file))
    return KeyboardInterrupt('no epoch finished in this run; nothing new saved')


def _check_checkpoint(arch, params, meta, path, k, B, full_precision, ternary):
    """Refuse a checkpoint that does not fit the request (architecture, k, B, weights, shapes)."""
    resolve_config(meta, arch, path, k=k, B=B, full_precision=full_precision)
    check_params(arch, params, path)
    return None if full_precision else resolve_ternary(meta, arch, path, ternary)


def train(arch, k, model_file, epochs, learning_rate, batch_size, data, resume=False, seed=0,
          full_precision=False, progress=True, B=None, ternary=None, threads=0):
    """Train, checkpointing every epoch; returns the trainer (its session holds the final weights)."""
    state_file = _train_state_path(model_file)
    params = None
    if resume and (os.path.isfile(model_file) or not os.path.isfile(state_file)):
        params, meta = load_checkpoint(model_file)  # the run being resumed must fit the request
        ternary = _check_checkpoint(arch, params, meta, model_file, k, B, full_precision, ternary)
    trainer = _Trainer(arch, k, learning_rate, seed, full_precision, B=B, ternary=ternary, batch_size=batch_size,
                       threads=threads)
    start = 0
    if resume:
        if os.path.isfile(state_file):
            done, lr_done = trainer.load_state_file(state_file)
            start = done if np.isclose(lr_done, learning_rate) else 0
            print('resumed %s: %d epoch(s) done at learning rate %g%s' % (
                state_file, done, lr_done, '' if start else '; new phase of %d epochs at %g' % (epochs, learning_rate)))
        else:
            trainer.assign_params(params)
            print('resumed weights from %s (no %s: optimizer state starts fresh)' % (model_file, state_file))
    previous = resumed_provenance(model_file) if resume else None
    (x_tr, y_tr), (x_val, y_val) = data['train'], data['val']
    saved = start  # epochs whose checkpoint is on disk
    try:
        with StopRequest(STOP_NOTICE) as stop:
            for epoch in range(start, epochs):
                t0 = time.time()
                loss = trainer.run_epoch(x_tr, y_tr, seed, epoch, progress, 'epoch %d/%d' % (epoch + 1, epochs),
                                         stop)
                val_acc = trainer.count_correct(x_val, y_val) / float(len(x_val))
                save_epoch(trainer, model_file, epoch + 1, learning_rate,
                           _meta(arch, k, full_precision, B, ternary), previous)
                saved = epoch + 1
                print('epoch %d/%d  %.1fs  train loss %.4f  val acc %.2f%%  (saved %s)'
                      % (epoch + 1, epochs, time.time() - t0, loss, 100 * val_acc, model_file))
                sys.stdout.flush()
                if stop.requested:
                    raise KeyboardInterrupt()
    except KeyboardInterrupt:
        raise interrupted(model_file, saved)
    return trainer


def evaluate(trainer, data, model_file, record=True):
    """Test accuracy of the trainer's inference graph; optionally record it in the checkpoint."""
    x, y = data['test']
    acc = trainer.count_correct(x, y) / float(len(x))
    if record:
        params, meta = load_checkpoint(model_file)
        keep = {key: meta[key] for key in ('architecture', 'k', 'B', 'weight_quant', 'dataset', 'epoch',
                                           'learning_rate', 'provenance')}
        save_checkpoint(model_file, params, ann_accuracy=acc, **keep)
    return acc


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
        p.add_argument('--k', type=int, default=d['k'], help='activation quantization level (default %(default)s)')
        if arch.uses_B:
            p.add_argument('--B', type=int, default=d['B'], help='activation upper bound (default %(default)s)')
        if arch.optional_ternary:
            p.add_argument('--use_ternary', type=parse_bool, default=None,
                           help='True: ternary hidden weights (TWN), as the all-integer network needs; False: '
                                'full precision (default: the checkpoint\'s when resuming or inferring, else %s)'
                                % (arch.weight_quant == 'ternary'))
    add_resume_flag(p, 'True: continue from the checkpoint and its training state')
    p.add_argument('--learning_rate', type=float, default=d['learning_rate'], help='Adam learning rate')
    p.add_argument('--mode', choices=('training', 'inference'), default='training')
    p.add_argument('--epochs', type=int, default=d['epochs'], help='epochs (default: the authors\' %(default)s)')
    p.add_argument('--batch_size', type=int, default=d['batch_size'])
    p.add_argument('--data_dir', default=None, help='dataset folder (see README for the search order)')
    p.add_argument('--download', action='store_true', help='download the dataset if it is not found locally')
    p.add_argument('--model_file', default=None, help='checkpoint path (default: <arch>_k<K>.npz in the workspace)')
    p.add_argument('--num_test', type=int, default=None, help='evaluate on the first N test images only')
    p.add_argument('--seed', type=int, default=0, help='random seed (initialisation and data order)')
    p.add_argument('--threads', type=int, default=0,
                   help='CPU threads TensorFlow may use (default 0: all cores; 1 for a background run on one core)')
    p.add_argument('--debug', action='store_true', help='show Python tracebacks')
    a = p.parse_args(argv)
    k = 0 if full_precision else a.k
    B = getattr(a, 'B', None) if not full_precision else None
    ternary = getattr(a, 'use_ternary', None) if not full_precision else None
    if k < 0:
        raise UserError('--k must be >= 0, got %d' % k)
    if B is not None and B < 1:
        raise UserError('--B must be >= 1, got %d' % B)
    for flag, value in (('--epochs', a.epochs), ('--batch_size', a.batch_size), ('--num_test', a.num_test)):
        if value is not None and value < 1:
            raise UserError('%s must be >= 1, got %d' % (flag, value))
    if a.threads < 0:
        raise UserError('--threads must be >= 0, got %d' % a.threads)
    if not a.learning_rate > 0:
        raise UserError('--learning_rate must be > 0, got %g' % a.learning_rate)
    model_file = a.model_file or default_model_file(workspace, arch, k, full_precision, B, ternary)
    return run_ann(arch, k, model_file, a.mode, epochs=a.epochs, learning_rate=a.learning_rate,
                   batch_size=a.batch_size, data_dir=a.data_dir, download=a.download, num_test=a.num_test,
                   resume=a.resume, seed=a.seed, full_precision=full_precision, B=B, ternary=ternary,
                   threads=a.threads)


def run_ann(arch, k, model_file, mode, epochs=None, learning_rate=None, batch_size=None, data_dir=None,
            download=False, num_test=None, resume=False, seed=0, full_precision=False, B=None, ternary=None,
            threads=0):
    """Train (``mode='training'``) or evaluate (``'inference'``), printing the ANN test accuracy; returns it."""
    d = arch.defaults
    epochs, learning_rate = epochs or d['epochs'], learning_rate or d['learning_rate']
    batch_size = batch_size or d['batch_size']
    if mode == 'training':  # before hours of training: the checkpoint can be written
        ensure_writable_dir(os.path.dirname(os.path.abspath(model_file)), 'checkpoints')
    else:  # before loading the data: the checkpoint fits the request
        params, meta = load_checkpoint(model_file)
        ternary = _check_checkpoint(arch, params, meta, model_file, k, B, full_precision, ternary)
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
        trainer = train(arch, k, model_file, epochs, learning_rate, batch_size, data, resume=resume,
                        seed=seed, full_precision=full_precision, B=B, ternary=ternary, threads=threads)
        if not os.path.isfile(model_file):
            raise UserError('nothing was trained and %s does not exist' % model_file)
        acc = evaluate(trainer, data, model_file, record=num_test is None)
    else:
        trainer = _Trainer(arch, k, learning_rate, seed, full_precision, B=B, ternary=ternary, threads=threads)
        trainer.assign_params(params)
        acc = evaluate(trainer, data, model_file, record=False)
    trainer.sess.close()
    print('ANN test accuracy (%s, %d images): %.2f%%' % (label, len(data['test'][0]), 100 * acc))
    return acc
