"""The ImageNet MobileNet's trainer: TensorFlow 1.15 towers on several GPUs, optionally one task of a cluster
(:mod:`snn_conversion.ann.cluster`: ``TF_CONFIG``, the servers, the synchronous step), on the streamed TFRecords
input (:class:`snn_conversion.ann.inputs.ImageNetTrainInput`).  The per-step loop, the epoch loop and the
checkpoints are every trainer's (:mod:`snn_conversion.ann.trainer`).
"""

from __future__ import absolute_import, division, print_function

import os
import time

from snn_conversion.ann.cluster import (HOST_LINGER_S, device_function, serve_parameters, signal_finished,
                                        start_server, sync_ops, variables_digest)
from snn_conversion.ann.inputs import ImageNetTrainInput
from snn_conversion.ann.trainer import Trainer, evaluate, resume_from, resumed_provenance, run_epochs
from snn_conversion.core.checkpoint import open_checkpoint, train_state_path
from snn_conversion.core.errors import UserError

__all__ = ['MobileNetTrainer', 'train_mobilenet']


class MobileNetTrainer(Trainer):
    """The training graph (towers, optional cluster synchronization) and the inference graph in one session
    (state, export and assignment as :class:`snn_conversion.ann.trainer.Trainer`)."""

    def __init__(self, run, num_gpus=1, cluster=None, server=None):
        """``run``: the :class:`~snn_conversion.ann.settings.AnnRun` (its ``data_dir``: the TFRecords' folder)."""
        import tensorlayer_patches
        from snn_conversion.ann.model import build_network

        tf = tensorlayer_patches.quiet_tensorflow()
        arch, k, learning_rate, seed, folder, batch_size = (run.net.arch, run.net.k, run.learning_rate, run.seed,
                                                            run.data_dir, run.batch_size)
        self.arch, self.k, self.cluster = arch, k, cluster
        replicas = len(cluster.replicas) if cluster else 1
        index = cluster.replica_index if cluster else 0
        self.is_chief = index == 0
        self.role = '' if cluster is None else '%s/%d: ' % (cluster.task_type, cluster.task_index)
        worker = cluster.device(cluster.replicas[index]) if cluster else ''
        var_devices = cluster.var_devices() if cluster else ['/device:CPU:0']
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(seed)
            with tf.device(device_function(var_devices, worker + '/device:CPU:0')):
                self.global_step = tf.train.get_or_create_global_step()
                self.input = ImageNetTrainInput(folder, arch.input_shape[0], batch_size * num_gpus, replicas, index,
                                                limit=run.num_train)
            xs, ys = tf.split(self.input.x, num_gpus), tf.split(self.input.y, num_gpus)
            opt = tf.train.AdamOptimizer(learning_rate)
            tower_grads, costs = [], []
            for i in range(num_gpus):
                with tf.device(device_function(var_devices, worker + '/device:GPU:%d' % i)), \
                        tf.name_scope('tower_%d' % i):
                    net = build_network(run.net, xs[i], is_train=True, reuse=i > 0)
                    cost = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ys[i],
                                                                                         logits=net.logits))
                    costs.append(cost)
                    tower_grads.append(opt.compute_gradients(cost, var_list=tf.trainable_variables()))
            with tf.device(device_function(var_devices, worker + '/device:CPU:0')):
                self.cost = tf.add_n(costs) / float(num_gpus)
                grads = [(tf.add_n([g for g, _ in gv]) / float(num_gpus), gv[0][1]) for gv in zip(*tower_grads)]
                self.x = tf.placeholder(tf.float32, (None,) + arch.input_shape, name='x')
                self.y = tf.placeholder(tf.int64, (None,), name='y')
                self.net = build_network(run.net, self.x, reuse=True)
                self.correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(self.net.logits, 1), self.y), tf.int64))
                # the network's variables (weights, BN statistics) and the step -- not the optimizer's: every
                # worker's graph holds these
                self.model_variables = tf.global_variables()
                self.reset_step = self.global_step.assign(0)
                if cluster is None:
                    self.train_op = opt.apply_gradients(grads, global_step=self.global_step)
            self.sync = None
            if cluster is not None:  # outside the device function, which would override the queues' device
                self.sync = sync_ops(tf, cluster, opt, grads, self.global_step,
                                     device_function(var_devices, worker + '/device:CPU:0'))
                self.train_op = self.sync.step_op
            self.variables = tf.global_variables()
            config = tf.ConfigProto(allow_soft_placement=True, intra_op_parallelism_threads=run.threads,
                                    inter_op_parallelism_threads=run.threads)
            if cluster is not None:  # talk only to this task and the variables' hosts, not to the other workers
                config.device_filters.extend(sorted(set([worker] + cluster.var_devices())))
            self.sess = tf.Session(server.target if server is not None else '', graph=self.graph, config=config)

    def after_step(self):
        """A cluster's synchronous step: the chief releases one token per worker once it has applied the
        averaged gradient; every worker takes its token before its next step."""
        if self.sync is not None:
            if self.is_chief:
                self.sess.run(self.sync.release)
            self.sess.run(self.sync.take_token)

    def new_phase(self):
        self.sess.run(self.reset_step)  # the epoch count comes from the global step

    def wait_until_initialized(self, timeout=600):
        """Non-chief workers: wait for the chief to initialize the variables."""
        import tensorlayer_patches

        tf = tensorlayer_patches.quiet_tensorflow()
        with self.graph.as_default():
            report = tf.report_uninitialized_variables(self.variables)
        t0 = time.time()
        while True:
            try:
                if not len(self.sess.run(report)):
                    return
            except tf.errors.UnavailableError:
                pass
            if time.time() - t0 > timeout:
                raise UserError('the chief did not initialize the variables within %d s' % timeout)
            time.sleep(0.2)


def _evaluations(trainer, val, test, observe_test):
    """The epoch's validation and, with ``observe_test``, its observed test accuracy: ImageNet's test set is its
    validation set, so where the two are the same images the observation is the validation just computed."""
    last = []

    def validate():
        last[:] = [trainer.count_correct(*val) / float(len(val[0]))]
        return last[0]
    if not observe_test or test is None:
        return validate, None
    if test[0] is val[0]:
        return validate, lambda: last[0]
    return validate, lambda: trainer.count_correct(*test) / float(len(test[0]))


def train_mobilenet(run, val, test=None, num_gpus=1, cluster=None, progress=True):
    """Train an :class:`~snn_conversion.ann.settings.AnnRun` (single process or one task of a cluster),
    checkpointing every epoch on the chief.

    ``val``: (images, labels) views evaluated after each epoch; ``test``: evaluated once at the end (recorded
    in the checkpoint unless ``run.num_test`` limits it) -- while the cluster still serves the variables.
    Returns the trainer (None on a ps task, which needs no ``run``), with ``test_accuracy`` set on the chief."""
    server = start_server(cluster) if cluster else None
    if cluster is not None and cluster.is_ps:
        serve_parameters(cluster, server)
        return None
    trainer = MobileNetTrainer(run, num_gpus, cluster, server)
    arch, k, model_file, epochs, learning_rate = (run.net.arch, run.net.k, run.model_file, run.epochs,
                                                  run.learning_rate)
    resume, seed = run.resume, run.seed
    sess, steps = trainer.sess, trainer.input.steps
    role, sync = trainer.role, trainer.sync
    if trainer.is_chief:
        import tensorlayer_patches
        tf = tensorlayer_patches.quiet_tensorflow()
        with trainer.graph.as_default():
            sess.run(tf.global_variables_initializer())
        if resume:
            params = None
            if not os.path.isfile(train_state_path(model_file)):
                params = open_checkpoint(model_file, arch, k=k)[0]
            resume_from(trainer, model_file, learning_rate, epochs, params, role)
        if cluster is not None:
            sess.run(sync.release_start)
    else:
        trainer.wait_until_initialized()
    if cluster is not None:
        sess.run(sync.take_token)  # the chief has initialized or restored everything
    start = int(sess.run(trainer.global_step)) // steps
    previous = resumed_provenance(model_file) if resume and trainer.is_chief else None

    validate, observe = _evaluations(trainer, val, test, run.observe_test)
    run_epochs(trainer, run, start, previous,
               lambda epoch, stop: trainer.run_epoch(seed, epoch, '%sepoch %d/%d' % (role, epoch + 1, epochs), stop,
                                                     progress), validate, observe)
    trainer.test_accuracy = None
    if trainer.is_chief and test is not None:
        trainer.test_accuracy = evaluate(trainer, {'test': test}, model_file, record=run.num_test is None)
    print('%sglobal step %d; variables digest %s' % (role, int(sess.run(trainer.global_step)),
                                                     variables_digest(sess, trainer.model_variables)))
    if cluster is not None:
        signal_finished(sess, sync.signal_done, role)
        if trainer.is_chief and sync.wait_done is not None:
            sess.run(sync.wait_done)  # the variables live here: stay until every worker has read them
            time.sleep(HOST_LINGER_S)
    return trainer
