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
from snn_conversion.data.datasets import load_test_inputs
from snn_conversion.data.locate import DATASETS
from snn_conversion.snn.reference import quantized_forward

__all__ = ['float64_ann_correct']


def float64_ann_correct(row, model_file, data_dir=None, chunk=500, num_test=None):
    """Test images the float64 quantized ANN of ``row``'s checkpoint classifies correctly: (correct, images);
    ``num_test``: of the first N test images only.  The network is the checkpoint's (a MobileNet's width, input
    size and classes are chosen by flags and the data set, and recorded in it)."""
    params, meta = load_checkpoint(model_file)
    arch = architectures.get(meta.get('architecture') or row.arch)
    use_int = row.sim_flag_true('--use_int')
    ternary = resolve_ternary(meta, arch, model_file)
    x, y = load_test_inputs(arch.dataset, data_dir=data_dir, num_test=num_test, input_shape=arch.input_shape)
    chunk = min(chunk, DATASETS[arch.dataset].get('eval_batch', chunk))
    correct = 0
    for s in range(0, len(y), chunk):
        labels = np.asarray(y[s:s + chunk])
        _, logits = quantized_forward(arch, params, np.asarray(x[s:s + chunk]), row.k, B=row.B,
                                      use_ternary=ternary, use_int=use_int)
        correct += int(np.sum(np.argmax(logits, axis=1) == labels))
    return correct, len(y)
