"""The SNN's exact reference for a table row: the quantized ANN computed in float64.

The ``Quant_*`` scripts report TensorFlow's float32 inference of a checkpoint.  The spiking network equals the
quantized ANN computed exactly (:func:`snn_conversion.snn.reference.quantized_forward`, the oracle of the lossless
tests), and the two ANNs can disagree on an image where a neuron lies within float32's rounding error of a
quantization boundary.  The runner records both, so "SNN = ANN" is shown against each.
"""

from __future__ import absolute_import, division, print_function

import numpy as np

from snn_conversion.core import architectures
from snn_conversion.core.checkpoint import load_checkpoint, resolve_ternary
from snn_conversion.data.datasets import eval_inputs, load_dataset
from snn_conversion.snn.reference import quantized_forward

__all__ = ['float64_ann_correct']


def float64_ann_correct(row, model_file, data_dir=None, chunk=500, num_test=None):
    """Test images the float64 quantized ANN of ``row``'s checkpoint classifies correctly: (correct, images);
    ``num_test``: of the first N test images only."""
    arch = architectures.get(row.arch)
    params, meta = load_checkpoint(model_file)
    use_int = row.sim_flag_true('--use_int')
    ternary = resolve_ternary(meta, arch, model_file)
    x, y = load_dataset(arch.dataset, splits=('test',), data_dir=data_dir)['test']
    x, y = x[:num_test], y[:num_test]
    x = eval_inputs(arch.dataset, x)
    correct = 0
    for s in range(0, len(x), chunk):
        _, logits = quantized_forward(arch, params, x[s:s + chunk], row.k, B=row.B, use_ternary=ternary,
                                      use_int=use_int)
        correct += int(np.sum(np.argmax(logits, axis=1) == y[s:s + chunk]))
    return correct, len(x)
