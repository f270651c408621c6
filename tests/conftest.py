import gzip
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
# The child processes (workspace scripts, reproduce.py's runs, `python -c` snippets) import this checkout too: the
# environment has the project installed in editable mode (make venv), possibly from another checkout sharing it.
os.environ['PYTHONPATH'] = os.pathsep.join([ROOT] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
                                                     if p and p != ROOT])
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')


def _share_the_cores():
    """Under pytest-xdist, each worker keeps to its own share of this process's cores, it and the processes it
    starts (they inherit the affinity; TensorFlow and OpenBLAS size their thread pools from it; the BLAS thread
    counts are set to the share -- numba's are not: its parallel loops keep running on several threads, which do not
    spin in the simulator's 'workqueue' pool).  Without it each worker's children spread threads over every core, and
    threads spinning for a core the other worker held wasted CPU: on a 2-core machine (2026-12-07) `make test` took
    976 s of CPU (228 s of it system time) and 548 s; with it 846 s (124 s) and 465 s."""
    worker, count = os.environ.get('PYTEST_XDIST_WORKER'), int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    if not worker or count < 2 or not hasattr(os, 'sched_setaffinity'):
        return
    cpus, index = sorted(os.sched_getaffinity(0)), int(worker.lstrip('gw') or 0)
    share = cpus[index % count::count] if len(cpus) >= count else [cpus[index % len(cpus)]]
    os.sched_setaffinity(0, share)
    for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ.setdefault(var, str(len(share)))


_share_the_cores()  # before numpy starts OpenBLAS's threads (a thread's affinity passes to those it starts)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest_plugins = ['file_order']  # longest test files first under xdist (file_order.py)


@pytest.fixture
def shared():
    """../shared (real data and the authors' logs); tests using it skip when it is absent (a user's clone)."""
    if not os.path.isdir(SHARED):
        pytest.skip('../shared is absent (it only exists beside the CI / developer checkout)')
    return SHARED


def write_idx(path, array):
    """Write a uint8 array as a gzip-compressed idx file (the MNIST format)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack('>HBB', 0, 0x08, array.ndim) + struct.pack('>' + 'I' * array.ndim, *array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.tobytes())


def make_mnist_like(folder, n_train=600, n_test=100, seed=0):
    """A tiny learnable data set in the real idx.gz layout: class c lights up a class-specific pattern."""
    rng = np.random.RandomState(seed)
    patterns = rng.rand(10, 28, 28) > 0.7
    os.makedirs(folder, exist_ok=True)
    for split, n in (('train', n_train), ('t10k', n_test)):
        labels = rng.randint(0, 10, n).astype(np.uint8)
        images = (patterns[labels] * rng.randint(120, 256, (n, 28, 28))
                  + rng.randint(0, 60, (n, 28, 28))).clip(0, 255).astype(np.uint8)
        write_idx(os.path.join(folder, '%s-images-idx3-ubyte.gz' % split), images)
        write_idx(os.path.join(folder, '%s-labels-idx1-ubyte.gz' % split), labels)
    return folder


@pytest.fixture
def tiny_fashion(tmp_path):
    return make_mnist_like(str(tmp_path / 'fashion'))


def make_cifar_like(folder, n_classes=10, n_train=50, n_test=20, seed=0):
    """Tiny learnable CIFAR-10 (data_batch_1..5, test_batch) or CIFAR-100 (train, test) python pickles."""
    import pickle

    rng = np.random.RandomState(seed)
    patterns = rng.randint(0, 256, (n_classes, 3072))
    os.makedirs(folder, exist_ok=True)
    key = 'labels' if n_classes == 10 else 'fine_labels'

    def batch(n):
        labels = rng.randint(0, n_classes, n)
        data = (0.7 * patterns[labels] + 0.3 * rng.randint(0, 256, (n, 3072))).astype(np.uint8)
        return {'data': data, key: labels.tolist(), 'batch_label': 'generated'}

    if n_classes == 10:
        names = ['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']
        sizes = [n_train // 5] * 5 + [n_test]
    else:
        names, sizes = ['train', 'test'], [n_train, n_test]
    for name, n in zip(names, sizes):
        with open(os.path.join(folder, name), 'wb') as f:
            pickle.dump(batch(n), f, protocol=2)
    return folder


def write_nmnist_bin(path, x, y, polarity, timestamp):
    """One sample in the original N-MNIST 40-bit event format (x, y, polarity bit 23, 23-bit microseconds)."""
    x, y, p, t = (np.asarray(v, dtype=np.int64) for v in (x, y, polarity, timestamp))
    rec = np.stack([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF], axis=1).astype(np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rec.tofile(path)


def make_nmnist_like(folder, n_train=60, n_test=20, seed=0):
    """Tiny learnable N-MNIST in the original layout Train|Test/<digit>/<number>.bin: class c fires ON events
    at a class-specific set of pixels (about 20 per pixel, so frames /32 are O(1) like the real ones) and OFF
    events at random pixels."""
    rng = np.random.RandomState(seed)
    spots = [rng.choice(34 * 34, 40, replace=False) for _ in range(10)]
    number = 0
    for split, n in (('Train', n_train), ('Test', n_test)):
        for _ in range(n):
            number += 1
            c = rng.randint(10)
            on = rng.choice(spots[c], 800)
            off = rng.randint(0, 34 * 34, 40)
            pix = np.concatenate([on, off])
            pol = np.concatenate([np.ones(len(on), int), np.zeros(len(off), int)])
            order = rng.permutation(len(pix))
            write_nmnist_bin(os.path.join(folder, split, str(c), '%05d.bin' % number), pix[order] % 34,
                             pix[order] // 34, pol[order], np.sort(rng.randint(0, 300000, len(pix))))
    return folder


def copy_workspace(tmp_path, workspace, *scripts):
    """A copy of workspace scripts in tmp_path/<workspace> (so their default paths -- checkpoints, figs/,
    data/ -- land in tmp), importing this checkout's packages (the PYTHONPATH set above)."""
    ws = tmp_path / workspace
    ws.mkdir(exist_ok=True)
    for script in scripts:
        src = open(os.path.join(ROOT, workspace, script)).read()
        (ws / script).parent.mkdir(parents=True, exist_ok=True)
        (ws / script).write_text(src)
    return ws


WNIDS = ['n01440764', 'n01443537', 'n01484850']


def make_imagenet(root, n_train=4, n_val=2, flat_val=False):
    """3 classes of small JPEGs (and one PNG, one greyscale, one CMYK JPEG) in the standard layout."""
    from PIL import Image

    rng = np.random.RandomState(0)
    labels = []
    for split, n in (('train', n_train), ('val', n_val)):
        for ci, wnid in enumerate(WNIDS):
            d = os.path.join(root, split, wnid if not (flat_val and split == 'val') else '')
            os.makedirs(d, exist_ok=True)
            for j in range(n):
                arr = (rng.rand(rng.randint(30, 60), rng.randint(30, 60), 3) * 80 + ci * 80).astype(np.uint8)
                img = Image.fromarray(arr)
                name = os.path.join(d, '%s_%d.JPEG' % (wnid, j))
                if split == 'train' and j == 1:
                    img.convert('L').save(name, format='JPEG')
                elif split == 'train' and j == 2:
                    img.convert('CMYK').save(name, format='JPEG')
                elif j == 3:
                    img.save(name, format='PNG')  # ImageNet has a PNG named .JPEG
                else:
                    img.save(name, format='JPEG', quality=90)
                if split == 'val':
                    labels.append((os.path.basename(name), wnid))
    return labels


def run(script, *args, cwd=os.path.join(ROOT, 'FashionMNIST'), ok=True):
    """Run a workspace script as a user types it (``cwd``: its workspace); with ``ok`` it must succeed."""
    p = subprocess.run([sys.executable, script] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=600)
    if ok:
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p
