"""Weight quantization as a value: what checkpoints store, what the code asks."""
import pytest

from snn_conversion.core import architectures
from snn_conversion.core.weights import NONE, TERNARY, WeightQuant


def test_values_and_what_they_answer():
    assert WeightQuant.of(None) is NONE and WeightQuant.of('none') is NONE and WeightQuant.of('ternary') is TERNARY
    assert WeightQuant.of(TERNARY) is TERNARY and WeightQuant.of(4).bits == 4 and str(WeightQuant.of(4)) == '4-bit'
    assert TERNARY.ternary and not TERNARY.full_precision and NONE.full_precision and not NONE.ternary
    assert (NONE.stored, TERNARY.stored) == ('none', 'ternary')
    for bad in ('binary', 0, -1, True, 1.5):
        with pytest.raises(ValueError, match='a weight quantization is'):
            WeightQuant.of(bad)


def test_architectures_and_the_use_ternary_choice():
    assert architectures.get('lenet_mnist_sg').weight_quant is TERNARY
    assert architectures.get('lenet_mnist').weight_quant is NONE
    integer = architectures.get('lenet_mnist_int')
    assert integer.weight_quant_for(False) is NONE and integer.weight_quant_for(True) is TERNARY
    assert integer.weight_quant_for(None) is TERNARY
