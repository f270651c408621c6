"""SNN simulation speed: this repo's engine against a straightforward dense per-step float64 im2col simulator.

    python benchmarks/snn_speed.py                       # cnn1_cifar10, k=1, batch 50, T=100
    python benchmarks/snn_speed.py --arch lenet_fashionmnist --time_steps 20
    python benchmarks/snn_speed.py --arch lenet_mnist --checkpoint MNIST/lenet_mnist_k1.npz --data_dir ../shared/data/mnist

Random weights, BN statistics calibrated on the (random, standardized) input batch. The baseline is the
straightforward simulator the authors' code is an instance of: NCHW tensors, the textbook im2col (index
arrays gather every receptive field), ``W_row @ x_col`` in float64 for every layer at every step, the same
neuron rule on every neuron, no early stop. A second reference does the same with a strided NHWC im2col
(this repo's dense convolution). Each baseline step costs the same, so they are timed over
--baseline_steps steps and reported per image x step; both are checked to give the engines' spike counts
after --baseline_steps steps. Peak memory: tracemalloc (numpy allocations).

--peer PYTHON also runs benchmarks/peer_spikingjelly.py under PYTHON (a separate environment with torch and
spikingjelly; not a dependency of the project) on the same weights, thresholds and encoded batch, saved to an
.npz, right after the engines' runs; its rates (single- and multi-step), its check against this repository's
spike counts and the ratios are printed and recorded.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

from snn_conversion.core.blas import kernel_report, select_kernels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

select_kernels()  # before numpy loads: OpenBLAS's AVX2 kernels unless $OPENBLAS_CORETYPE says otherwise

import numpy as np  # noqa: E402
import spiking_utils as su  # noqa: E402
from snn_conversion.snn import backends  # noqa: E402
from snn_conversion.data.datasets import load_test_inputs  # noqa: E402
from snn_conversion.core import architectures  # noqa: E402
from snn_conversion.core.errors import ArgumentParser, run_cli  # noqa: E402
from snn_conversion.core.flags import add_data_dir_flag, BATCH, K_LEVEL, PROCESSES, SEED, TIME_STEPS  # noqa: E402
from snn_conversion.core.fileio import atomic_write_text  # noqa: E402
from snn_conversion.core.provenance import command_line, git_revision  # noqa: E402
from snn_conversion.core.machine import cpu_model, machine_description  # noqa: E402
from snn_conversion.data.synthetic import SIZES  # noqa: E402


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


COMPONENTS = (('integrate_dense', 'busy steps: whole-input convolution'),
              ('integrate_events', 'sparse steps: event kernel'),
              ('fire', 'neuron update + event extraction'),
              ('busy_step', 'busy pointwise steps: certified GEMM + neuron update'),
              ('fused_step', 'fused depthwise/pointwise steps'))


def component_shares(net, x, time_steps):
    """Seconds per backend call of one timed run of ``net`` (single process) and the total: where the time goes.
    A call made inside another timed one counts for the outer one only; a backend without a component (the
    fused steps are the compiled backend's) spends nothing there."""
    backend = backends.backend_class(net.engine)
    spent = {name: 0.0 for name, _ in COMPONENTS}
    saved = {name: getattr(backend, name) for name, _ in COMPONENTS if hasattr(backend, name)}
    depth = [0]

    def timed(name, fn):
        def call(*args):
            t0 = time.time()
            depth[0] += 1
            try:
                return fn(*args)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    spent[name] += time.time() - t0
        return call
    for name, fn in saved.items():
        setattr(backend, name, timed(name, fn))
    try:
        t0 = time.time()
        net.simulate(x, time_steps)
        total = time.time() - t0
    finally:
        for name, fn in saved.items():
            setattr(backend, name, fn)
    return spent, total


def network_and_inputs(a, p):
    """(architecture, parameters or None, checkpoint path or None, inputs, description)."""
    try:
        arch = architectures.get(a.arch)
    except ValueError as e:
        p.error(str(e))
    if arch.uses_B:
        p.error('the benchmark covers the multi-step families (negative-spike, all-integer)')
    rng = np.random.RandomState(a.seed)
    if a.checkpoint:
        if not os.path.isfile(a.checkpoint):
            p.error('--checkpoint %s not found' % a.checkpoint)
        x, _ = load_test_inputs(arch.dataset, data_dir=a.data_dir, num_test=a.batch_size)
        return arch, None, a.checkpoint, np.asarray(x), 'trained checkpoint %s, the first %d test images' % (
            os.path.basename(a.checkpoint), len(x))
    x = rng.randn(a.batch_size, *arch.input_shape).astype(np.float32) if arch.dataset in ('cifar10', 'cifar100', 'imagenet') \
        else rng.rand(a.batch_size, *arch.input_shape).astype(np.float32)
    params = su.random_calibrated_params(arch, x, rng, k=a.k)
    return arch, params, None, x, 'random weights with calibrated BN'


def _parser():
    p = ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--arch', default='cnn1_cifar10',
                   help='a registered architecture (%s) or a MobileNet variant such as '
                        'mobilenet_imagenet_w0.25_s128_c1000' % ', '.join(architectures.names()))
    p.add_argument('--k', type=K_LEVEL, default=1, help='k (random network; a checkpoint brings its own)')
    p.add_argument('--checkpoint', default=None,
                   help='a trained checkpoint of --arch instead of random weights (e.g. MNIST/lenet_mnist_k1.npz)')
    add_data_dir_flag(p, "the test set's folder, with --checkpoint (default: the usual search)")
    p.add_argument('--batch_size', type=BATCH, default=50)
    p.add_argument('--time_steps', type=TIME_STEPS, default=100)
    p.add_argument('--baseline_steps', type=TIME_STEPS, default=10, help='steps the dense baselines are timed over')
    p.add_argument('--workers', type=PROCESSES, default=os.cpu_count() or 1,
                   help='processes for the last row (default: the CPU count)')
    p.add_argument('--seed', type=SEED, default=0)
    p.add_argument('--json', default=None, metavar='PATH',
                   help='also write what was measured (with the date, machine, CPU, BLAS kernels, git revision and '
                        'command) to PATH: RESULTS.md\'s throughput section is generated from '
                        'benchmarks/results/*.json')
    p.add_argument('--peer', default=None, metavar='PYTHON',
                   help='also run benchmarks/peer_spikingjelly.py (SpikingJelly on torch) under this Python, on the '
                        'same network and batch, and record its rates and the ratios')
    p.add_argument('--peer_threads', type=PROCESSES, default=2, help="the peer's torch threads")
    return p


def save_network(net, x, time_steps, path, check=4):
    """What the peer needs, to an .npz: per layer its HWIO weights, stride, pads (top, bottom, left, right) and
    thresholds (theta, base); the readout; the encoded batch; T; this repository's spike counts of the first
    ``check`` images (the peer's check)."""
    arrays = dict(n_layers=len(net.layers), w_out=net.w_out, x=net.encode(x), time_steps=time_steps)
    counts = net.simulate(x[:check], time_steps).counts
    for i, layer in enumerate(net.layers):
        if layer.depthwise or layer.integer:
            raise ValueError('--peer maps plain float convolutions only (%s is not one)' % layer.name)
        arrays.update({'w_%d' % i: layer.w, 'stride_%d' % i: layer.stride, 'pads_%d' % i: np.ravel(layer.pads),
                       'theta_%d' % i: np.broadcast_to(layer.theta, layer.out_shape[2:]),
                       'base_%d' % i: np.broadcast_to(layer.base, layer.out_shape[2:]), 'check_counts_%d' % i:
                       counts[i]})
    np.savez(path, **arrays)


def run_peer(a, net, x):
    """The peer's figures (its JSON) on the same network and batch."""
    script = os.path.join(ROOT, 'benchmarks', 'peer_spikingjelly.py')
    with tempfile.TemporaryDirectory() as tmp:
        path, out = os.path.join(tmp, 'network.npz'), os.path.join(tmp, 'peer.json')
        save_network(net, x, a.time_steps, path)
        p = subprocess.run([a.peer, script, path, '--threads', str(a.peer_threads), '--json', out],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        if p.returncode:
            raise RuntimeError('the peer failed:\n' + p.stdout[-3000:])
        with open(out) as f:
            return json.load(f)


def peer_ratios(peer, result):
    """This repository's rates against the peer's single-step rate: per computed step (the early stop taken
    out) and overall, in one process and with the workers."""
    rates = dict((r['key'], r['rate']) for r in result['rows'])
    ours = rates['compiled'] if 'compiled' in rates else rates['sparse']
    per_step = ours * result['steps_run'] / float(result['time_steps'])
    out = dict(per_computed_step=round(per_step / peer['single_rate'], 2),
               overall=round(ours / peer['single_rate'], 2), per_computed_step_rate=round(per_step, 1))
    if 'par' in rates:
        out.update(overall_workers=round(rates['par'] / peer['single_rate'], 2),
                   per_computed_step_workers=round(rates['par'] * result['steps_run'] / float(result['time_steps'])
                                                   / peer['single_rate'], 2))
    return out


LABELS = {'base': 'dense per-step float64 im2col, no early stop (baseline)',
          'strided': 'the same with a strided NHWC im2col',
          'dense': "engine='dense' (reference: zero-skip, early stop)",
          'sparse': "engine='sparse' (numpy/scipy event-driven hybrid)",
          'compiled': "engine='compiled' (default: numba, certified float32)"}


def _time_all(a, nets, engines, x, build):
    """Every engine's run, the baselines' and the workers': (trace, {key: (seconds, peak MiB, steps timed)},
    counts agree)."""
    for net in nets.values():
        net.simulate(x[:2], a.time_steps)  # compiled kernels are loaded (or compiled) here, not in the timed runs
    runs = {e: measure(lambda: nets[e].simulate(x, a.time_steps)) for e in engines}
    trace = runs[engines[-1]][0]
    steps = min(a.baseline_steps, a.time_steps)
    ref = nets['dense']
    counts_base, t_base, mem_base = measure(lambda: dense_baseline(ref, x, steps))
    counts_strided, t_strided, mem_strided = measure(lambda: dense_baseline(ref, x, steps, strided=True))
    counts_ours = nets[engines[-1]].simulate(x, steps).counts
    same = all((c1 == c2).all() and (c1 == c3).all() for c1, c2, c3 in zip(counts_base, counts_strided, counts_ours))
    same &= all(all((c1 == c2).all() for c1, c2 in zip(runs['dense'][0].counts, runs[e][0].counts))
                for e in engines)
    timed = dict((e, (runs[e][1], runs[e][2], a.time_steps)) for e in engines)
    timed.update(base=(t_base, mem_base, steps), strided=(t_strided, mem_strided, steps))
    if a.workers > 1:
        with build(engines[-1]).set_workers(a.workers) as net_par:
            net_par.simulate(x[:2 * a.workers], a.time_steps)  # start the workers, load their kernels
            trace_p, t_par, _ = measure(lambda: net_par.simulate(x, a.time_steps))
        same &= all((c1 == c2).all() for c1, c2 in zip(trace.counts, trace_p.counts))
        timed['par'] = (t_par, None, a.time_steps)
    return trace, timed, same


def _rows(a, engines, trace, timed, n_img):
    """The table's rows: label, rate (images x steps / s), GSOP/s, peak MiB, speed-ups."""
    sops = trace.sop_num[-1] / n_img
    keys = ['base', 'strided'] + list(engines) + (['par'] if 'par' in timed else [])
    rate = dict((key, n_img * timed[key][2] / timed[key][0]) for key in keys)
    out = []
    for key in keys:
        label = LABELS.get(key) or "engine='%s', --workers %d (1 thread each)" % (engines[-1], a.workers)
        gsops = None if key in ('base', 'strided') else sops * rate[key] / a.time_steps / 1e9
        out.append(dict(key=key, label=label, rate=round(rate[key], 1), gsops=None if gsops is None else
                        round(gsops, 3), peak_mib=None if timed[key][1] is None else round(timed[key][1]),
                        speedup=round(rate[key] / rate['base'], 2), vs_strided=round(rate[key] / rate['strided'], 2)))
    return out


def _where_time_goes(engines, nets, x, a):
    """{engine: [(component, % of its time)]} and the compiled engine's certification counts."""
    shares = {}
    for e in engines[1:]:
        spent, total = component_shares(nets[e], x, a.time_steps)
        shown = [(name, text) for i, (name, text) in enumerate(COMPONENTS) if i < 3 or spent[name]]
        parts = [(text, round(100.0 * spent[name] / total, 1)) for name, text in shown]
        shares[e] = parts + [('the rest (encoding, counting, readout, bookkeeping)',
                              round(100.0 * (total - sum(spent.values())) / total, 1))]
    certified = None
    if 'compiled' in engines:
        st = backends.backend_class('compiled').stats
        st.update(examined=0, flagged=0)
        nets['compiled'].simulate(x, a.time_steps)
        certified = dict(flagged=int(st['flagged']), examined=int(st['examined']))
    return shares, certified


def _print(result):
    print('network quiescent after %d of %d steps; %.0f spikes and %.3g SOPs per image'
          % (result['steps_run'], result['time_steps'], result['spikes_per_image'], result['sops_per_image']))
    print('%-60s %14s %9s %9s %9s %11s' % ('simulator', 'images*steps/s', 'GSOP/s', 'peak MiB', 'speed-up',
                                           'vs strided'))
    nan = float('nan')
    for r in result['rows']:
        print('%-60s %14.1f %9.2f %9.0f %8.1fx %10.1fx' % (
            r['label'], r['rate'], nan if r['gsops'] is None else r['gsops'],
            nan if r['peak_mib'] is None else r['peak_mib'], r['speedup'], r['vs_strided']))
    for e, parts in sorted(result['time_shares'].items()):
        print("where engine='%s' spends its time: %s" % (e, ', '.join('%s %.0f %%' % p for p in parts)))
    cert = result['certified']
    if cert:
        print('certified float32: %d of %d examined neurons (%.3f %%) recomputed in float64'
              % (cert['flagged'], cert['examined'], 100.0 * cert['flagged'] / max(cert['examined'], 1)))
    print('identical spike counts: baselines vs engine after %d steps, engines after %d steps: %s'
          % (result['baseline_steps'], result['time_steps'], result['identical']))
    peer = result.get('peer')
    if peer:
        r = peer['ratios']
        print('peer %s, %d threads: single-step %.1f, multi-step %.1f images x steps/s; this repository: %.2fx per '
              'computed step, %.2fx overall%s' % (peer['peer'], peer['threads'], peer['single_rate'],
                                                  peer['multi_rate'], r['per_computed_step'], r['overall'],
                                                  ', %.2fx with the workers' % r['overall_workers']
                                                  if 'overall_workers' in r else ''))


def _portable(argv, peer):
    """The command's words with the peer's interpreter (a path of this machine) written as PEER_PYTHON."""
    return ['PEER_PYTHON' if peer and word == peer else word for word in argv]


def main(argv=None):
    p = _parser()
    a = p.parse_args(argv)
    arch, params, checkpoint, x, what = network_and_inputs(a, p)

    def build(engine):
        if checkpoint:
            return su.SpikingNetwork.from_checkpoint(checkpoint, arch, engine=engine)
        return su.SpikingNetwork.from_params(arch, params, a.k, engine=engine)
    usable = [e for e in reversed(backends.names()) if backends.available(e)]
    engines = sorted(usable, key=lambda e: backends.backend_class(e).event_driven)  # the dense reference first
    nets = {e: build(e) for e in engines}
    blas = kernel_report()
    print('%s (%s), k=%d, batch %d, T=%d, %s, %d CPU(s)\nBLAS: %s' % (arch.name, arch.string, nets['dense'].k,
          len(x), a.time_steps, what, os.cpu_count() or 1, blas))
    trace, timed, same = _time_all(a, nets, engines, x, build)
    peer = run_peer(a, nets[engines[-1]], x) if a.peer else None
    shares, certified = _where_time_goes(engines, nets, x, a)
    n_img = len(x)
    result = dict(
        benchmark='snn_speed', date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), machine=machine_description(),
        cpu=cpu_model(), cpus_used=len(os.sched_getaffinity(0)), blas=blas, git_revision=git_revision(),
        command=command_line([os.path.relpath(os.path.abspath(__file__), ROOT)] + _portable(argv or [], a.peer)),
        network='%s (%s)' % (arch.name, arch.string), k=int(nets['dense'].k), batch=n_img, time_steps=a.time_steps,
        inputs=what, baseline_steps=min(a.baseline_steps, a.time_steps), steps_run=int(trace.steps_run),
        spikes_per_image=round(float(trace.spike_num[-1]) / n_img, 1),
        sops_per_image=round(float(trace.sop_num[-1]) / n_img, 1), rows=_rows(a, engines, trace, timed, n_img),
        time_shares=shares, certified=certified, identical=bool(same),
        project_images=SIZES.get(arch.dataset, (0, 0))[1] or None)
    if peer:
        peer['ratios'] = peer_ratios(peer, result)
        result['peer'] = peer
    _print(result)
    if a.json:
        atomic_write_text(a.json, json.dumps(result, indent=1, sort_keys=True) + '\n')
        print('written: %s' % a.json)
    return 0 if same else 1


if __name__ == '__main__':
    sys.exit(run_cli(main))
