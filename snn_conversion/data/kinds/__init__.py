"""Data-set kinds as strategies: where a kind's files are, how they are read, fetched, checked and generated.

Each kind is one module of this package defining a :class:`~snn_conversion.data.kinds.base.Kind` and registering
it; a data set (:data:`snn_conversion.data.locate.DATASETS`) names its kind.  A new file format is one module here
(and its data sets' entries), see ``tests/data/test_new_kind.py``.
"""

from snn_conversion.data.kinds.base import KINDS, Kind, get_kind, register_kind  # noqa: F401
from snn_conversion.data.kinds import cifar, frames, idx, tfrecord  # noqa: F401  (each registers its kind)

__all__ = ['KINDS', 'Kind', 'get_kind', 'register_kind']
