"""The dense convolution: in float32 (the simulator's exact case) its im2col matrix is built a few images at a time
and gives the numbers of one built for the whole batch, bit for bit; float64 stays one product (BLAS may round a
row differently when the number of rows changes); both are TensorFlow's cross-correlation (here: a sum over the
kernel's positions)."""
import numpy as np
import pytest

from snn_conversion.snn import kernels


def _by_positions(x, w, stride, pads):
    """conv2d as a sum of one product per kernel position (exact on integers)."""
    (pt, pb), (pl, pr) = pads
    x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), mode='constant')
    kh, kw = w.shape[:2]
    ho, wo = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((len(x), ho, wo, w.shape[3]), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.tensordot(x[:, i:i + (ho - 1) * stride + 1:stride, j:j + (wo - 1) * stride + 1:stride, :],
                                w[i, j], axes=([3], [0]))
    return out


@pytest.mark.parametrize('stride, pads', [(1, ((2, 2), (2, 2))), (2, ((0, 1), (1, 0))), (1, ((0, 0), (0, 0)))])
def test_conv_in_parts_is_the_whole_batch_product(monkeypatch, stride, pads):
    rng = np.random.RandomState(stride)
    spikes = rng.choice([-1, 0, 0, 0, 1, 2], size=(7, 10, 9, 6)).astype(np.float32)
    w_int = rng.randint(-8, 9, (5, 5, 6, 4)).astype(np.float32)
    x64, w64 = rng.rand(7, 10, 9, 6), rng.randn(5, 5, 6, 4)
    whole = [kernels.conv2d_nhwc(spikes, w_int, stride, pads), kernels.conv2d_nhwc(x64, w64, stride, pads)]
    # float32 in parts of 2 images (the last one of 1): the budget holds two images' im2col rows
    ho, wo = whole[0].shape[1:3]
    monkeypatch.setattr(kernels, 'IM2COL_BYTES', 2 * ho * wo * 5 * 5 * 6 * 4)
    parts = [kernels.conv2d_nhwc(spikes, w_int, stride, pads), kernels.conv2d_nhwc(x64, w64, stride, pads)]
    for a, b in zip(whole, parts):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(parts[0], _by_positions(spikes, w_int, stride, pads))
    np.testing.assert_allclose(parts[1], _by_positions(x64, w64, stride, pads), rtol=1e-12)
    empty = kernels.conv2d_nhwc(x64[:0], w64, stride, pads)
    assert empty.shape == (0, ho, wo, 4) and kernels.conv2d_nhwc(spikes[:0], w_int, stride, pads).shape == empty.shape
