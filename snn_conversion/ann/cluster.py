"""Several GPUs and several machines with TensorFlow 1.15's own runtime: the cluster of ``TF_CONFIG``, the
servers, and the synchronous step (the MobileNet's trainer built on them: :mod:`snn_conversion.ann.mobilenet`).

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

The checkpoint files and the training loops are the other workspaces' (see :mod:`snn_conversion.ann.trainer`).
"""

from __future__ import absolute_import, division, print_function

import collections
import hashlib
import json
import os
import time

import numpy as np

from snn_conversion.core.errors import UserError

__all__ = ['Cluster', 'cluster_from_env', 'device_function', 'done_queues', 'sync_ops', 'SyncOps', 'signal_finished',
           'serve_parameters', 'start_server', 'variables_digest']

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


def device_function(var_devices, op_device):
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


SyncOps = collections.namedtuple('SyncOps', 'step_op take_token signal_done release release_start wait_done')


def sync_ops(tf, cluster, opt, grads, global_step, device_fn):
    """The synchronous step of a cluster (see the module's docstring): queues on the variables' host, one
    gradient per worker per step, one token per worker per step.  Returns :data:`SyncOps` (the chief's
    ``release``, ``release_start``, ``wait_done``: None on the other workers)."""
    replicas, index = len(cluster.replicas), cluster.replica_index
    with tf.device(cluster.host):
        grad_q = tf.FIFOQueue(replicas, [g.dtype for g, _ in grads], shapes=[g.shape for g, _ in grads],
                              shared_name='snn_sync_gradients', name='sync_gradients')
        tokens = [tf.FIFOQueue(2, [tf.int64], shapes=[()], shared_name='snn_sync_token_%d' % r,
                               name='sync_token_%d' % r) for r in range(replicas)]
        # every queue op runs where its queue lives (the queue is found there by its shared name)
        step_op = grad_q.enqueue([g for g, _ in grads])
        take_token = tokens[index].dequeue()
        if cluster.is_chief:
            arrived = grad_q.dequeue_many(replicas)
    queues = done_queues(tf, cluster, replicas)
    signals = []
    for d, q in zip(cluster.var_devices(), queues):
        with tf.device(d):
            signals.append(q.enqueue(np.int32(index)))
    release = release_start = wait_done = None
    if cluster.is_chief:
        with tf.device(device_fn):
            mean = [tf.reduce_mean(a, axis=0) for a in arrived]
            apply = opt.apply_gradients(zip(mean, [v for _, v in grads]), global_step=global_step)
        with tf.device(cluster.host):
            with tf.control_dependencies([apply]):
                release = tf.group([q.enqueue(np.int64(0)) for q in tokens])
            release_start = tf.group([q.enqueue(np.int64(0)) for q in tokens])
            wait_done = queues[0].dequeue_many(replicas) if not cluster.ps_tasks else None
    return SyncOps(step_op, take_token, tf.group(signals), release, release_start, wait_done)


def done_queues(tf, cluster, replicas):
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
        queues = done_queues(tf, cluster, replicas)
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
