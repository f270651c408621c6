"""N-MNIST preprocessing: original 40-bit event files -> the frame dataset (``preprocessing_N_MNIST.py``)."""
import os

import numpy as np
import pytest

from conftest import copy_workspace, write_nmnist_bin, run
from snn_conversion.data import nmnist
from snn_conversion.data.datasets import DatasetError, load_dataset


def _decode_by_hand(path):
    """An independent decoder: each 5-byte record as one big-endian 40-bit integer."""
    data = open(path, 'rb').read()
    events = []
    for i in range(0, len(data), 5):
        v = int.from_bytes(data[i:i + 5], 'big')
        events.append((v >> 32, (v >> 24) & 0xFF, (v >> 23) & 1, v & 0x7FFFFF))
    return events


def _frame_by_hand(events, polarity):
    frame = np.zeros((34, 34, 1 if polarity == 'on' else 2), dtype=np.int64)
    for x, y, p, _ in events:
        if polarity == 'on' and p == 1:
            frame[y, x, 0] += 1
        elif polarity == 'both':
            frame[y, x, 0 if p == 1 else 1] += 1
    return frame


def test_event_roundtrip_and_frames(tmp_path):
    rng = np.random.RandomState(0)
    x, y = rng.randint(0, 34, 500), rng.randint(0, 34, 500)
    pol, ts = rng.randint(0, 2, 500), np.sort(rng.randint(0, 2 ** 23, 500))
    path = str(tmp_path / 'Train' / '3' / '00007.bin')
    write_nmnist_bin(path, x, y, pol, ts)
    for got, want in zip(nmnist.read_events(path), (x, y, pol, ts)):
        np.testing.assert_array_equal(got, want)
    assert _decode_by_hand(path) == list(zip(x, y, pol, ts))
    for polarity in ('on', 'both'):
        frame = nmnist.events_to_frame(x, y, pol, polarity)
        assert frame.dtype == np.uint16
        np.testing.assert_array_equal(frame, _frame_by_hand(_decode_by_hand(path), polarity))
    assert nmnist.events_to_frame(x, y, pol, 'on').sum() == pol.sum()


def test_real_samples_through_the_script(shared, tmp_path):
    """The real N-MNIST subset in ../shared goes through preprocessing_N_MNIST.py; every frame equals an
    independent decode (checked on a sample of files), samples come in number (MNIST) order."""
    src = os.path.join(shared, 'data', 'n_mnist_small')
    ws = copy_workspace(tmp_path, 'N_MNIST', 'preprocessing_N_MNIST.py')
    for polarity, suffix in (('on', ''), ('both', '_2p')):
        out = run('preprocessing_N_MNIST.py', '--data_dir', src, '--out_dir', str(tmp_path / 'frames'),
                  '--polarity', polarity, '--workers', '2', cwd=str(ws))
        assert 'Train: ' in out.stdout and 'Test: ' in out.stdout
        for split in ('train', 'test'):
            with np.load(str(tmp_path / 'frames' / ('%s%s.npz' % (split, suffix)))) as z:
                counts, labels, files, divisor = z['counts'], z['labels'], z['files'], int(z['divisor'])
            n_files = sum(len(fs) for _, _, fs in os.walk(os.path.join(src, split.capitalize())))
            assert len(counts) == len(labels) == len(files) == n_files and divisor == 32
            assert counts.shape[1:] == (34, 34, 1 if polarity == 'on' else 2)
            numbers = [int(os.path.splitext(os.path.basename(f))[0]) for f in files]
            assert numbers == sorted(numbers)
            assert [int(f.split(os.sep)[1]) for f in files] == list(labels)
            for i in np.random.RandomState(1).choice(len(files), 15, replace=False):
                events = _decode_by_hand(os.path.join(src, str(files[i])))
                np.testing.assert_array_equal(counts[i], _frame_by_hand(events, polarity))
            assert counts.max() > 1 and counts.sum() > 100 * len(counts)  # real, dense event data
    # the loader: counts / 32, the last 1/6 of the training set for validation, every class in it
    d = load_dataset('n_mnist', data_dir=str(tmp_path / 'frames'))
    (xtr, ytr), (xva, yva), (xte, yte) = d['train'], d['val'], d['test']
    assert xtr.shape[1:] == (34, 34, 1) and xtr.dtype == np.float32
    assert len(xva) == (len(xtr) + len(xva)) // 6 and len(set(yva.tolist())) == 10
    with np.load(str(tmp_path / 'frames' / 'test.npz')) as z:
        np.testing.assert_array_equal(xte, z['counts'] / np.float32(32))
    assert load_dataset('n_mnist_2p', splits=('test',), data_dir=str(tmp_path / 'frames'))['test'][0].shape[1:] \
        == (34, 34, 2)


@pytest.mark.parametrize('case', ['truncated', 'bad_address', 'no_train', 'stray_folder'])
def test_bad_event_files_are_one_line_errors(tmp_path, case):
    data = tmp_path / 'events'
    for split, number in (('Train', 1), ('Test', 2)):
        write_nmnist_bin(str(data / split / '4' / ('%05d.bin' % number)), [1, 2], [3, 4], [1, 0], [10, 20])
    bad = data / 'Train' / '4' / '00001.bin'
    if case == 'truncated':
        bad.write_bytes(bad.read_bytes()[:-2])
        expect = 'not a whole number of 40-bit events'
    elif case == 'bad_address':
        write_nmnist_bin(str(bad), [40], [3], [1], [10])
        expect = 'addresses up to (40, 3)'
    elif case == 'no_train':
        import shutil
        shutil.rmtree(str(data / 'Train'))
        expect = 'must hold the N-MNIST folders Train/ and Test/'
    else:
        (data / 'Train' / 'extra').mkdir()
        expect = "unexpected folder 'extra'"
    ws = copy_workspace(tmp_path, 'N_MNIST', 'preprocessing_N_MNIST.py')
    p = run('preprocessing_N_MNIST.py', '--data_dir', str(data), '--out_dir', str(tmp_path / 'out'),
            cwd=str(ws), ok=False)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines[-1].startswith('error: ') and expect in lines[-1], p.stderr
    assert 'Traceback' not in p.stderr
    assert not (tmp_path / 'out' / 'train.npz').exists()


def test_missing_frames_say_how_to_make_them(tmp_path):
    with pytest.raises(DatasetError) as e:
        load_dataset('n_mnist', data_dir=str(tmp_path))
    assert 'preprocessing_N_MNIST.py' in str(e.value)
