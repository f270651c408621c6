"""rule='authors' is the authors' simulators, numerics included; rule='exact' is the float64 ANN.

The reference below is an independent re-derivation of the authors' per-step update, written from their
arithmetic (float32 BN folding term by term, float64 membranes and comparisons, their neuron of each family,
their counters and number formats) as a plain dense loop: it does not call the library's neuron code.
"""
import os

import numpy as np
import pytest

import spiking_utils
from snn_conversion.core.checkpoint import load_checkpoint
from snn_conversion.data.datasets import load_dataset
from spiking_utils import (SpikingNetwork, format_log_lines, get_rule, quantized_forward, random_calibrated_params,
                           run_test_set)
from snn_conversion.core import architectures
from snn_conversion.core.architectures import Architecture, ConvBlock

F32, F64 = np.float32, np.float64
PRETRAINED = ('data', 'pretrained', 'spatiotemporal_lenet_mnist_k1_B2.npz')


# ----------------------------------------------------------------------------- the independent reference

def ref_fold(beta, gamma, mean, var, k, lk, dtype=F32):
    """(theta, base) of the authors' convert_assign_params, every term in ``dtype`` (explicit casts), the last
    subtraction in float64."""
    b, g, mu, v = (np.asarray(a).astype(dtype) for a in (beta, gamma, mean, var))
    sigma = np.sqrt(v + dtype(1e-5))
    theta = (dtype(2.0 ** (k - lk)) * sigma) / g
    first = ((dtype(2.0 ** -(lk + 1)) - b) * (dtype(2.0 ** k) * sigma)) / g + dtype(2.0 ** k) * mu
    return theta.astype(F64), first.astype(F64) - theta.astype(F64)


def ref_table(beta, gamma, mean, var, k, levels, dtype=F32):
    """The authors' scatter-and-gather thresholds [levels, C], each in ``dtype``."""
    b, g, mu, v = (np.asarray(a).astype(dtype) for a in (beta, gamma, mean, var))
    sigma = np.sqrt(v + dtype(1e-5))
    return np.stack([(((dtype(2.0 ** -(k + 1) + i / 2.0 ** k) - b) * (dtype(2.0 ** k) * sigma)) / g
                      + dtype(2.0 ** k) * mu).astype(F64) for i in range(levels)])


def ref_conv(x, w, stride, pads):
    """Float64 NHWC cross-correlation as a sum over kernel offsets."""
    x = np.pad(np.asarray(x, F64), ((0, 0), pads[0], pads[1], (0, 0)), mode='constant')
    kh, kw, _, cout = w.shape
    ho, wo = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, cout))
    for i in range(kh):
        for j in range(kw):
            out += np.dot(x[:, i:i + (ho - 1) * stride + 1:stride, j:j + (wo - 1) * stride + 1:stride, :],
                          np.asarray(w[i, j], F64))
    return out


def _geometry(arch, i):
    h, wd, _ = arch.block_input_shape(i)
    blk = arch.blocks[i]
    return blk.stride, (architectures.same_padding(h, blk.kernel, blk.stride, blk.padding),
                        architectures.same_padding(wd, blk.kernel, blk.stride, blk.padding))


def reference(arch, params, x, k, T, B=None, noise_ratio=0.0, seed=0, batch=0, dtype=F32):
    """The authors' simulation of one batch: per step the cumulative counts of every layer, the counters and
    the logits.  Negative-spike: shadow potential; all-integer (float thresholds): dynamic-threshold first layer
    and running up/down thresholds; scatter-and-gather: the threshold table, one step."""
    family = arch.family
    enc = np.asarray(x, F64) * 2 ** k  # (their images are float32; x * 2^k is exact either way)
    if noise_ratio:  # their draw: np.random.rand(N, C, H, W), here from the repo's per-batch stream
        u = np.random.RandomState([seed, batch]).random_sample(enc.transpose(0, 3, 1, 2).shape).transpose(0, 2, 3, 1)
        enc = enc * (1.0 + (u - 0.5) * noise_ratio)
    layers = []
    for i in range(len(arch.blocks)):
        w, beta, gamma, mean, var = params[5 * i:5 * i + 5]
        lk = arch.first_quant[0] if (i == 0 and arch.first_quant) else k
        theta, base = ref_fold(beta, gamma, mean, var, k, lk, dtype)
        L = dict(w=np.asarray(w, F64), theta=theta, base=base, geo=_geometry(arch, i))
        if family == 'scatter_gather':
            L['table'] = ref_table(beta, gamma, mean, var, k, 2 ** k * B, dtype)
        layers.append(L)
    counted = 1 if family == 'integer' else 0
    readout = arch.authors_readout_sop
    steps = []
    spike_num = spike_collect = sop_num = 0
    for t in range(T):
        inp = enc if t == 0 else np.zeros_like(enc)
        abs_step = sum_step = 0
        for i, L in enumerate(layers):
            stride, pads = L['geo']
            if i > 0:  # their np.sum(|x_col|) * C_out: every input value once per output position it feeds
                ones = np.ones(L['w'].shape[:3] + (1,))
                factor = 2 * 2 ** k * B if family == 'scatter_gather' else 1
                sop_num += int(ref_conv(np.abs(inp), ones, stride, pads).sum()) * L['w'].shape[3] * factor
            z = ref_conv(inp, L['w'], stride, pads)
            if t == 0:
                L['mem'] = np.zeros_like(z)
                L['count'] = np.zeros(z.shape, np.int64)
                L['q'] = np.broadcast_to(L['base'], z.shape).copy()              # shadow potential
                L['pos'] = np.broadcast_to(L['base'] + L['theta'], z.shape).copy()  # all-integer thresholds
                L['neg'] = np.broadcast_to(L['base'], z.shape).copy()
                L['dyn'] = L['base'] + L['theta']                                 # dynamic first layer
            L['mem'] = L['mem'] + z
            mb = np.maximum(L['mem'], L['base'])
            if family == 'scatter_gather':
                s = sum(np.where(L['mem'] >= L['table'][j], 1, 0) for j in range(len(L['table'])))
            elif family == 'integer' and i == 0:
                levels = 2 ** arch.first_quant[0] * arch.first_quant[1]
                s = np.where(mb >= L['dyn'], 1, 0) * 2 ** (k - arch.first_quant[0]) if t < levels else 0 * z
                L['dyn'] = L['dyn'] + L['theta']
            elif family == 'integer':
                up, down = mb > L['pos'], mb < L['neg'] + -1e-5
                s = np.where(up, 1, np.where(down, -1, 0))
                L['pos'] = np.where(up, L['pos'] + L['theta'], np.where(down, L['pos'] - L['theta'], L['pos']))
                L['neg'] = np.where(up, L['neg'] + L['theta'], np.where(down, L['neg'] - L['theta'], L['neg']))
            else:
                d = mb - L['q']
                s = np.where(d > L['theta'], 1, np.where(d < -1e-5, -1, 0))
                L['q'] = np.where(d > L['theta'], L['q'] + L['theta'], np.where(d < -1e-5, L['q'] - L['theta'], L['q']))
            s = np.asarray(s, np.int64)
            # the encoding layer of the all-integer family counts its spikes, not their amplitude
            L['count'] = L['count'] + ((s != 0) if family == 'integer' and i == 0 else s)
            if i >= counted:
                abs_step += int(np.abs(s).sum())
                sum_step += int(s.sum())
            if i == len(layers) - 1:
                last_abs = int(np.abs(s).sum())
                if readout and family != 'scatter_gather':
                    sop_num += last_abs * arch.n_classes
            inp = s
        spike_num += abs_step
        spike_collect += sum_step
        last = layers[-1]['count'] if family != 'scatter_gather' else inp
        logits = np.dot(last.reshape(len(x), -1).astype(F64), np.asarray(params[-1], F64))
        steps.append(dict(counts=[L['count'].copy() for L in layers], spike_num=spike_num,
                          spike_collect=spike_collect, sop_num=sop_num, abs_spike=abs_step, sum_spike=sum_step,
                          logits=logits, last_abs=last_abs))
    return steps


def reference_lines(arch, steps, y):
    """The log lines the authors' scripts write: str() of their numpy values (float64 where they accumulate
    float arrays, int64 otherwise)."""
    sg = arch.family == 'scatter_gather'
    as_float = (lambda v: str(F64(v))) if sg else (lambda v: str(np.int64(v)))
    lines = {'accuracy.txt': [str(np.sum(np.argmax(s['logits'], axis=1) == y)) for s in steps],
             'spike_num.txt': [as_float(s['spike_num']) for s in steps],
             'sop_num.txt': [as_float(s['sop_num']) for s in steps],
             'spike_collect.txt': [str(F64(s['spike_collect'])) for s in steps],
             'abs_spike.txt': [str(np.int64(s['abs_spike'])) for s in steps],
             'sum_spike.txt': [str(np.int64(s['sum_spike'])) for s in steps]}
    return {name: lines[name] for name in SpikingNetwork.log_files_of(arch)}


def assert_matches_reference(net, params, x, y, T, B=None, noise_ratio=0.0, seed=0, batch=0, per_step=True):
    """The library's authors' rule against the reference: counters, logits, log lines and (``per_step``) every
    neuron's count after every step.  Scatter-and-gather: one step (the later lines repeat it)."""
    arch = net.arch
    sg = arch.family == 'scatter_gather'
    ref = reference(arch, params, x, net.k, 1 if sg else T, B=B, noise_ratio=noise_ratio, seed=seed, batch=batch)
    net.reseed(batch)
    trace = net.simulate(x, T)
    n = len(ref)
    keys = ('spike_num', 'sop_num') if sg else ('spike_num', 'spike_collect', 'sop_num', 'abs_spike', 'sum_spike')
    for key in keys:
        np.testing.assert_array_equal(getattr(trace, key)[:n], [s[key] for s in ref], key)
    np.testing.assert_allclose(trace.logits[:n], np.array([s['logits'] for s in ref]), rtol=1e-12, atol=1e-9)
    lines = format_log_lines(trace, y, net.log_files, net.family)
    assert lines == reference_lines(arch, ref * T if sg else ref, y)
    if per_step:  # spike counts of every neuron after every step
        for t in range(1, T + 1):
            net.reseed(batch)
            counts = net.simulate(x, t).counts
            for layer, (c, r) in enumerate(zip(counts, ref[t - 1]['counts'])):
                np.testing.assert_array_equal(c, r, 'layer %d after step %d' % (layer + 1, t))
    return trace, ref


def _random(name, k, seed, n=6, B=None, signed=False):
    arch = architectures.get(name)
    rng = np.random.RandomState(seed)
    x = rng.rand(n, *arch.input_shape).astype(np.float32)
    if signed:
        x = (x - 0.5) * 2.0
    params = random_calibrated_params(arch, x, rng, k=k, B=B)
    y = rng.randint(0, arch.n_classes, n)
    return arch, x, y, params


# ----------------------------------------------------------------------------- random networks

@pytest.mark.parametrize('engine', ['sparse', 'dense'])
@pytest.mark.parametrize('name,k', [('mlp_fashionmnist', 2), ('lenet_fashionmnist', 1), ('lenet_mnist', 0)])
def test_negative_spike_authors_rule_equals_float32_reference(name, k, engine):
    arch, x, y, params = _random(name, k, seed=len(name) + k, n=4)
    net = SpikingNetwork.from_params(name, params, k, rule='authors', engine=engine)
    assert_matches_reference(net, params, x, y, 10, per_step=engine == 'sparse')
    # the exact rule: the float64 quantized ANN, neuron by neuron
    levels, _ = quantized_forward(name, params, x, k)
    for c, lv in zip(SpikingNetwork.from_params(name, params, k, engine=engine).simulate(x, 200).counts, levels):
        np.testing.assert_array_equal(c, lv)


def test_negative_spike_input_noise_follows_the_authors():
    """--noise_ratio on the negative-spike family: input x 2^k x (1 + (U - 0.5) r), one draw per pixel from
    RandomState([seed, batch]) -- the authors' MNIST LeNet draw (N, 1, 28, 28) is the same stream."""
    arch, x, y, params = _random('lenet_mnist', 1, seed=3, n=4)
    net = SpikingNetwork.from_params('lenet_mnist', params, 1, rule='authors', noise_ratio=1.0, seed=7)
    trace, _ = assert_matches_reference(net, params, x, y, 12, noise_ratio=1.0, seed=7, batch=5, per_step=False)
    quiet = SpikingNetwork.from_params('lenet_mnist', params, 1, rule='authors').simulate(x, 12)
    assert trace.spike_num[-1] != quiet.spike_num[-1]  # the noise is applied
    exact = SpikingNetwork.from_params('lenet_mnist', params, 1, noise_ratio=1.0, seed=7)
    exact.reseed(5)
    noisy_x = exact.encode(x) / 2.0  # the same noisy input, as the ANN would see it
    levels, _ = quantized_forward('lenet_mnist', params, noisy_x, 1)
    exact.reseed(5)
    for c, lv in zip(exact.simulate(x, 200).counts, levels):
        np.testing.assert_array_equal(c, lv)


@pytest.mark.parametrize('k,B', [(0, 1), (1, 2), (2, 1)])
def test_scatter_gather_authors_rule_equals_float32_reference(k, B):
    arch, x, y, params = _random('lenet_mnist_sg', k, seed=10 + k, B=B, n=8)
    net = SpikingNetwork.from_params('lenet_mnist_sg', params, k, B=B, rule='authors')
    assert_matches_reference(net, params, x, y, 3, B=B, per_step=False)
    levels, _ = quantized_forward('lenet_mnist_sg', params, x, k, B=B)
    for c, lv in zip(SpikingNetwork.from_params('lenet_mnist_sg', params, k, B=B).simulate(x, 1).counts, levels):
        np.testing.assert_array_equal(c, lv)


@pytest.mark.parametrize('engine', ['sparse', 'dense'])
def test_all_integer_authors_rule_equals_float32_reference(engine):
    """The all-integer scripts with float thresholds: dynamic-threshold first layer, running up/down thresholds,
    the encoding layer left out of the spike counters, the MNIST script's readout SOP term."""
    arch, x, y, params = _random('lenet_mnist_int', 1, seed=21, n=4)
    net = SpikingNetwork.from_params('lenet_mnist_int', params, 1, rule='authors', engine=engine)
    assert_matches_reference(net, params, x, y, 10, per_step=engine == 'sparse')
    noisy = SpikingNetwork.from_params('lenet_mnist_int', params, 1, rule='authors', engine=engine,
                                       noise_ratio=0.5, seed=2)
    assert_matches_reference(noisy, params, x, y, 10, noise_ratio=0.5, seed=2, batch=3, per_step=False)
    levels, _ = quantized_forward('lenet_mnist_int', params, x, 1)
    for c, lv in zip(SpikingNetwork.from_params('lenet_mnist_int', params, 1).simulate(x, 200).counts, levels):
        np.testing.assert_array_equal(c, lv)


def test_readout_sop_term_follows_each_script_under_the_authors_rule():
    """SPEC section 6: the all-integer CIFAR-10 VGG-Net script counts no readout SOPs, the MNIST one does.
    The exact rule keeps the consistent term; rule='authors' follows the script."""
    assert architectures.get('lenet_mnist_int').authors_readout_sop
    assert not architectures.get('cnn1_cifar10_int').authors_readout_sop
    assert not architectures.get('lenet_mnist_sg').authors_readout_sop
    for name in ('lenet_mnist_int', 'cnn1_cifar10_int', 'mlp_fashionmnist'):
        assert get_rule('exact').readout_sop(architectures.get(name))
    # a small all-integer network declared like the CIFAR-10 VGG-Net (no readout term in its script)
    arch = Architecture(name='small_int_vgg', dataset='cifar10', input_shape=(10, 10, 3), n_classes=10,
                        blocks=[ConvBlock(8, 3, 1, 'SAME'), ConvBlock(8, 2, 2, 'SAME'), ConvBlock(16, 3)],
                        family='integer', weight_quant='ternary', first_quant=(0, 4), authors_readout_sop=False,
                        string='small', defaults=dict(k=0, time_steps=10, sim_batch_size=2))
    rng = np.random.RandomState(5)
    x = (rng.rand(3, 10, 10, 3).astype(np.float32) - 0.5) * 2.0
    y = rng.randint(0, 10, 3)
    params = random_calibrated_params(arch, x, rng, k=0)
    net = SpikingNetwork.from_params(arch, params, 0, rule='authors')
    trace, ref = assert_matches_reference(net, params, x, y, 10, per_step=False)  # no readout term
    net.rule = 'exact'  # the same neurons, counted with the consistent convention
    consistent = net.simulate(x, 10)
    readout = np.cumsum([s['last_abs'] for s in ref]) * arch.n_classes
    np.testing.assert_array_equal(consistent.sop_num - trace.sop_num, readout)
    assert readout[-1] > 0


# ----------------------------------------------------------------------------- float32 against float64

def _tiny(family, C):
    """One 1x1 block on a 1x1xC input with identity weights: neuron c's membrane is 2^k x_c exactly."""
    extra = dict(first_quant=(0, 4), weight_quant='ternary') if family == 'integer' else {}
    return Architecture(name='tiny_%s' % family, dataset='mnist', input_shape=(1, 1, C), n_classes=2,
                        blocks=[ConvBlock(C, 1)], family=family, string='tiny',
                        defaults=dict(k=1, B=1, time_steps=4, sim_batch_size=1), **extra)


@pytest.mark.parametrize('family', ['negative', 'scatter_gather', 'integer'])
def test_float32_threshold_decides_where_float64_would_not(family):
    """BN parameters whose first threshold differs between float32 and float64 arithmetic; each neuron's
    membrane is put half-way between the two.  The authors' rule fires exactly where the float32 threshold
    says (as their simulators, which keep the checkpoint's float32), and where the float64 one says on a float64
    copy of the same checkpoint; the exact rule equals the float64 ANN."""
    C, k = 64, (0 if family == 'integer' else 1)
    arch = _tiny(family, C)
    rng = np.random.RandomState(0)
    bn = [rng.normal(0, 0.5, C), rng.uniform(0.5, 1.5, C), rng.normal(0, 1, C), rng.uniform(0.1, 2, C)]
    bn = [a.astype(np.float32) for a in bn]
    lk = 0 if family == 'integer' else k
    t32, b32 = ref_fold(*bn, k=k, lk=lk, dtype=F32)
    t64, b64 = ref_fold(*bn, k=k, lk=lk, dtype=F64)
    f32, f64 = b32 + t32, b64 + t64
    if family == 'scatter_gather':
        f32, f64 = ref_table(*bn, k=k, levels=1, dtype=F32)[0], ref_table(*bn, k=k, levels=1, dtype=F64)[0]
    keep = np.abs(f32 - f64) > 1e-12 * np.abs(f64)
    assert keep.sum() > C // 2
    m = np.where(keep, (f32 + f64) / 2.0, f32)  # half-way (elsewhere: on the threshold of both)
    x = (m / 2.0 ** k).reshape(1, 1, 1, C)
    params = [np.eye(C, dtype=np.float32).reshape(1, 1, C, C)] + bn + [np.ones((C, 2), np.float32)]
    kw = dict(B=1) if family == 'scatter_gather' else {}
    fires32 = SpikingNetwork.from_params(arch, params, k, rule='authors', **kw).simulate(x, 1).counts[0].ravel()
    params64 = [p.astype(np.float64) for p in params]
    fires64 = SpikingNetwork.from_params(arch, params64, k, rule='authors', **kw).simulate(x, 1).counts[0].ravel()
    above32 = m >= f32 if family != 'negative' else m > f32
    above64 = m >= f64 if family != 'negative' else m > f64
    np.testing.assert_array_equal(fires32, above32.astype(int))
    np.testing.assert_array_equal(fires64, above64.astype(int))
    assert (fires32 != fires64).sum() == keep.sum()  # every such neuron lands on the other side
    ref = reference(arch, params, x, k, 1, **kw)
    np.testing.assert_array_equal(ref[0]['counts'][0].ravel(), fires32)
    levels, _ = quantized_forward(arch, params, x, k, **kw)
    exact = SpikingNetwork.from_params(arch, params, k, **kw).simulate(x, 8).counts[0]
    np.testing.assert_array_equal(exact, levels[0])


def test_authors_theta_and_base_in_the_checkpoint_dtype():
    """The library's authors' folding equals the explicit float32 derivation, bit for bit, and differs from
    the float64 one (the dtype is the checkpoint's: numpy does not promote float32 by Python scalars)."""
    arch, x, y, params = _random('lenet_fashionmnist', 1, seed=2)
    net = SpikingNetwork.from_params('lenet_fashionmnist', params, 1, rule='authors')
    diff = 0
    for i, layer in enumerate(net.layers):
        theta, base = ref_fold(*params[5 * i + 1:5 * i + 5], k=1, lk=1)
        np.testing.assert_array_equal(layer.theta, theta)
        np.testing.assert_array_equal(layer.base, base)
        diff += int((ref_fold(*params[5 * i + 1:5 * i + 5], k=1, lk=1, dtype=F64)[1] != base).sum())
    assert diff > 0


# ----------------------------------------------------------------------------- logs

def test_log_number_formats_are_the_familys(tmp_path):
    """Scatter-and-gather writes spike_num/sop_num as floats ('1676065.0') under every rule, as its scripts;
    the negative-spike family integers (spike_collect a float)."""
    for rule in spiking_utils.RULES:
        arch, x, y, params = _random('lenet_mnist_sg', 1, seed=4, B=2, n=5)
        d = str(tmp_path / ('sg_' + rule))
        run_test_set(SpikingNetwork.from_params(arch, params, 1, B=2, rule=rule), x, y, 2, 5, log_dir=d,
                     progress=False)
        for name in ('spike_num.txt', 'sop_num.txt'):
            lines = open(os.path.join(d, name)).read().split()
            assert lines and all(v.endswith('.0') and float(v) > 0 for v in lines), (name, lines)
        assert all(v.isdigit() for v in open(os.path.join(d, 'accuracy.txt')).read().split())
        arch, x, y, params = _random('mlp_fashionmnist', 1, seed=4, n=5)
        d = str(tmp_path / ('neg_' + rule))
        run_test_set(SpikingNetwork.from_params(arch, params, 1, rule=rule), x, y, 6, 5, log_dir=d, progress=False)
        for name in ('spike_num.txt', 'sop_num.txt', 'accuracy.txt'):
            assert all(v.isdigit() for v in open(os.path.join(d, name)).read().split())
        assert all(v.endswith('.0') for v in open(os.path.join(d, 'spike_collect.txt')).read().split())


# ----------------------------------------------------------------------------- a trained network

@pytest.mark.parametrize('k,B', [(1, 2), (0, 1), (1, 4)])
def test_released_checkpoint_authors_rule_equals_float32_reference(shared, k, B):
    """The authors' released scatter-and-gather LeNet on real MNIST, test images 1540-1559 (in batch 8 of 200,
    where float64 thresholds change spike_num/sop_num at k=1, B=2, as the authors' own script shows): the
    authors' rule equals the float32 reference line for line; a float64 reference does not; the exact rule
    equals the ANN."""
    params, _ = load_checkpoint(os.path.join(shared, *PRETRAINED))
    x, y = load_dataset('mnist', splits=('test',), data_dir=os.path.join(shared, 'data', 'mnist'))['test']
    x, y = x[1540:1560], y[1540:1560]
    arch = architectures.get('lenet_mnist_sg')
    net = SpikingNetwork.from_params(arch, params, k, B=B, rule='authors')
    trace, ref = assert_matches_reference(net, params, x, y, 1, B=B, per_step=False)
    if (k, B) == (1, 2):
        ref64 = reference(arch, params, x, k, 1, B=B, dtype=F64)
        assert ref64[0]['spike_num'] != trace.spike_num[0]
    levels, _ = quantized_forward(arch, params, x, k, B=B)
    for c, lv in zip(SpikingNetwork.from_params(arch, params, k, B=B).simulate(x, 1).counts, levels):
        np.testing.assert_array_equal(c, lv)
