"""Moved to snn_conversion.ann.cluster (an alias kept while the SNN side moves; not part of the patched TensorLayer)."""
import sys

import snn_conversion.ann.cluster

sys.modules[__name__] = sys.modules['snn_conversion.ann.cluster']
