"""``python -m tensorlayer_patches.datasets NAME --download`` (documented): the loaders live in
:mod:`snn_conversion.data.datasets`; this name stays as an alias of it."""
import sys

from snn_conversion.data import datasets as _datasets

if __name__ == '__main__':
    sys.exit(_datasets.main())
else:
    sys.modules[__name__] = _datasets
