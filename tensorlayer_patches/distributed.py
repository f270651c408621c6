"""The MobileNet flag helpers under their old name (kept while the SNN side moves; not part of the patched
TensorLayer): :func:`snn_conversion.core.flags.add_mobilenet_flags`, :func:`snn_conversion.data.imagenet.mobilenet_arch`."""
from snn_conversion.core.flags import add_mobilenet_flags  # noqa: F401
from snn_conversion.data.imagenet import mobilenet_arch  # noqa: F401
