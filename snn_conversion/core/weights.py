"""How a network's hidden weights are quantized, as a value: :data:`NONE` (full precision), :data:`TERNARY` (TWN:
{-a, 0, a} with a per-layer scale), or :func:`WeightQuant.of` an int bit width (the patched TensorLayer's
DoReFa-style option).  The names 'none' / 'ternary' are what checkpoints store; code asks the value
(``.ternary``, ``.full_precision``) instead of comparing strings."""

from __future__ import absolute_import, division, print_function

__all__ = ['WeightQuant', 'NONE', 'TERNARY']


class WeightQuant(object):
    """(Not a tuple: it formats as its name, ``'%s' % wq``.)"""

    __slots__ = ('name', 'bits')

    def __init__(self, name, bits=None):
        self.name, self.bits = name, bits

    def __eq__(self, other):
        return isinstance(other, WeightQuant) and (self.name, self.bits) == (other.name, other.bits)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.name, self.bits))

    def __repr__(self):
        return 'WeightQuant(%r)' % self.name

    @classmethod
    def of(cls, value):
        """The value of ``value``: a :class:`WeightQuant`, None / 'none', 'ternary', or an int bit width."""
        if isinstance(value, WeightQuant):
            return value
        if value is None or value == 'none':
            return NONE
        if value == 'ternary':
            return TERNARY
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return cls('%d-bit' % value, value)
        raise ValueError("a weight quantization is None, 'none', 'ternary' or a bit width >= 1, not %r" % (value,))

    @property
    def ternary(self):
        return self.name == 'ternary'

    @property
    def full_precision(self):
        return self.name == 'none'

    @property
    def stored(self):
        """What a checkpoint's ``weight_quant`` entry says."""
        return self.name

    def __str__(self):
        return self.name


NONE = WeightQuant('none', None)
TERNARY = WeightQuant('ternary', None)
