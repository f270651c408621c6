"""Moved to snn_conversion.data.imagenet (an alias kept while the SNN side moves; not part of the patched TensorLayer)."""
import sys

import snn_conversion.data.imagenet

sys.modules[__name__] = sys.modules['snn_conversion.data.imagenet']
