"""Training of the quantized (or FP32) ANNs: one training loop for every trainer.

:class:`Trainer` holds the training and inference graphs of one network in one session (the single-process
trainer; :class:`snn_conversion.ann.mobilenet.MobileNetTrainer` builds the multi-GPU / multi-machine graphs and
shares the rest).  :func:`resume_from` and :func:`run_epochs` are the loop both use: restore, one epoch at a time,
validate, save, stop cleanly on Ctrl-C.

Checkpoints (every epoch, atomically):

* ``<model>.npz``: the parameters in the authors' TensorLayer order plus
  metadata (see :mod:`tensorlayer_patches.checkpoint`) -- the file the spiking
  simulator converts;
* ``<model>.train_state.npz``: every graph variable by name (latent float
  weights, BN statistics, Adam moments), the finished epoch and the learning
  rate, for ``--resume True`` (and the run settings a resumed run must keep:
  ``--xla``, and an array input's ``--drop_last``, which the checkpoint records too).

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

from snn_conversion.ann import speed
from snn_conversion.ann.model import load_variables
from snn_conversion.core.checkpoint import (load_checkpoint, open_checkpoint, resolve_drop_last, resolve_ternary_blocks,
                                            save_checkpoint, state_numbers, train_state_path)
from snn_conversion.core.errors import StopRequest, UserError
from snn_conversion.core.fileio import atomic_savez, read_npz
from snn_conversion.core.lock import RunLock
from snn_conversion.core.progress import progress_bar
from snn_conversion.core.provenance import provenance
from snn_conversion.data.locate import DATASETS

__all__ = ['Trainer', 'checkpoint_lock', 'train', 'evaluate', 'default_model_file', 'save_epoch', 'resume_from',
           'run_epochs', 'resumed_provenance', 'interrupted', 'STOP_NOTICE']


def default_model_file(workspace, net):
    """``<workspace>/<arch>_<tag>.npz`` of a :class:`~snn_conversion.ann.settings.Network`."""
    return os.path.join(workspace, '%s_%s.npz' % (net.arch.name, net.tag))


def checkpoint_lock(model_file):
    """The lock a training holds on its checkpoint for its whole life (one writer per checkpoint)."""
    return RunLock(model_file + '.lock', 'the checkpoint %s' % model_file)


class Trainer(object):
    """The training and inference graphs of one network (a :class:`~snn_conversion.ann.settings.Network`) in one
    session; the training graph only with ``train_data`` = (images, labels) and a ``batch_size``.  ``threads``: 0
    lets TensorFlow use every core, 1 keeps a background run on one core.  ``drop_last``: the array input leaves
    out each epoch's last partial batch (:class:`~snn_conversion.ann.inputs.TrainInput`); recorded with every
    epoch saved (:func:`save_epoch`)."""

    is_chief, role = True, ''  # the single-process trainer writes its checkpoints (cluster: see MobileNetTrainer)
    drop_last = None  # not an array input's choice (the MobileNet's streamed input has whole batches): not recorded

    def __init__(self, net, learning_rate, seed, batch_size=None, threads=0, train_data=None, drop_last=False):
        import tensorlayer_patches
        from snn_conversion.ann.model import build_network
        from snn_conversion.ann.inputs import TrainInput

        tf = tensorlayer_patches.quiet_tensorflow()
        arch = net.arch
        self.arch, self.k, self.full_precision, self.batch_size = arch, net.k, net.full_precision, batch_size
        self.drop_last = bool(drop_last)
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(seed)
            self.x = tf.placeholder(tf.float32, (None,) + arch.input_shape, name='x')
            self.y = tf.placeholder(tf.int64, (None,), name='y')
            # training graph on the tf.data pipeline (only when training), inference graph on the placeholder
            training = bool(batch_size) and train_data is not None
            self.input = self.cost = self.train_op = None
            if training:
                self.input = TrainInput(arch.dataset, batch_size, train_data, drop_last=self.drop_last)
                train_net = build_network(net, self.input.x, is_train=True)
                self.cost = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=self.input.y, logits=train_net.logits))
            self.net = build_network(net, self.x, reuse=training)
            self.correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(self.net.logits, 1), self.y), tf.int64))
            if training:
                self.train_op = tf.train.AdamOptimizer(learning_rate).minimize(self.cost,
                                                                               var_list=tf.trainable_variables())
            self.variables = tf.global_variables()
            self.sess = tf.Session(graph=self.graph, config=tf.ConfigProto(
                allow_soft_placement=True, intra_op_parallelism_threads=threads,
                inter_op_parallelism_threads=threads))
            self.sess.run(tf.global_variables_initializer())

    def run_epoch(self, seed, epoch, desc, stop=None, progress=True):
        """THE per-step training loop of every trainer: one epoch of the input (:mod:`snn_conversion.ann.inputs`:
        ``input.steps`` runs of the training op, each followed by :meth:`after_step`); returns the mean training
        loss.  ``stop``: a :class:`~snn_conversion.core.errors.StopRequest`, checked after every step."""
        self.input.start(self.sess, seed, epoch)
        steps = self.input.steps
        loss_sum = 0.0
        with progress_bar(total=steps, desc=desc, unit=self.input.unit, enabled=progress, leave=False) as bar:
            for _ in range(steps):
                loss, _ = self.sess.run([self.cost, self.train_op])
                self.after_step()
                loss_sum += loss
                bar.update(1)
                if stop is not None and stop.requested:
                    raise KeyboardInterrupt()
        return loss_sum / max(steps, 1)

    def after_step(self):
        """What a training step needs after its update (a cluster's synchronization; nothing here)."""

    def count_correct(self, x, y, batch_size=None):
        """Correct predictions of the inference graph on (x, y): arrays or lazy views (ImageNet), read batch by
        batch (the data set's ``eval_batch``)."""
        batch_size = batch_size or DATASETS[self.arch.dataset].get('eval_batch', 1000)
        n = 0
        for s in range(0, len(x), batch_size):
            n += int(self.sess.run(self.correct, {self.x: x[s:s + batch_size], self.y: y[s:s + batch_size]}))
        return n

    def export_params(self):
        return self.sess.run(self.net.export)

    def assign_params(self, params):
        load_variables(self.sess, [(var, np.asarray(value, dtype=np.float32))
                                   for var, value in zip(self.net.assignable, params)])

    def state(self):
        values = self.sess.run(self.variables)
        return {v.name: val for v, val in zip(self.variables, values)}

    def load_state_file(self, state_file):
        """Load a ``.train_state.npz``; returns (epochs done, their learning rate)."""
        try:
            state = read_npz(state_file)
            done, lr_done, xla, drop_last = state_numbers(state)
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
            raise UserError('%s is not a readable training state (%s: %s); delete it to resume from the weights '
                            'of the checkpoint alone (the optimizer starts afresh: the run is then no longer '
                            'identical to an uninterrupted one)' % (state_file, type(e).__name__, e))
        if xla != speed.xla_enabled():
            raise UserError('%s was trained with --xla %s: resume it with the same setting (the weights of the two '
                            'differ in the last bits)' % (state_file, xla))
        if self.drop_last is not None and drop_last != self.drop_last:
            raise UserError('%s was trained with --drop_last %s: resume it with the same setting (an epoch\'s '
                            'steps differ)' % (state_file, drop_last))
        self.load_state({key: v for key, v in state.items() if ':' in key}, state_file)
        return done, lr_done

    def new_phase(self):
        """A resumed run at another learning rate starts its epochs afresh (the cluster trainer resets its step)."""

    def load_state(self, state, source):
        with self.graph.as_default():
            for v in self.variables:
                if v.name not in state:
                    raise UserError('%s lacks variable %s: it belongs to another architecture or optimizer'
                                    % (source, v.name))
                if tuple(state[v.name].shape) != tuple(v.shape.as_list()):
                    raise UserError('%s: variable %s has shape %s, expected %s'
                                    % (source, v.name, state[v.name].shape, tuple(v.shape.as_list())))
        load_variables(self.sess, [(v, state[v.name]) for v in self.variables])


def save_epoch(trainer, model_file, epoch, learning_rate, meta, previous=None):
    """After epoch ``epoch`` (1-based): the training state, then the checkpoint, each written atomically.

    The state comes first: whatever write fails or is killed, the training state on disk is the latest epoch
    whose state is complete, and ``--resume True`` continues from it exactly (a checkpoint one epoch behind is
    written again then; see :func:`train`).  ``previous``: the provenance of the run this one resumes; it is kept
    in the checkpoint's record, so a checkpoint trained in several phases names every command that shaped it.
    """
    state = trainer.state()
    state['__epoch__'] = np.array(epoch)
    state['__learning_rate__'] = np.array(learning_rate)
    state['__xla__'] = np.array(speed.xla_enabled())
    if trainer.drop_last is not None:  # an array input's choice, in the state and the checkpoint
        state['__drop_last__'] = np.array(trainer.drop_last)
        meta = dict(meta, drop_last=trainer.drop_last)
    atomic_savez(train_state_path(model_file), **state)
    record = provenance(epoch=int(epoch), learning_rate=float(learning_rate))
    if previous:
        record['previous'] = previous
    save_checkpoint(model_file, trainer.export_params(), epoch=epoch, learning_rate=learning_rate,
                    provenance=record, **meta)


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


def resume_from(trainer, model_file, learning_rate, epochs, params=None, role=''):
    """Restore a resumed training: the training state when there is one, else the checkpoint's weights
    (``params``).  Returns the epochs already done in this phase: those of the state at the same learning
    rate, 0 for a new phase (another learning rate) or for weights alone."""
    state_file = train_state_path(model_file)
    if os.path.isfile(state_file):
        done, lr_done = trainer.load_state_file(state_file)
        same = bool(np.isclose(lr_done, learning_rate))
        if not same:
            trainer.new_phase()
        print('%sresumed %s: %d epoch(s) done at learning rate %g%s' % (
            role, state_file, done, lr_done, '' if same else '; new phase of %d epochs at %g' % (epochs, learning_rate)))
        return done if same else 0
    trainer.assign_params(params)
    trainer.new_phase()
    print('%sresumed weights from %s (no %s: optimizer state starts fresh)' % (role, model_file, state_file))
    return 0


def run_epochs(trainer, run, start, previous, one_epoch, validate, observe=None):
    """The training loop of an :class:`~snn_conversion.ann.settings.AnnRun`: epochs ``start`` ..
    ``run.epochs - 1``, each ``one_epoch(epoch, stop)`` (returns the mean training loss; raises
    KeyboardInterrupt when ``stop.requested``), then on the chief (``trainer.is_chief``) ``validate()`` (the
    validation accuracy), the checkpoint and the training state (:func:`save_epoch`, keeping ``previous``: the
    provenance of the run resumed) and one line of log.  ``observe()``, when given, is the test accuracy,
    printed on that line as an observation: how much the final epoch's test figure moves from epoch to epoch.
    It never chooses a checkpoint (the last epoch's is the result, as in the authors' scripts) and draws no
    random numbers, so the training is the same with it.  The first Ctrl-C stops after the current step with
    every finished epoch saved."""
    model_file, epochs, role, chief = run.model_file, run.epochs, trainer.role, trainer.is_chief
    meta = run.net.checkpoint_meta()
    saved = start  # epochs whose checkpoint is on disk
    try:
        with StopRequest(STOP_NOTICE) as stop:
            for epoch in range(start, epochs):
                t0 = time.time()
                loss = one_epoch(epoch, stop)
                if not chief:
                    print('%sepoch %d/%d  %.1fs  train loss %.4f' % (role, epoch + 1, epochs, time.time() - t0, loss))
                    continue
                acc = validate()
                save_epoch(trainer, model_file, epoch + 1, run.learning_rate, meta, previous)
                saved = epoch + 1
                seconds = time.time() - t0  # the observation below is not part of the epoch's cost
                observed = '' if observe is None else '  test acc %.2f%% (observed)' % (100 * observe())
                print('%sepoch %d/%d  %.1fs  train loss %.4f  val acc %.2f%%%s  (saved %s)'
                      % (role, epoch + 1, epochs, seconds, loss, 100 * acc, observed, model_file))
                sys.stdout.flush()
                if stop.requested:
                    raise KeyboardInterrupt()
    except KeyboardInterrupt:
        raise interrupted(model_file, saved) if chief else KeyboardInterrupt()


def open_for(net, model_file):
    """Load ``model_file``, refused unless it fits the :class:`~snn_conversion.ann.settings.Network` ``net``;
    returns ``(params, net)`` with the choices ``net`` left open (ternary weights) taken from the checkpoint."""
    params, meta, _, _, ternary = open_checkpoint(model_file, net.arch, k=net.k, B=net.B,
                                                  full_precision=net.full_precision, ternary=net.ternary)
    return params, net.with_ternary(ternary).with_ternary_blocks(
        resolve_ternary_blocks(meta, model_file, net.ternary_blocks))


def train(run, data, progress=True):
    """Train (an :class:`~snn_conversion.ann.settings.AnnRun` on ``data``: 'train', 'val', 'test' splits),
    checkpointing every epoch; returns the trainer (its session holds the final weights).

    ``run.observe_test``: print the test accuracy after every epoch too (see :func:`run_epochs`)."""
    net, model_file, resume = run.net, run.model_file, run.resume
    params = None
    state_file = train_state_path(model_file)
    if resume and not os.path.isfile(model_file) and not os.path.isfile(state_file):
        # interrupted before its first epoch was saved: continuing is starting
        print('note: nothing of %s is saved yet: training from the start' % model_file)
        resume = False
    if resume and os.path.isfile(model_file):
        # the run being resumed must fit the request
        params, net = open_for(net, model_file)
        resolve_drop_last(load_checkpoint(model_file)[1], model_file, run.drop_last)
    run = run._replace(net=net._replace(ternary_blocks=net.ternary_blocks or ()), resume=resume)
    net = run.net
    trainer = Trainer(net, run.learning_rate, run.seed, batch_size=run.batch_size, threads=run.threads,
                      train_data=data['train'], drop_last=run.drop_last)
    start = resume_from(trainer, model_file, run.learning_rate, run.epochs, params) if resume else 0
    previous = resumed_provenance(model_file) if resume else None
    if start and (not os.path.isfile(model_file) or load_checkpoint(model_file)[1].get('epoch') != start):
        # the checkpoint write of epoch ``start`` failed after its training state was saved: write it now
        save_epoch(trainer, model_file, start, run.learning_rate, net.checkpoint_meta(), previous)
    x_val, y_val = data['val']
    run_epochs(trainer, run, start, previous,
               lambda epoch, stop: trainer.run_epoch(run.seed, epoch, 'epoch %d/%d' % (epoch + 1, run.epochs), stop,
                                                     progress),
               lambda: trainer.count_correct(x_val, y_val) / float(len(x_val)),
               observe=(lambda: trainer.count_correct(*data['test']) / float(len(data['test'][0])))
               if run.observe_test else None)
    return trainer


def evaluate(trainer, data, model_file, record=True):
    """Test accuracy of the trainer's inference graph; optionally record it in the checkpoint."""
    x, y = data['test']
    acc = trainer.count_correct(x, y) / float(len(x))
    if record:
        params, meta = load_checkpoint(model_file)
        keep = {key: meta[key] for key in ('architecture', 'k', 'B', 'weight_quant', 'dataset', 'epoch',
                                           'learning_rate', 'provenance', 'ternary_blocks', 'drop_last')}
        save_checkpoint(model_file, params, ann_accuracy=acc, **keep)
    return acc


