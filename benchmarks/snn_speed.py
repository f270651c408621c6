"""SNN simulation speed: this repo's engine against a straightforward dense per-step float64 im2col simulator.

    python benchmarks/snn_speed.py                       # cnn1_cifar10, k=1, batch 50, T=100
    python benchmarks/snn_speed.py --arch lenet_fashionmnist --time_steps 20

Random weights, BN statistics calibrated on the (random, standardized) input batch. The baseline runs the
same neuron rule with a full convolution of every layer at every step and no early stop; since each of its
steps costs the same, it is timed over --baseline_steps steps and reported per image x step. Both are
checked to give identical spike counts after --baseline_steps steps. Peak memory: tracemalloc (numpy).
"""
import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import spiking_utils as su  # noqa: E402
from tensorlayer_patches import architectures  # noqa: E402


def dense_baseline(net, x, steps):
    """The straightforward simulator: every layer convolves its whole (possibly all-zero) input every step."""
    n = len(x)
    for layer in net.layers:
        layer.reset(n)
    encoded = x.astype(np.float64) * 2.0 ** net.k
    for t in range(steps):
        inp = encoded if t == 0 else np.zeros_like(encoded)
        for layer in net.layers:
            inp = layer.step(inp).astype(np.float64)
    return [layer.count.copy() for layer in net.layers]


def measure(fn):
    tracemalloc.start()
    t0 = time.time()
    out = fn()
    seconds = time.time() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak / 2.0 ** 20


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--arch', default='cnn1_cifar10', choices=architectures.names())
    p.add_argument('--k', type=int, default=1)
    p.add_argument('--batch_size', type=int, default=50)
    p.add_argument('--time_steps', type=int, default=100)
    p.add_argument('--baseline_steps', type=int, default=5, help='steps the dense baseline is timed over')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    arch = architectures.get(a.arch)
    if arch.uses_B:
        p.error('the benchmark covers the multi-step (negative-spike) family')
    rng = np.random.RandomState(a.seed)
    x = rng.randn(a.batch_size, *arch.input_shape).astype(np.float32) if arch.dataset.startswith('cifar') \
        else rng.rand(a.batch_size, *arch.input_shape).astype(np.float32)
    params = su.random_calibrated_params(arch, x, rng, k=a.k)
    print('%s (%s), k=%d, batch %d, T=%d, random weights with calibrated BN, %d CPU(s)'
          % (arch.name, arch.string, a.k, a.batch_size, a.time_steps, os.cpu_count() or 1))

    net = su.SpikingNetwork.from_params(arch, params, a.k)
    trace, t_ours, mem_ours = measure(lambda: net.simulate(x, a.time_steps))
    dense_engine = su.SpikingNetwork.from_params(arch, params, a.k, engine='dense')
    trace_d, t_dense, mem_dense = measure(lambda: dense_engine.simulate(x, a.time_steps))
    base_net = su.SpikingNetwork.from_params(arch, params, a.k, engine='dense')
    steps = min(a.baseline_steps, a.time_steps)
    counts_base, t_base, mem_base = measure(lambda: dense_baseline(base_net, x, steps))
    counts_ours = net.simulate(x, steps).counts
    same = all((c1 == c2).all() for c1, c2 in zip(counts_base, counts_ours))
    same_full = all((c1 == c2).all() for c1, c2 in zip(trace.counts, trace_d.counts))

    rate_ours = a.batch_size * a.time_steps / t_ours
    rate_dense = a.batch_size * a.time_steps / t_dense
    rate_base = a.batch_size * steps / t_base
    print('network quiescent after %d of %d steps; %.0f spikes and %.3g SOPs per image'
          % (trace.steps_run, a.time_steps, trace.spike_num[-1] / a.batch_size, trace.sop_num[-1] / a.batch_size))
    print('%-52s %14s %10s %9s' % ('simulator', 'images*steps/s', 'peak MiB', 'speed-up'))
    print('%-52s %14.1f %10.0f %9s' % ('dense per-step float64 im2col, no early stop (baseline)', rate_base, mem_base,
                                      '1.0x'))
    print('%-52s %14.1f %10.0f %8.1fx' % ("engine='dense' (zero-skip, early stop)", rate_dense, mem_dense,
                                         rate_dense / rate_base))
    print('%-52s %14.1f %10.0f %8.1fx' % ("engine='sparse' (default: event-driven hybrid)", rate_ours, mem_ours,
                                         rate_ours / rate_base))
    print('identical spike counts: baseline vs engine after %d steps: %s; dense vs sparse engine after %d steps: %s'
          % (steps, same, a.time_steps, same_full))
    return 0 if (same and same_full) else 1


if __name__ == '__main__':
    sys.exit(main())
