"""Where one training epoch of a table row goes, on one core, and how fast its convolutions run.

    python benchmarks/training_profile.py --row lenet_mnist_sg_k1B2 --data_dir ../shared/data/mnist
    python benchmarks/training_profile.py --row lenet_mnist_int_k0_WQ --xla True --data_dir ../shared/data/mnist

The row's own training graph (``Trainer``, the row's k, B, weight quantization, batch size) on its own input
pipeline, one intra-op and one inter-op thread (``--threads 1``, as the table runs):

1. the step: ``--steps`` untimed warm-up steps, then ``--steps`` timed ones (seconds per step, x the epoch's
   steps); then ``--steps`` more traced (TensorFlow's FULL_TRACE step statistics), each op's time summed by
   what it does: convolution forward, filter gradient, input gradient, the dense layer, the quantizer's and
   BatchNorm's elementwise ops, the optimizer, input, other.  Traced ops run one at a time on one thread, so the
   shares add up to the traced step; the trace itself adds a little to each small op.
2. the work outside the steps of an epoch: validation (10,000 images), the test observation (10,000 images),
   the checkpoint and training-state writes.
3. the convolutions' achieved GFLOP/s (2 x N x Ho x Wo x Co x Kh x Kw x Ci per pass; the two gradients cost the
   same each) beside the machine's attainable rate for the very same shapes: a plain TensorFlow graph of each
   convolution alone, forward + both gradients, timed the same way.

With ``--xla True`` the step runs as XLA clusters that the trace cannot split by op: only the step time and the
epoch's composition are printed (XLA cannot be switched off again in the process: run it separately).
Nothing here is asserted; the figures go to RESULTS.md's notes on cost.
"""
from __future__ import absolute_import, division, print_function

import collections
import os
import sys
import tempfile
import time

import numpy as np

from snn_conversion.ann import speed
from snn_conversion.core import architectures
from snn_conversion.core.errors import ArgumentParser, UserError, parse_bool, run_cli
from snn_conversion.core.flags import add_data_dir_flag, TIME_STEPS
from snn_conversion.reproduce.tables import all_rows

CATEGORIES = collections.OrderedDict([
    ('conv forward', ('Conv2D',)),
    ('conv filter gradient', ('Conv2DBackpropFilter',)),
    ('conv input gradient', ('Conv2DBackpropInput',)),
    ('dense layer (forward + gradients)', ('MatMul',)),
    ('optimizer (Adam)', ('ApplyAdam', 'ResourceApplyAdam')),
    ('pooling', ('MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad')),
    ('input pipeline', ('IteratorGetNext',)),
])
ELEMENTWISE = 'quantizer, BatchNorm and other elementwise ops'


def category(op):
    for name, ops in CATEGORIES.items():
        if op in ops:
            return name
    return ELEMENTWISE


def find_row(row_id):
    for table, row in all_rows():
        if row.id == row_id:
            return table, row
    raise UserError('no table row %r (see python reproduce.py --list)' % row_id)


def ancestors(tensor):
    """Every op the value of ``tensor`` depends on."""
    seen, todo = set(), [tensor.op]
    while todo:
        op = todo.pop()
        if op in seen:
            continue
        seen.add(op)
        todo.extend(t.op for t in op.inputs)
        todo.extend(op.control_inputs)
    return seen


def conv_flops(loss, batch):
    """{Conv2D op of the training loss's forward pass: (FLOPs of one pass, input shape, filter shape, strides,
    padding)}."""
    out = {}
    for op in ancestors(loss):
        if op.type != 'Conv2D':
            continue
        n, _, _, ci = [d if d is not None else batch for d in op.inputs[0].shape.as_list()]
        kh, kw, _, co = op.inputs[1].shape.as_list()
        _, ho, wo, _ = op.outputs[0].shape.as_list()
        out[op.name] = (2.0 * n * ho * wo * co * kh * kw * ci, [n] + op.inputs[0].shape.as_list()[1:],
                        [kh, kw, ci, co], op.get_attr('strides'), op.get_attr('padding'))
    return out


def time_runs(run, steps):
    for _ in range(steps):
        run()
    t0 = time.time()
    for _ in range(steps):
        run()
    return (time.time() - t0) / steps


def attainable(tf, shapes, steps):
    """Seconds of forward + filter gradient + input gradient of each convolution alone (one thread)."""
    out = {}
    for name, (_, x_shape, w_shape, strides, padding) in shapes.items():
        g = tf.Graph()
        with g.as_default():
            x = tf.Variable(tf.random.normal(x_shape))
            w = tf.Variable(tf.random.normal(w_shape, stddev=0.1))
            y = tf.nn.conv2d(x, w, strides, padding.decode() if isinstance(padding, bytes) else padding)
            gx, gw = tf.gradients(tf.reduce_sum(y * y), [x, w])
            fetch = [y, gx, gw]  # fetched: grappler prunes ops that are only control dependencies
            sess = tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=1,
                                                             inter_op_parallelism_threads=1))
            sess.run(tf.global_variables_initializer())
            out[name] = time_runs(lambda: sess.run(fetch), steps)
            sess.close()
    return out


def profile(row_id, data_dir, steps, xla):
    import tensorlayer_patches
    from snn_conversion.ann.settings import Network
    from snn_conversion.ann.trainer import Trainer, save_epoch
    from snn_conversion.data.datasets import load_dataset

    speed.tune_malloc()
    if xla:
        speed.use_xla()
    tf = tensorlayer_patches.quiet_tensorflow()
    table, row = find_row(row_id)
    arch = architectures.get(row.arch)
    ternary = True if '--use_ternary' in row.train_flags else None
    k = 0 if row.full_precision else row.k
    net = Network(arch, k, row.B, ternary, row.full_precision)
    data = load_dataset(arch.dataset, data_dir=data_dir)
    (x_tr, y_tr) = data['train']
    trainer = Trainer(net, row.learning_rate, 0, batch_size=row.batch_size, threads=1, train_data=data['train'])
    trainer.input.start(trainer.sess, 0, 0)
    step_ops = [trainer.cost, trainer.train_op]
    per_step = time_runs(lambda: trainer.sess.run(step_ops), steps)
    n_steps = -(-len(x_tr) // row.batch_size)
    print('%s (%s, %s), batch %d, %d steps per epoch, XLA %s' % (row.id, table.name, row.label, row.batch_size,
                                                                n_steps, 'on' if xla else 'off'))
    print('  step: %.1f ms  -> training steps of one epoch %.1f s' % (1e3 * per_step, per_step * n_steps))

    shapes = conv_flops(trainer.cost, row.batch_size)
    if not xla:
        totals = collections.defaultdict(float)
        by_op = collections.defaultdict(float)
        meta = tf.RunMetadata()
        opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        for _ in range(steps):
            trainer.sess.run(step_ops, options=opts, run_metadata=meta)
            for dev in meta.step_stats.dev_stats:
                for node in dev.node_stats:
                    op = node.timeline_label.split('(')[0].split(' = ')[-1].strip() or node.node_name
                    op = op.split(' ')[0]
                    seconds = node.op_end_rel_micros * 1e-6
                    totals[category(op)] += seconds / steps
                    by_op[op] += seconds / steps
        traced = sum(totals.values())
        print('  traced step %.1f ms, by what the ops do:' % (1e3 * traced))
        for name in list(CATEGORIES) + [ELEMENTWISE]:
            if totals.get(name):
                print('    %-46s %7.1f ms  %5.1f %%' % (name, 1e3 * totals[name], 100 * totals[name] / traced))
        top = sorted(((v, op) for op, v in by_op.items() if category(op) == ELEMENTWISE), reverse=True)[:8]
        print('    largest elementwise ops: %s' % ', '.join('%s %.1f ms' % (op, 1e3 * v) for v, op in top))
        flops = sum(v[0] for v in shapes.values())
        for name, label in (('conv forward', 'forward'), ('conv filter gradient', 'filter gradient'),
                            ('conv input gradient', 'input gradient')):
            # the first convolution has no input gradient
            passes = flops if name != 'conv input gradient' else flops - min(v[0] for v in shapes.values())
            if totals.get(name):
                print('  convolutions, %-16s %6.2f GFLOP/step  %6.1f GFLOP/s achieved'
                      % (label, passes / 1e9, passes / totals[name] / 1e9))
    alone = attainable(tf, shapes, max(3, steps // 2))
    total_flops = sum(3 * v[0] for v in shapes.values())
    print('  the same convolutions alone, forward + both gradients: %.1f ms, %.1f GFLOP/s attainable (%s)'
          % (1e3 * sum(alone.values()), total_flops / sum(alone.values()) / 1e9,
             ', '.join('%s %.1f' % (n.split('/')[1], 3 * shapes[n][0] / alone[n] / 1e9) for n in sorted(shapes))))

    x_val, y_val = data['val']
    t0 = time.time()
    trainer.count_correct(x_val, y_val)
    val = time.time() - t0
    t0 = time.time()
    trainer.count_correct(*data['test'])
    test = time.time() - t0
    scratch = tempfile.mkdtemp(prefix='snn_profile_')
    try:
        t0 = time.time()
        save_epoch(trainer, os.path.join(scratch, 'p.npz'), 1, row.learning_rate,
                   net.checkpoint_meta())
        save = time.time() - t0
    finally:
        for f in os.listdir(scratch):
            os.remove(os.path.join(scratch, f))
        os.rmdir(scratch)
    epoch = per_step * n_steps + val + test + save
    print('  one epoch ~ %.1f s: steps %.1f s (%.1f %%), validation %.1f s, test observation %.1f s, '
          'checkpoint + training state %.2f s' % (epoch, per_step * n_steps, 100 * per_step * n_steps / epoch,
                                                  val, test, save))
    trainer.sess.close()


def main(argv):
    p = ArgumentParser(description='Profile one training epoch of a table row on one core (see the docstring).')
    p.add_argument('--row', required=True, help='a row id of python reproduce.py --list, e.g. lenet_mnist_sg_k1B2')
    add_data_dir_flag(p)
    p.add_argument('--steps', type=TIME_STEPS, default=20, help='warm-up, timed and traced steps, each (default 20)')
    p.add_argument('--xla', type=parse_bool, default=False, help='True: with XLA auto-clustering, as the tables')
    a = p.parse_args(argv)
    profile(a.row, a.data_dir, a.steps, a.xla)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
