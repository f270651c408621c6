"""Training the ImageNet MobileNet on several GPUs and several machines with TensorFlow 1.15's own runtime.

* ``--num_gpus N``: N towers in one process, each on its own GPU with 1/N of the batch; their gradients are
  averaged and applied once (the authors' ``average_gradients``).  Variables live on the CPU.  Without GPUs
  the towers run on the CPU (soft placement), which gives the same numbers.
* Several processes: the cluster comes from ``TF_CONFIG`` (the standard variable of TensorFlow's distributed
  runtime) ::

      TF_CONFIG='{"cluster": {"worker": ["host1:2222", "host2:2222"], "ps": ["host3:2222"]},
                  "task": {"type": "worker", "index": 0}}'

  Every process starts a ``tf.distribute.Server``; the variables live on the ``ps`` tasks (round-robin) or,
  without ``ps``, on the chief (``chief`` task 0 if there is one, else worker 0).  Training is synchronous:
  at each step every worker pushes the gradient of its own part of the data into a queue on the variables'
  host, the chief averages exactly one gradient per worker, applies it and releases one token per worker;
  a worker takes its token before its next step.  So every worker sees the same variables at every step,
  and all take the same number of steps (each reads a disjoint 1/W of every epoch, cut to whole batches).
  The chief initializes (or restores, for ``--resume True``), evaluates, and writes the checkpoints; a ``ps``
  task serves until every worker has finished (see ``HOST_LINGER_S`` for how the run ends without a hang).

The checkpoint files and the training loop are the other workspaces' (see :mod:`snn_conversion.ann.trainer`).
"""

from __future__ import absolute_import, division, print_function

import collections
import hashlib
import json
import os
import time

import numpy as np

from snn_conversion.ann.trainer import Trainer, evaluate, resume_from, resumed_provenance, run_epochs
from snn_conversion.core.checkpoint import open_checkpoint, train_state_path
from snn_conversion.core.errors import UserError
from snn_conversion.core.progress import progress_bar

__all__ = ['Cluster', 'cluster_from_env', 'MobileNetTrainer', 'signal_finished', 'train_mobilenet',
           'variables_digest']

VARIABLE_OPS = ('Variable', 'VariableV2', 'VarHandleOp', 'AutoReloadVariable')
# The end of a cluster run.  A host (a ps task, or the chief without ps) leaves once every worker has signalled
# that it is finished; its reply to the last signal can then be lost with it, and TensorFlow 1.15's gRPC waits
# for a lost reply for ever (GRPC_FAIL_FAST is off).  So the host stays HOST_LINGER_S after the last signal for
# its replies to go out, and a worker gives its signal FINISHED_SIGNAL_TIMEOUT_S: the enqueue into a queue with
# room for every worker never blocks, so no reply by then means the host has left.
HOST_LINGER_S = 2.0
FINISHED_SIGNAL_TIMEOUT_S = 60.0


class Cluster(collections.namedtuple('Cluster', 'spec task_type task_index replicas')):
    """A parsed ``TF_CONFIG``: ``spec`` {job: [host:port]}, this task, and ``replicas`` = the training tasks
    [(job, index)], chief first."""

    @property
    def ps_tasks(self):
        return len(self.spec.get('ps', ()))

    @property
    def is_ps(self):
        return self.task_type == 'ps'

    @property
    def replica_index(self):
        return self.replicas.index((self.task_type, self.task_index))

    @property
    def is_chief(self):
        return not self.is_ps and self.replica_index == 0

    def device(self, job_index):
        return '/job:%s/task:%d' % job_index

    @property
    def host(self):
        """Device of the chief's shared state (queues): ps task 0, else the chief."""
        return '/job:ps/task:0' if self.ps_tasks else self.device(self.replicas[0])

    def var_devices(self):
        return ['/job:ps/task:%d' % i for i in range(self.ps_tasks)] or [self.device(self.replicas[0])]


def cluster_from_env(environ=None):
    """The :class:`Cluster` of ``$TF_CONFIG``; None when it is unset or empty (one process)."""
    environ = os.environ if environ is None else environ
    text = environ.get('TF_CONFIG', '').strip()
    if not text:
        return None
    try:
        cfg = json.loads(text)
    except ValueError as e:
        raise UserError('TF_CONFIG is not valid JSON (%s)' % e)
    cluster, task = (cfg.get('cluster'), cfg.get('task')) if isinstance(cfg, dict) else (None, None)
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise UserError('TF_CONFIG needs "cluster" ({"worker": ["host:port", ...], ...}) and "task" '
                        '({"type": ..., "index": ...})')
    for job, hosts in cluster.items():
        if job not in ('chief', 'worker', 'ps'):
            raise UserError('TF_CONFIG: job %r is not supported (chief, worker, ps)' % job)
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) and ':' in h for h in hosts):
            raise UserError('TF_CONFIG: cluster.%s must be a non-empty list of "host:port"' % job)
    if len(cluster.get('chief', ())) > 1:
        raise UserError('TF_CONFIG: at most one chief')
    replicas = [('chief', 0)] * len(cluster.get('chief', ())) + [('worker', i)
                                                                   for i in range(len(cluster.get('worker', ())))]
    if not replicas:
        raise UserError('TF_CONFIG: the cluster has no worker')
    ttype, tindex = task.get('type'), task.get('index', 0)
    if ttype not in cluster or not isinstance(tindex, int) or not 0 <= tindex < len(cluster[ttype]):
        raise UserError('TF_CONFIG: task %s/%s is not in the cluster' % (ttype, tindex))
    return Cluster({job: list(h) for job, h in cluster.items()}, ttype, tindex, replicas)


def _device_function(var_devices, op_device):
    """Variables round-robin over ``var_devices``, every other op on ``op_device``."""
    counter = [0]

    def fn(op):
        if op.type in VARIABLE_OPS:
            counter[0] += 1
            return var_devices[(counter[0] - 1) % len(var_devices)]
        return op_device
    return fn


def variables_digest(sess, variables):
    """SHA-256 of the variables' values (sorted by name): equal digests = equal variables."""
    h = hashlib.sha256()
    values = sess.run(list(variables))
    for v, value in sorted(zip(variables, values), key=lambda p: p[0].name):
        h.update(v.name.encode())
        h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


class ImageNetTrainInput(object):
    """One epoch of training batches for one worker (see :func:`snn_conversion.data.imagenet`), re-started
    each epoch with that epoch's seeded shard order, shuffle and augmentation."""

    def __init__(self, tf, folder, image_size, batch_size, num_workers=1, worker_index=0):
        from snn_conversion.data.imagenet import decode_example, resize_shorter, resize_side, shard_files
        from snn_conversion.ann.inputs import augment

        self.files, meta = shard_files(folder, 'train')
        count = meta['splits']['train']['count']
        self.steps = count // (batch_size * num_workers)
        if self.steps < 1:
            raise UserError('%d training images are fewer than one batch of %d for each of %d worker(s)'
                            % (count, batch_size, num_workers))
        self.files_ph = tf.placeholder(tf.string, (None,), name='epoch_files')
        self.seed_ph = tf.placeholder(tf.int64, (), name='epoch_seed')
        n = self.steps * batch_size
        ds = tf.data.TFRecordDataset(self.files_ph)
        ds = ds.shuffle(min(count, 10000), seed=self.seed_ph, reshuffle_each_iteration=False)
        ds = ds.shard(num_workers, worker_index).take(n)
        seed = self.seed_ph

        def prepare(record, pos):
            image, label = decode_example(tf, record)
            image = resize_shorter(tf, image, resize_side(image_size))
            pair = tf.stack([seed, (pos * num_workers + worker_index) * 8])
            return augment(tf, image, pair, image_size), label

        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.range(n))).map(prepare, num_parallel_calls=4)
        ds = ds.batch(batch_size, drop_remainder=True).prefetch(2)
        self.iterator = tf.compat.v1.data.make_initializable_iterator(ds)
        self.x, self.y = self.iterator.get_next()
        self.x.set_shape((batch_size, image_size, image_size, 3))
        self.y.set_shape((batch_size,))

    def start(self, sess, seed, epoch):
        from snn_conversion.ann.inputs import epoch_seed

        s = epoch_seed(seed, epoch)
        order = np.random.RandomState(s).permutation(len(self.files))
        sess.run(self.iterator.initializer, {self.files_ph: [self.files[i] for i in order], self.seed_ph: s})


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
            with tf.device(_device_function(var_devices, worker + '/device:CPU:0')):
                self.global_step = tf.train.get_or_create_global_step()
                self.input = ImageNetTrainInput(tf, folder, arch.input_shape[0], batch_size * num_gpus, replicas, index)
            xs, ys = tf.split(self.input.x, num_gpus), tf.split(self.input.y, num_gpus)
            opt = tf.train.AdamOptimizer(learning_rate)
            tower_grads, costs = [], []
            for i in range(num_gpus):
                with tf.device(_device_function(var_devices, worker + '/device:GPU:%d' % i)), \
                        tf.name_scope('tower_%d' % i):
                    net = build_network(arch, xs[i], k, is_train=True, reuse=i > 0)
                    cost = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ys[i],
                                                                                         logits=net.logits))
                    costs.append(cost)
                    tower_grads.append(opt.compute_gradients(cost, var_list=tf.trainable_variables()))
            with tf.device(_device_function(var_devices, worker + '/device:CPU:0')):
                self.cost = tf.add_n(costs) / float(num_gpus)
                grads = [(tf.add_n([g for g, _ in gv]) / float(num_gpus), gv[0][1]) for gv in zip(*tower_grads)]
                self.x = tf.placeholder(tf.float32, (None,) + arch.input_shape, name='x')
                self.y = tf.placeholder(tf.int64, (None,), name='y')
                self.net = build_network(arch, self.x, k, is_train=False, reuse=True)
                self.correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(self.net.logits, 1), self.y), tf.int64))
                # the network's variables (weights, BN statistics) and the step -- not the optimizer's: every
                # worker's graph holds these
                self.model_variables = tf.global_variables()
                self.reset_step = self.global_step.assign(0)
                if cluster is None:
                    self.step_op = opt.apply_gradients(grads, global_step=self.global_step)
            if cluster is not None:  # outside the device function, which would override the queues' device
                self._sync_ops(tf, opt, grads, replicas, index, _device_function(var_devices, worker + '/device:CPU:0'))
            self.variables = tf.global_variables()
            config = tf.ConfigProto(allow_soft_placement=True)
            if cluster is not None:  # talk only to this task and the variables' hosts, not to the other workers
                config.device_filters.extend(sorted(set([worker] + cluster.var_devices())))
            self.sess = tf.Session(server.target if server is not None else '', graph=self.graph, config=config)

    def _sync_ops(self, tf, opt, grads, replicas, index, device_fn):
        """Queues on the variables' host: one gradient per worker per step, one token per worker per step."""
        cluster = self.cluster
        with tf.device(cluster.host):
            grad_q = tf.FIFOQueue(replicas, [g.dtype for g, _ in grads], shapes=[g.shape for g, _ in grads],
                                  shared_name='snn_sync_gradients', name='sync_gradients')
            tokens = [tf.FIFOQueue(2, [tf.int64], shapes=[()], shared_name='snn_sync_token_%d' % r,
                                   name='sync_token_%d' % r) for r in range(replicas)]
            # every queue op runs where its queue lives (the queue is found there by its shared name)
            self.step_op = grad_q.enqueue([g for g, _ in grads])
            self.take_token = tokens[index].dequeue()
            if self.is_chief:
                arrived = grad_q.dequeue_many(replicas)
        self.done_queues = _done_queues(tf, cluster, replicas)
        signals = []
        for d, q in zip(cluster.var_devices(), self.done_queues):
            with tf.device(d):
                signals.append(q.enqueue(np.int32(index)))
        self.signal_done = tf.group(signals)
        if self.is_chief:
            with tf.device(device_fn):
                mean = [tf.reduce_mean(a, axis=0) for a in arrived]
                apply = opt.apply_gradients(zip(mean, [v for _, v in grads]), global_step=self.global_step)
            with tf.device(cluster.host):
                with tf.control_dependencies([apply]):
                    self.release = tf.group([q.enqueue(np.int64(0)) for q in tokens])
                self.release_start = tf.group([q.enqueue(np.int64(0)) for q in tokens])
                self.wait_done = self.done_queues[0].dequeue_many(replicas) if not cluster.ps_tasks else None

    def new_phase(self):
        self.sess.run(self.reset_step)  # the epoch count comes from the global step

    def count_correct(self, x, y, batch_size=100):  # ImageNet batches: 100 images at a time
        return super(MobileNetTrainer, self).count_correct(x, y, batch_size)

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


def _done_queues(tf, cluster, replicas):
    """The queues every worker signals when it is finished: one per ps task, else one on the chief."""
    queues = []
    for d in cluster.var_devices():
        with tf.device(d):
            queues.append(tf.FIFOQueue(replicas, [tf.int32], shapes=[()], shared_name='snn_done_' + d.replace('/', '_'),
                                       name='done' + d.replace('/', '_').replace(':', '')))
    return queues


def signal_finished(sess, op, role='', timeout_s=FINISHED_SIGNAL_TIMEOUT_S):
    """Run a worker's "finished" signal ``op`` with a deadline (see ``FINISHED_SIGNAL_TIMEOUT_S``); False when
    the host did not reply in time: it has left."""
    import tensorlayer_patches

    tf = tensorlayer_patches.quiet_tensorflow()
    try:
        sess.run(op, options=tf.RunOptions(timeout_in_ms=int(1000 * timeout_s)))
        return True
    except tf.errors.DeadlineExceededError:
        print('%sno reply to the finished signal within %g s: the variables\' host has left' % (role, timeout_s))
        return False


def serve_parameters(cluster, server):
    """A ps task: serve the variables until every worker has signalled that it is finished."""
    import tensorlayer_patches

    tf = tensorlayer_patches.quiet_tensorflow()
    replicas = len(cluster.replicas)
    with tf.Graph().as_default():
        queues = _done_queues(tf, cluster, replicas)
        with tf.device('/job:ps/task:%d' % cluster.task_index):
            wait = queues[cluster.task_index].dequeue_many(replicas)
        config = tf.ConfigProto(device_filters=['/job:ps/task:%d' % cluster.task_index])
        with tf.Session(server.target, config=config) as sess:
            print('ps %d: serving variables for %d worker(s)' % (cluster.task_index, replicas))
            sess.run(wait)
    print('ps %d: every worker has finished' % cluster.task_index)
    time.sleep(HOST_LINGER_S)  # the replies to the workers' signals go out


def start_server(cluster):
    import tensorlayer_patches

    tf = tensorlayer_patches.quiet_tensorflow()
    try:
        return tf.distribute.Server(tf.train.ClusterSpec(cluster.spec), job_name=cluster.task_type,
                                    task_index=cluster.task_index, start=True,
                                    config=tf.ConfigProto(allow_soft_placement=True))
    except Exception as e:  # tf.errors.* (address in use, bad host)
        raise UserError('cannot start the TensorFlow server of %s/%d at %s (%s)'
                        % (cluster.task_type, cluster.task_index, cluster.spec[cluster.task_type][cluster.task_index],
                           str(e).splitlines()[0]))


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
    role = trainer.role
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
            sess.run(trainer.release_start)
    else:
        trainer.wait_until_initialized()
    if cluster is not None:
        sess.run(trainer.take_token)  # the chief has initialized or restored everything
    start = int(sess.run(trainer.global_step)) // steps
    previous = resumed_provenance(model_file) if resume and trainer.is_chief else None

    def one_epoch(epoch, stop):
        trainer.input.start(sess, seed, epoch)
        loss_sum = 0.0
        with progress_bar(total=steps, desc='%sepoch %d/%d' % (role, epoch + 1, epochs), unit='step',
                          enabled=progress, leave=False) as bar:
            for _ in range(steps):
                loss, _ = sess.run([trainer.cost, trainer.step_op])
                if cluster is not None:
                    if trainer.is_chief:
                        sess.run(trainer.release)
                    sess.run(trainer.take_token)
                loss_sum += loss
                bar.update(1)
                if stop.requested:
                    raise KeyboardInterrupt()
        return loss_sum / steps

    run_epochs(trainer, run, start, previous, one_epoch, lambda: trainer.count_correct(*val) / float(len(val[0])))
    trainer.test_accuracy = None
    if trainer.is_chief and test is not None:
        trainer.test_accuracy = evaluate(trainer, {'test': test}, model_file, record=run.num_test is None)
    print('%sglobal step %d; variables digest %s' % (role, int(sess.run(trainer.global_step)),
                                                     variables_digest(sess, trainer.model_variables)))
    if cluster is not None:
        signal_finished(sess, trainer.signal_done, role)
        if trainer.is_chief and trainer.wait_done is not None:
            sess.run(trainer.wait_done)  # the variables live here: stay until every worker has read them
            time.sleep(HOST_LINGER_S)
    return trainer
