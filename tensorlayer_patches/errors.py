"""Moved to snn_conversion.core.errors (an alias kept while the SNN side moves; not part of the patched TensorLayer)."""
import sys

import snn_conversion.core.errors

sys.modules[__name__] = sys.modules['snn_conversion.core.errors']
