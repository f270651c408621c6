"""``python -m tensorlayer_patches.checkpoint FILE`` (documented): the checkpoint format lives in
:mod:`snn_conversion.core.checkpoint`; this name stays as an alias of it."""
import sys

from snn_conversion.core import checkpoint as _checkpoint

if __name__ == '__main__':
    _checkpoint.main()
else:
    sys.modules[__name__] = _checkpoint
