"""The contract of a data-set kind and the registry of kinds (pure Python)."""

from __future__ import absolute_import, division, print_function

from snn_conversion.core.errors import UserError

__all__ = ['Kind', 'KINDS', 'register_kind', 'get_kind', 'split_val', 'DatasetError', 'generated_images', 'download']


class DatasetError(UserError):
    """Missing or corrupt dataset files; the message is one line, meant for the user."""


class Kind(object):
    """How the data sets of one file format are found, read, fetched and generated.  ``spec``: the data set's
    entry of :data:`~snn_conversion.data.locate.DATASETS` (its subfolders, shapes, files, URL)."""

    name = None
    streamed = False  # read lazily by the network's input pipeline, never loaded whole

    def required_files(self, spec, splits):
        """The files a folder must hold for ``splits`` ('train', 'val', 'test')."""
        raise NotImplementedError

    def load(self, name, spec, folder, splits):
        """{split: (images, labels)} of the requested splits read from ``folder``."""
        raise NotImplementedError

    def how_to_get(self, name, spec):
        """The end of the one-line error of a data set not found: how its files get there."""
        return 'or add --download'

    def made_by(self, name, spec):
        """What makes a data set that cannot be downloaded (for the table runner's hint); None where it can."""
        return None

    def fetch(self, name, spec, target_dir):
        """Download the data set into ``target_dir/<its first subfolder>``; returns that folder."""
        raise DatasetError('%s cannot be downloaded as such: %s' % (name, self.made_by(name, spec)))

    def write_synthetic(self, spec, folder, rng, sizes):
        """Write generated files of the real format, ``sizes`` = (training, test) images, into ``folder``."""
        raise UserError('no generated stand-in for the %s format' % self.name)

    def test_inputs(self, folder, num_test, input_shape):
        """(inputs, labels) of a streamed kind's test set in ``folder`` (the first ``num_test``, at the network's
        ``input_shape``); the other kinds are loaded whole."""
        raise NotImplementedError


KINDS = {}


def register_kind(kind):
    """Add a :class:`Kind` instance under its ``name``; returns it."""
    if not kind.name:
        raise ValueError('a data-set kind needs a name')
    KINDS[kind.name] = kind
    return kind


def get_kind(spec):
    """The :class:`Kind` of a data set's entry."""
    try:
        return KINDS[spec['kind']]
    except KeyError:
        raise ValueError('unknown data-set kind %r (known: %s)' % (spec['kind'], ', '.join(sorted(KINDS))))


def split_val(x, y):
    """TensorLayer's split of a training set: the last 10,000 images (1/6 of smaller sets) for validation."""
    n_val = 10000 if len(x) > 10000 else max(1, len(x) // 6)
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


def generated_images(rng, n, shape, classes, high):
    """``n`` integer images of ``shape`` below ``high`` with labels: noise plus a faint pattern per class (the
    content of generated stand-ins: what an epoch costs does not depend on what the images show)."""
    labels = rng.randint(0, classes, n)
    patterns = rng.randint(0, high, (classes,) + tuple(shape))
    return patterns[labels] // 4 + rng.randint(0, high, (n,) + tuple(shape)) * 3 // 4, labels


def download(url, path):
    """``url`` into ``path`` (through ``path.part``, renamed when complete); only ever called when asked to."""
    import os
    from six.moves.urllib.request import urlretrieve  # six ships with TensorFlow's requirements

    print('downloading %s -> %s' % (url, path))
    urlretrieve(url, path + '.part')
    os.replace(path + '.part', path)
