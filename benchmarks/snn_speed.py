"""SNN simulation speed: this repo's engine against a straightforward dense per-step float64 im2col simulator.

    python benchmarks/snn_speed.py                       # cnn1_cifar10, k=1, batch 50, T=100
    python benchmarks/snn_speed.py --arch lenet_fashionmnist --time_steps 20

Random weights, BN statistics calibrated on the (random, standardized) input batch. The baseline is the
straightforward simulator the authors' code is an instance of: NCHW tensors, the textbook im2col (index
arrays gather every receptive field), ``W_row @ x_col`` in float64 for every layer at every step, the same
neuron rule on every neuron, no early stop. A second reference does the same with a strided NHWC im2col
(this repo's dense convolution). Each baseline step costs the same, so they are timed over
--baseline_steps steps and reported per image x step; both are checked to give the engines' spike counts
after --baseline_steps steps. Peak memory: tracemalloc (numpy allocations).
"""
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import spiking_utils as su  # noqa: E402
from snn_conversion.core import architectures  # noqa: E402
from snn_conversion.core.errors import ArgumentParser  # noqa: E402


class _Im2col(object):
    """Textbook im2col of an NCHW batch: index arrays pick every receptive field (kh*kw*C, H_out*W_out*N)."""

    def __init__(self, layer):
        kh, kw, cin, _ = layer.w.shape
        h, wd, _ = layer.in_shape
        ho, wo, _ = layer.out_shape
        (self.pt, self.pb), (self.pl, self.pr) = layer.pads
        s = layer.stride
        rows = np.tile(np.repeat(np.arange(kh), kw), cin)[:, None] + s * np.repeat(np.arange(ho), wo)[None, :]
        cols = np.tile(np.arange(kw), kh * cin)[:, None] + s * np.tile(np.arange(wo), ho)[None, :]
        chans = np.repeat(np.arange(cin), kh * kw)[:, None]
        self.idx = (chans, rows, cols)
        self.k = kh * kw * cin

    def __call__(self, x):
        xp = np.pad(x, ((0, 0), (0, 0), (self.pt, self.pb), (self.pl, self.pr)), mode='constant')
        cols = xp[:, self.idx[0], self.idx[1], self.idx[2]]          # (N, K, H_out*W_out)
        return cols.transpose(1, 2, 0).reshape(self.k, -1)           # (K, H_out*W_out*N)


def dense_baseline(net, x, steps, strided=False):
    """The straightforward simulator: every layer convolves its whole (possibly all-zero) input every step,
    every neuron is updated (the same exact rule as the engines: integer count, thresholds b + n theta)."""
    n = len(x)
    layers = net.layers
    strided = strided or any(layer.depthwise for layer in layers)  # the textbook im2col is not depthwise
    ops = [None if strided else _Im2col(layer) for layer in layers]
    w_rows = [layer.w.transpose(3, 2, 0, 1).reshape(layer.w.shape[3], -1) for layer in layers]  # (C_out, K)
    shapes = [(n, layer.out_shape[2], layer.out_shape[0], layer.out_shape[1]) for layer in layers]
    thetas = [layer.theta[None, :, None, None] for layer in layers]
    bases = [layer.base[None, :, None, None] for layer in layers]
    mem = [np.zeros(sh) for sh in shapes]
    count = [np.zeros(sh, dtype=np.int64) for sh in shapes]
    encoded = x.astype(np.float64) * 2.0 ** net.k
    for t in range(steps):
        inp = encoded.transpose(0, 3, 1, 2) if t == 0 else np.zeros_like(encoded.transpose(0, 3, 1, 2))
        for i, layer in enumerate(layers):
            if strided:
                out = su.block_conv(inp.transpose(0, 2, 3, 1), layer.w, layer.stride, layer.pads,
                                    layer.depthwise).transpose(0, 3, 1, 2)
            else:
                c, ho, wo = shapes[i][1:]
                out = (w_rows[i] @ ops[i](inp)).reshape(c, ho, wo, n).transpose(3, 0, 1, 2)
            mem[i] += out
            up = mem[i] > bases[i] + (count[i] + 1) * thetas[i]
            down = (count[i] > 0) & (mem[i] <= bases[i] + count[i] * thetas[i])
            spikes = up.astype(np.int64) - down
            count[i] += spikes
            inp = spikes.astype(np.float64)
    return [c.transpose(0, 2, 3, 1) for c in count]


def measure(fn):
    tracemalloc.start()
    t0 = time.time()
    out = fn()
    seconds = time.time() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak / 2.0 ** 20


def main(argv=None):
    p = ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--arch', default='cnn1_cifar10',
                   help='a registered architecture (%s) or a MobileNet variant such as '
                        'mobilenet_imagenet_w0.25_s128_c1000' % ', '.join(architectures.names()))
    p.add_argument('--k', type=int, default=1)
    p.add_argument('--batch_size', type=int, default=50)
    p.add_argument('--time_steps', type=int, default=100)
    p.add_argument('--baseline_steps', type=int, default=10, help='steps the dense baselines are timed over')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                   help='processes for the last row (default: the CPU count)')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    try:
        arch = architectures.get(a.arch)
    except ValueError as e:
        p.error(str(e))
    if arch.uses_B:
        p.error('the benchmark covers the multi-step (negative-spike) family')
    rng = np.random.RandomState(a.seed)
    x = rng.randn(a.batch_size, *arch.input_shape).astype(np.float32) if arch.dataset in ('cifar10', 'cifar100', 'imagenet') \
        else rng.rand(a.batch_size, *arch.input_shape).astype(np.float32)
    params = su.random_calibrated_params(arch, x, rng, k=a.k)
    print('%s (%s), k=%d, batch %d, T=%d, random weights with calibrated BN, %d CPU(s)'
          % (arch.name, arch.string, a.k, a.batch_size, a.time_steps, os.cpu_count() or 1))

    net = su.SpikingNetwork.from_params(arch, params, a.k)
    trace, t_ours, mem_ours = measure(lambda: net.simulate(x, a.time_steps))
    dense_engine = su.SpikingNetwork.from_params(arch, params, a.k, engine='dense')
    trace_d, t_dense, mem_dense = measure(lambda: dense_engine.simulate(x, a.time_steps))
    steps = min(a.baseline_steps, a.time_steps)
    counts_base, t_base, mem_base = measure(lambda: dense_baseline(net, x, steps))
    counts_strided, t_strided, mem_strided = measure(lambda: dense_baseline(net, x, steps, strided=True))
    counts_ours = net.simulate(x, steps).counts
    same = all((c1 == c2).all() and (c1 == c3).all() for c1, c2, c3 in zip(counts_base, counts_strided, counts_ours))
    same_full = all((c1 == c2).all() for c1, c2 in zip(trace.counts, trace_d.counts))
    if a.workers > 1:
        with su.SpikingNetwork.from_params(arch, params, a.k).set_workers(a.workers) as par:
            par.simulate(x[:2 * a.workers], 2)  # start the workers
            trace_p, t_par, mem_par = measure(lambda: par.simulate(x, a.time_steps))
        same_full &= all((c1 == c2).all() for c1, c2 in zip(trace.counts, trace_p.counts))

    rate = dict(ours=a.batch_size * a.time_steps / t_ours, dense=a.batch_size * a.time_steps / t_dense,
                base=a.batch_size * steps / t_base, strided=a.batch_size * steps / t_strided)
    if a.workers > 1:
        rate['par'] = a.batch_size * a.time_steps / t_par
    print('network quiescent after %d of %d steps; %.0f spikes and %.3g SOPs per image'
          % (trace.steps_run, a.time_steps, trace.spike_num[-1] / a.batch_size, trace.sop_num[-1] / a.batch_size))
    print('%-58s %14s %9s %9s %11s' % ('simulator', 'images*steps/s', 'peak MiB', 'speed-up', 'vs strided'))
    rows = [('dense per-step float64 im2col, no early stop (baseline)', 'base', mem_base),
            ('  the same with a strided NHWC im2col', 'strided', mem_strided),
            ("engine='dense' (zero-skip, early stop)", 'dense', mem_dense),
            ("engine='sparse' (default: event-driven hybrid)", 'ours', mem_ours)]
    if a.workers > 1:  # peak memory of this process only; each worker holds half the state
        rows.append(("engine='sparse', --workers %d (1 BLAS thread each)" % a.workers, 'par', float('nan')))
    for label, key, mem in rows:
        print('%-58s %14.1f %9.0f %8.1fx %10.1fx' % (label, rate[key], mem, rate[key] / rate['base'],
                                                     rate[key] / rate['strided']))
    print('identical spike counts: baselines vs engine after %d steps: %s; engines after %d steps: %s'
          % (steps, same, a.time_steps, same_full))
    return 0 if (same and same_full) else 1


if __name__ == '__main__':
    sys.exit(main())
