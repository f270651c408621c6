"""A new data-set file format is one module: a :class:`Kind` (how its files are named, read and generated) and its
data set's entry.  Here a CSV format (one image per line: label, then the pixels), defined in this file alone, is
found by the usual search, loaded, split, refused in one line when missing, and generated for timings."""
import os

import numpy as np
import pytest

from snn_conversion.data import locate
from snn_conversion.data.datasets import DatasetError, eval_inputs, load_dataset, load_test_inputs
from snn_conversion.data.kinds import KINDS, Kind, register_kind
from snn_conversion.data.kinds.base import generated_images, split_val
from snn_conversion.data.synthetic import write_synthetic


class CsvKind(Kind):
    name = 'csv_test_kind'

    def required_files(self, spec, splits):
        return (['train.csv'] if any(s != 'test' for s in splits) else []) + (['test.csv'] if 'test' in splits else [])

    def _read(self, path, shape):
        rows = np.loadtxt(path, delimiter=',', ndmin=2)
        return (rows[:, 1:] / 255.0).astype(np.float32).reshape((-1,) + shape), rows[:, 0].astype(np.int64)

    def load(self, name, spec, folder, splits):
        out = {}
        if 'test' in splits:
            out['test'] = self._read(os.path.join(folder, 'test.csv'), spec['raw_shape'])
        if 'train' in splits or 'val' in splits:
            out['train'], out['val'] = split_val(*self._read(os.path.join(folder, 'train.csv'), spec['raw_shape']))
        return out

    def how_to_get(self, name, spec):
        return 'or write them as label,pixels lines'

    def write_synthetic(self, spec, folder, rng, sizes):
        for fname, n in zip(('train.csv', 'test.csv'), sizes):
            images, labels = generated_images(rng, n, (int(np.prod(spec['raw_shape'])),), 3, 256)
            np.savetxt(os.path.join(folder, fname), np.column_stack([labels, images]), fmt='%d', delimiter=',')


@pytest.fixture
def csv_set():
    register_kind(CsvKind())
    locate.register_dataset('tiny_csv', kind='csv_test_kind', subdirs=('tiny_csv',), raw_shape=(4, 4, 1))
    yield 'tiny_csv'
    del locate.DATASETS['tiny_csv']
    del KINDS['csv_test_kind']


def test_a_new_kind_is_found_loaded_generated_and_refused(csv_set, tmp_path):
    with pytest.raises(DatasetError, match=r'tiny_csv files train.csv, test.csv not found; .* or write them as'):
        load_dataset(csv_set, data_dir=str(tmp_path))
    folder = write_synthetic(csv_set, str(tmp_path), sizes=(12, 5))
    assert folder == str(tmp_path / 'tiny_csv')
    data = load_dataset(csv_set, data_dir=str(tmp_path))  # found in its subfolder, as every data set
    assert data['train'][0].shape == (10, 4, 4, 1) and data['val'][0].shape == (2, 4, 4, 1)
    x, y = load_test_inputs(csv_set, data_dir=str(tmp_path), num_test=3)
    assert x.shape == (3, 4, 4, 1) and (y < 3).all() and (eval_inputs(csv_set, x) == x).all()
    assert 0 <= x.min() and x.max() <= 1
