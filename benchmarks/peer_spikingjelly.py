"""A peer for benchmarks/snn_speed.py: the same network simulated by SpikingJelly on PyTorch (CPU, oneDNN).

    python benchmarks/snn_speed.py --peer /path/to/peer_venv/bin/python      # both, side by side
    /path/to/peer_venv/bin/python benchmarks/peer_spikingjelly.py NET.npz    # this side alone

Not a dependency of the project: it runs only under a Python with torch and spikingjelly installed (a separate
environment), imports nothing of the project, and reads the network that ``snn_speed.py --peer`` saved to an
.npz (per layer: HWIO weights, stride, pads, thresholds ``theta``, ``base``; the readout; the encoded batch; the
project's spike counts of the first images, for the check).

Every block is ``ZeroPad2d`` + ``Conv2d`` (no bias; pooling and dense blocks are convolutions as in the project)
+ ``IFNode`` (soft reset), float32.  The thresholds are the project's: a channel's weights are divided by its
``theta`` (threshold 1) and its membrane starts at ``-base / theta``, so that ``v > 1`` is the project's first
up-threshold ``m > base + theta``.  The encoded image is the input charge of step 0, zero afterwards; every one
of the T steps is computed (SpikingJelly has no early stop).  Modes: single-step (one ``net(x_t)`` per step) and
multi-step (``[T, N, ...]`` tensors, layer by layer, over sub-batches of --multi_batch images: memory).

The check (printed and in --json): the same blocks with a node implementing the project's exact
negative-spike rule in float64 (``m > base + (c + 1) theta`` up, ``c > 0 and m <= base + c theta`` down) give
the project's spike counts on the first images, neuron for neuron; the stock IFNode (no negative spikes)
agrees on most counts and on the predicted classes.
"""
import argparse
import json
import os
import time

# Spinning OpenMP threads wait for a core another process holds: on a loaded machine torch's two-thread element-wise
# ops ran 50x slower than with one thread.  Passive waiting (unless the caller chose otherwise) measures the peer,
# not the scheduler.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import sys

import numpy as np

try:
    import torch
    import torch.nn as nn
    from spikingjelly.activation_based import base, functional, neuron
except ImportError as missing:  # the project's own environment: not this script's
    sys.exit('error: %s: this script runs under a Python with torch and spikingjelly installed (a separate '
             'environment; see its docstring), not the project\'s' % missing)


def load(path):
    with np.load(path) as z:
        d = {k: z[k] for k in z.files}
    n = int(d['n_layers'])
    layers = [dict(w=d['w_%d' % i], stride=int(d['stride_%d' % i]), pads=[int(p) for p in d['pads_%d' % i]],
                   theta=d['theta_%d' % i], base=d['base_%d' % i]) for i in range(n)]
    check = [d['check_counts_%d' % i] for i in range(n)] if 'check_counts_0' in d else None
    return layers, d['w_out'], d['x'], int(d['time_steps']), check


class ExactNode(base.MemoryModule):
    """The project's exact negative-spike neuron (float64): count c, up if m > b + (c+1) theta, down if c > 0
    and m <= b + c theta; one spike per step."""

    def __init__(self, theta, base_):
        super(ExactNode, self).__init__()
        self.theta = torch.from_numpy(theta).view(1, -1, 1, 1)
        self.base = torch.from_numpy(base_).view(1, -1, 1, 1)
        self.register_memory('m', 0.0)
        self.register_memory('count', 0.0)

    def single_step_forward(self, x):
        if not isinstance(self.m, torch.Tensor):
            self.m, self.count = torch.zeros_like(x), torch.zeros_like(x)
        self.m = self.m + x
        up = self.m > self.base + (self.count + 1) * self.theta
        down = (self.count > 0) & (self.m <= self.base + self.count * self.theta)
        s = up.to(x.dtype) - down.to(x.dtype)
        self.count = self.count + s
        return s


def blocks(layers, exact):
    """(modules, nodes): ZeroPad2d + Conv2d + node per block; IFNode (float32, threshold folded) or ExactNode."""
    mods, nodes = [], []
    for lay in layers:
        kh, kw, cin, cout = lay['w'].shape
        conv = nn.Conv2d(cin, cout, (kh, kw), stride=lay['stride'], bias=False)
        w = lay['w'].transpose(3, 2, 0, 1)  # OIHW
        if exact:
            conv = conv.double()
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(w))
            node = ExactNode(lay['theta'], lay['base'])
        else:
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(w / lay['theta'][:, None, None, None],
                                                                     dtype=np.float32))
            node = neuron.IFNode(v_threshold=1.0, v_reset=None)
        top, bottom, left, right = lay['pads']
        mods += [nn.ZeroPad2d((left, right, top, bottom)), conv, node]
        nodes.append(node)
    return nn.Sequential(*mods).eval(), nodes


def start(net, nodes, layers, n, shapes):
    """A new batch of n images: membranes at -base / theta (IFNode) or zero (ExactNode)."""
    functional.reset_net(net)
    for node, lay, shape in zip(nodes, layers, shapes):
        if isinstance(node, neuron.IFNode):
            v0 = torch.from_numpy((-lay['base'] / lay['theta']).astype(np.float32)).view(1, -1, 1, 1)
            node.v = v0.expand((n,) + shape).clone()


def out_shapes(net, x0):
    """Each node's (C, H, W) for the input x0 (N C H W)."""
    shapes, h = [], x0[:1]
    with torch.no_grad():
        for j, mod in enumerate(net):
            if j % 3 == 2:
                shapes.append(tuple(h.shape[1:]))
            else:
                h = mod(h)
    return shapes


def run_single(net, nodes, layers, x, steps, count=False):
    """Single-step mode, every step: (seconds, last block's spike sum, per-block counts or None)."""
    x0 = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(net[1].weight.dtype)
    zeros = torch.zeros_like(x0)
    shapes = out_shapes(net, x0)
    spikes = [torch.zeros((len(x),) + s, dtype=x0.dtype) for s in shapes] if count else None
    with torch.no_grad():
        start(net, nodes, layers, len(x), shapes)
        t0 = time.perf_counter()
        readout = 0
        for t in range(steps):
            h = x0 if t == 0 else zeros
            for j, mod in enumerate(net):
                h = mod(h)
                if count and j % 3 == 2:  # a node
                    spikes[j // 3] += h
            readout = readout + h
        seconds = time.perf_counter() - t0
    return seconds, readout, spikes


def run_multi(net, nodes, layers, x, steps, sub):
    """Multi-step mode ([T, N, ...] layer by layer) over sub-batches of ``sub`` images: seconds."""
    functional.set_step_mode(net, 'm')
    seconds = 0.0
    try:
        for i in range(0, len(x), sub):
            xb = torch.from_numpy(np.ascontiguousarray(x[i:i + sub].transpose(0, 3, 1, 2), dtype=np.float32))
            seq = torch.zeros((steps,) + tuple(xb.shape))
            seq[0] = xb
            with torch.no_grad():
                shapes = out_shapes(net, xb)
                start(net, nodes, layers, len(xb), shapes)
                t0 = time.perf_counter()
                h = seq
                for j, mod in enumerate(net):
                    if j % 3 == 2:
                        h = mod(h)
                    else:
                        h = mod(h.flatten(0, 1)).unflatten(0, (steps, len(xb)))
                h.sum(0)
                seconds += time.perf_counter() - t0
    finally:
        functional.set_step_mode(net, 's')
    return seconds


def check(layers, w_out, x, steps, ours):
    """The exact node's counts against the project's (neurons that differ, of all), and the IFNode's counts
    and predicted classes."""
    n = len(ours[0])
    net, nodes = blocks(layers, exact=True)
    _, _, counts = run_single(net, nodes, layers, x[:n], steps, count=True)
    mine = [c.permute(0, 2, 3, 1).numpy() for c in counts]
    differ = sum(int((a != b).sum()) for a, b in zip(mine, ours))
    total = sum(a.size for a in ours)
    net_if, nodes_if = blocks(layers, exact=False)
    _, _, counts_if = run_single(net_if, nodes_if, layers, x[:n], steps, count=True)
    mine_if = [c.permute(0, 2, 3, 1).numpy() for c in counts_if]
    same_if = sum(int((a == b).sum()) for a, b in zip(mine_if, ours))
    cls_ours = (ours[-1].reshape(n, -1) @ w_out).argmax(1)
    cls_if = (mine_if[-1].reshape(n, -1) @ w_out).argmax(1)
    return dict(checked_images=n, neurons=total, exact_node_differing=differ,
                ifnode_same_fraction=round(same_if / float(total), 4),
                ifnode_same_class=int((cls_ours == cls_if).sum()))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('network', help='the .npz written by benchmarks/snn_speed.py --peer')
    p.add_argument('--threads', type=int, default=2, help='torch threads (intra-op)')
    p.add_argument('--multi_batch', type=int, default=10, help='images per multi-step sub-batch (memory)')
    p.add_argument('--repeat', type=int, default=1, help='timed runs of each mode (the fastest counts)')
    p.add_argument('--json', default=None, help='write the figures to this file')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    layers, w_out, x, steps, ours = load(a.network)
    result = dict(peer='SpikingJelly %s on torch %s' % (_version(), torch.__version__), threads=a.threads,
                  omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'),
                  onednn=bool(torch.backends.mkldnn.is_available()), batch=len(x), time_steps=steps,
                  multi_batch=min(a.multi_batch, len(x)))
    if ours is not None:
        result['check'] = check(layers, w_out, x, steps, ours)
        print('check on %(checked_images)d images: exact node differs from the project on %(exact_node_differing)d of '
              '%(neurons)d neurons; IFNode: %(ifnode_same_fraction).4f of the counts equal, '
              '%(ifnode_same_class)d same classes' % result['check'])
    net, nodes = blocks(layers, exact=False)
    run_single(net, nodes, layers, x[:2], 2)  # warm-up (oneDNN primitives)
    t_single = min(run_single(net, nodes, layers, x, steps)[0] for _ in range(a.repeat))
    t_multi = min(run_multi(net, nodes, layers, x, steps, a.multi_batch) for _ in range(a.repeat))
    result.update(single_rate=round(len(x) * steps / t_single, 1), multi_rate=round(len(x) * steps / t_multi, 1))
    print('%s, %d threads: single-step %.1f images x steps/s, multi-step %.1f'
          % (result['peer'], a.threads, result['single_rate'], result['multi_rate']))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(result, f, indent=1, sort_keys=True)
    return 0


def _version():
    try:
        from importlib.metadata import version
        return version('spikingjelly')
    except Exception:  # noqa: BLE001 -- a version is only shown
        return '?'


if __name__ == '__main__':
    raise SystemExit(main())
