"""ImageNet for the MobileNet workspace: TFRecord conversion, the training input and the evaluation input.

Conversion (``tfrecord_imagenet.py``, :func:`convert`) reads the standard layout ::

    <data_dir>/train/<wnid>/*.JPEG
    <data_dir>/val/<wnid>/*.JPEG        or   <data_dir>/val/*.JPEG + --val_labels FILE

and writes ``train-SSSSS-of-NNNNN.tfrecord`` / ``validation-SSSSS-of-NNNNN.tfrecord`` shards, ``synsets.txt``
(one wnid per line: line i is class i, the wnids sorted -- stable whatever the file system lists) and
``meta.json`` (shard names and image counts).  Each record is a ``tf.train.Example`` with the JPEG bytes
(``image/encoded``; files that are not RGB/greyscale JPEG -- ImageNet has a PNG and some CMYK JPEGs -- are
re-encoded once, quality 95), ``image/class/label`` (0-based), ``image/height``, ``image/width``,
``image/synset`` and ``image/filename``.  The training images are spread over the shards in a fixed
pseudo-random order (seed 0), the validation images stay in sorted order.  Shards are written by parallel
worker processes, each to a temporary name renamed when complete: an interrupted conversion resumes by
writing only the missing shards, and the same input gives byte-identical files.

Inputs (as the authors' ``input_data.py``, with ``tf.data``): the shorter side is resized (bilinear) to
``round(256/224 x size)`` -- 256 for 224 px -- then training takes a random ``size`` crop, a random left-right
flip, brightness and contrast distortions and per-image standardization (:mod:`snn_conversion.ann.inputs`,
stateless random numbers drawn from the seed, the epoch and the record's position; the training input is
``snn_conversion.ann.inputs.ImageNetTrainInput``); evaluation takes the
central crop and standardizes.  :class:`EvalSplit` reads the validation records by index, so the ANN's
evaluation and the spiking simulator see every validation image exactly once, bit-identical.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import io
import json
import os
import struct
import sys

import numpy as np

from snn_conversion.core.fileio import WriteError, atomic_write_text, check_write
from snn_conversion.data.kinds.base import DatasetError
from snn_conversion.core.errors import ArgumentParser, UserError
from snn_conversion.core.flags import add_data_dir_flag, PROCESSES, SHARDS

__all__ = ['convert', 'list_images', 'read_meta', 'shard_files', 'EvalSplit', 'decode_example', 'num_classes',
           'resize_shorter', 'eval_image', 'resize_side', 'SPLITS']

SPLITS = ('train', 'validation')
SOURCE_DIRS = {'train': 'train', 'validation': 'val'}
META, SYNSETS = 'meta.json', 'synsets.txt'
IMAGE_EXTENSIONS = ('.jpeg', '.jpg', '.png')
FORMAT = 'snn-imagenet-tfrecord-1'
JPEG_QUALITY = 95


def resize_side(image_size):
    """Length of the shorter side before cropping ``image_size``: 256 for 224 (the authors' ratio)."""
    return int(round(image_size * 256.0 / 224.0))


# ----------------------------------------------------------------------------- listing the source folders

def _image_files(folder):
    return sorted(f for f in os.listdir(folder)
                  if f.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, f)))


def _class_dirs(folder):
    return sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))


def _read_val_labels(path, files, synsets):
    """Labels of the flat ``val/`` images from ``path``: one wnid per line (in sorted file-name order, as
    ``imagenet_2012_validation_synset_labels.txt``) or ``<file name> <wnid>`` per line."""
    try:
        with open(path) as f:
            lines = [line.split() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError('cannot read the validation labels %s (%s)' % (path, e))
    if lines and all(len(parts) == 1 for parts in lines):
        if len(lines) != len(files):
            raise DatasetError('%s has %d labels for %d validation images' % (path, len(lines), len(files)))
        pairs = dict(zip(files, (parts[0] for parts in lines)))
    elif lines and all(len(parts) == 2 for parts in lines):
        pairs = {os.path.basename(a): b for a, b in lines}
        missing = [f for f in files if f not in pairs]
        if missing:
            raise DatasetError('%s gives no label for %d validation image(s), e.g. %s' % (path, len(missing), missing[0]))
    else:
        raise DatasetError('%s: expected one wnid per line, or "<file name> <wnid>" per line' % path)
    unknown = sorted(set(pairs[f] for f in files) - set(synsets))
    if unknown:
        raise DatasetError('%s names synset(s) not among the training classes: %s' % (path, ', '.join(unknown[:5])))
    return [pairs[f] for f in files]


def list_images(data_dir, val_labels=None, splits=SPLITS):
    """(synsets, {split: [(path, relative name, wnid), ...]}): every image of the requested splits, sorted."""
    if not os.path.isdir(data_dir):
        raise DatasetError('ImageNet folder %s does not exist' % data_dir)
    train_dir, val_dir = (os.path.join(data_dir, SOURCE_DIRS[s]) for s in SPLITS)
    if os.path.isdir(train_dir):
        synsets = _class_dirs(train_dir)
    elif os.path.isdir(val_dir) and _class_dirs(val_dir):
        synsets = _class_dirs(val_dir)
    else:
        raise DatasetError('%s has neither train/<wnid>/ nor val/<wnid>/ class folders (the standard ImageNet '
                           'layout)' % data_dir)
    if len(synsets) < 2:
        raise DatasetError('%s: found %d class folder(s); a classifier needs at least 2' % (data_dir, len(synsets)))
    out = {}
    for split in splits:
        src = os.path.join(data_dir, SOURCE_DIRS[split])
        if not os.path.isdir(src):
            raise DatasetError('%s: no %s/ folder for the %s split' % (data_dir, SOURCE_DIRS[split], split))
        items = []
        sub = _class_dirs(src)
        if sub:
            extra = sorted(set(sub) - set(synsets))
            if extra:
                raise DatasetError('%s has class folder(s) %s that train/ lacks' % (src, ', '.join(extra[:5])))
            for wnid in sub:
                items += [(os.path.join(src, wnid, f), '%s/%s' % (wnid, f), wnid)
                          for f in _image_files(os.path.join(src, wnid))]
        else:
            files = _image_files(src)
            if not val_labels:
                raise DatasetError('%s holds the images without class folders: pass --val_labels FILE' % src)
            items = [(os.path.join(src, f), f, wnid) for f, wnid in zip(files, _read_val_labels(val_labels, files, synsets))]
        if not items:
            raise DatasetError('%s holds no images (*.JPEG, *.jpg, *.png)' % src)
        out[split] = items
    return synsets, out


# ----------------------------------------------------------------------------- writing

def _encode_image(path):
    """(JPEG bytes, height, width) of an image file: the file's bytes when it is an RGB or greyscale JPEG,
    else the image re-encoded as RGB JPEG."""
    from PIL import Image

    try:
        with open(path, 'rb') as f:
            data = f.read()
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as e:  # PIL raises many types for corrupt files
        raise DatasetError('%s is not a readable image (%s: %s)' % (path, type(e).__name__, e))
    width, height = img.size
    if img.format == 'JPEG' and img.mode in ('RGB', 'L'):
        return data, height, width
    buf = io.BytesIO()
    img.convert('RGB').save(buf, format='JPEG', quality=JPEG_QUALITY)
    return buf.getvalue(), height, width


def _example(tf, data, label, height, width, synset, name):
    def b(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))

    def i(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v)]))

    ex = tf.train.Example(features=tf.train.Features(feature={
        'image/encoded': b(data), 'image/format': b(b'JPEG'), 'image/class/label': i(label),
        'image/height': i(height), 'image/width': i(width), 'image/synset': b(synset.encode()),
        'image/filename': b(name.encode())}))
    return ex.SerializeToString(deterministic=True)


def _write_shard(job):
    """Worker: write one shard to a temporary name, then rename it.  Returns the number of records."""
    from snn_conversion.core.tf_logging import quiet_tensorflow

    tf = quiet_tensorflow()
    out_path, records = job
    tmp = out_path + '.tmp-%d' % os.getpid()
    try:
        check_write(out_path)
        with tf.io.TFRecordWriter(tmp) as writer:
            for path, name, wnid, label in records:
                data, height, width = _encode_image(path)
                writer.write(_example(tf, data, label, height, width, wnid, name))
        os.replace(tmp, out_path)
    except (OSError, IOError, tf.errors.OpError) as e:  # the shards written before stay; a rerun writes the rest
        raise WriteError(out_path, getattr(e, 'message', None) and OSError(0, e.message) or e)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return len(records)


def _shard_name(split, index, count):
    return '%s-%05d-of-%05d.tfrecord' % (split, index, count)


def convert(data_dir, out_dir, train_shards=1024, val_shards=128, workers=None, val_labels=None, splits=SPLITS,
            progress=True):
    """Convert an ImageNet folder into TFRecord shards in ``out_dir`` (resumable, deterministic); returns meta."""
    from tqdm import tqdm

    synsets, items = list_images(data_dir, val_labels, splits)
    labels = {wnid: i for i, wnid in enumerate(synsets)}
    shards = {'train': int(train_shards), 'validation': int(val_shards)}
    for split in splits:
        if shards[split] < 1:
            raise UserError('--%s_shards must be >= 1, got %d' % ('train' if split == 'train' else 'val', shards[split]))
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise UserError('cannot create %s (%s)' % (out_dir, e.strerror or e))
    jobs, meta = [], dict(format=FORMAT, num_classes=len(synsets), splits={})
    digest = hashlib.sha256('\n'.join(synsets).encode())
    for split in splits:
        recs = [(path, name, wnid, labels[wnid]) for path, name, wnid in items[split]]
        if split == 'train':  # spread the classes over the shards (fixed order: the output is deterministic)
            recs = [recs[i] for i in np.random.RandomState(0).permutation(len(recs))]
        n = min(shards[split], len(recs))
        names = []
        for s in range(n):
            part = recs[s * len(recs) // n:(s + 1) * len(recs) // n]
            names.append(_shard_name(split, s, n))
            jobs.append((os.path.join(out_dir, names[-1]), part))
            digest.update(('%s|%s\n' % (names[-1], '|'.join('%s:%d' % (r[1], r[3]) for r in part))).encode())
        meta['splits'][split] = dict(count=len(recs), shards=names, shard_counts=[len(j[1]) for j in jobs[-n:]])
    meta['source_digest'] = digest.hexdigest()
    meta_path = os.path.join(out_dir, META)
    if os.path.isfile(meta_path):
        old = read_meta(out_dir)
        if old.get('source_digest') != meta['source_digest']:
            raise UserError('%s holds TFRecords of another conversion (other images, classes or shard counts); '
                            'use an empty --out_dir' % out_dir)
    atomic_write_text(os.path.join(out_dir, SYNSETS), ''.join(w + '\n' for w in synsets))
    todo = [j for j in jobs if not os.path.isfile(j[0])]
    if len(todo) < len(jobs):
        print('%d of %d shards already written: converting the other %d' % (len(jobs) - len(todo), len(jobs), len(todo)))
    workers = max(1, min(int(workers or os.cpu_count() or 1), len(todo) or 1))
    bar = tqdm(total=sum(len(j[1]) for j in todo), desc='TFRecords', unit='img', file=sys.stderr, disable=not progress)
    try:
        if workers == 1 or len(todo) <= 1:
            for job in todo:
                bar.update(_write_shard(job))
        else:
            import multiprocessing
            with multiprocessing.get_context('spawn').Pool(workers) as pool:
                for n in pool.imap_unordered(_write_shard, todo):
                    bar.update(n)
    finally:
        bar.close()
    atomic_write_text(meta_path, json.dumps(meta, indent=1, sort_keys=True) + '\n')
    return meta


# ----------------------------------------------------------------------------- reading

def read_meta(folder):
    path = os.path.join(folder, META)
    try:
        with open(path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise DatasetError('%s is not a readable meta.json written by tfrecord_imagenet.py (%s)' % (path, e))
    if not isinstance(meta, dict) or meta.get('format') != FORMAT:
        raise DatasetError('%s was not written by tfrecord_imagenet.py (format %r)' % (path, meta.get('format')
                                                                                      if isinstance(meta, dict) else None))
    return meta


def shard_files(folder, split):
    """(shard paths, meta) of ``split`` in a converted folder; refuses a missing or incomplete conversion."""
    meta = read_meta(folder)
    if split not in meta['splits']:
        raise DatasetError('%s holds no %s split (convert it with tfrecord_imagenet.py)' % (folder, split))
    files = [os.path.join(folder, n) for n in meta['splits'][split]['shards']]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise DatasetError('%d shard(s) of %s are missing, e.g. %s: run tfrecord_imagenet.py again to finish the '
                           'conversion' % (len(missing), split, missing[0]))
    return files, meta


def num_classes(folder):
    return int(read_meta(folder)['num_classes'])


def _record_index(path):
    """(offset, length) of every record of a TFRecord file, from its framing (no payload is read)."""
    out = []
    size = os.path.getsize(path)
    with open(path, 'rb') as f:
        pos = 0
        while pos < size:
            head = f.read(12)
            if len(head) < 12:
                raise DatasetError('%s is truncated (a record header is cut at byte %d)' % (path, pos))
            (length,) = struct.unpack('<Q', head[:8])
            if pos + 12 + length + 4 > size:
                raise DatasetError('%s is truncated or not a TFRecord file (record at byte %d claims %d bytes)'
                                   % (path, pos, length))
            out.append((pos + 12, length))
            pos += 12 + length + 4
            f.seek(pos)
    return out


def decode_example(tf, serialized):
    """(float32 RGB image 0..255, int64 label) of one serialized record."""
    feats = tf.io.parse_single_example(serialized, {
        'image/encoded': tf.io.FixedLenFeature([], tf.string),
        'image/class/label': tf.io.FixedLenFeature([], tf.int64)})
    image = tf.cast(tf.image.decode_jpeg(feats['image/encoded'], channels=3), tf.float32)
    return image, feats['image/class/label']


def resize_shorter(tf, image, side):
    """Bilinear resize so that the shorter side is ``side`` (the other scaled and truncated, as the authors)."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float64), tf.cast(shape[1], tf.float64)
    side_f = tf.constant(float(side), tf.float64)
    nh = tf.cond(h < w, lambda: tf.constant(side, tf.int32), lambda: tf.cast(h * side_f / w, tf.int32))
    nw = tf.cond(h < w, lambda: tf.cast(w * side_f / h, tf.int32), lambda: tf.constant(side, tf.int32))
    return tf.image.resize_images(image, tf.stack([nh, nw]))


def eval_image(tf, serialized, size):
    """The evaluation input of one record: shorter side resized, central ``size`` crop, standardized."""
    image, label = decode_example(tf, serialized)
    image = resize_shorter(tf, image, resize_side(size))
    shape = tf.shape(image)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    image = tf.slice(image, tf.stack([top, left, 0]), [size, size, 3])
    return tf.image.per_image_standardization(image), label


class EvalSplit(object):
    """The evaluation inputs of a converted split, read by index: ``images[a:b]`` / ``labels[a:b]``.

    Records are located from the shards' framing once; a slice decodes only its own records (through a small
    TensorFlow graph), and the images and labels of the same slice are decoded once.
    """

    def __init__(self, folder, split, image_size, num=None):
        self.files, self.meta = shard_files(folder, split)
        self.index = [(path, off, length) for path in self.files for off, length in _record_index(path)]
        expected = self.meta['splits'][split]['count']
        if len(self.index) != expected:
            raise DatasetError('%s shards of %s hold %d records, meta.json says %d: the conversion is damaged'
                               % (split, folder, len(self.index), expected))
        if num is not None:
            self.index = self.index[:num]
        self.size = int(image_size)
        self._graph = self._sess = None
        self._cache = (None, None)
        self.images, self.labels = _View(self, 0), _View(self, 1)

    def __len__(self):
        return len(self.index)

    def _build(self):
        from snn_conversion.core.tf_logging import quiet_tensorflow

        tf = quiet_tensorflow()
        self._graph = tf.Graph()
        with self._graph.as_default():
            self._records = tf.placeholder(tf.string, (None,))
            self._out = tf.map_fn(lambda r: eval_image(tf, r, self.size), self._records,
                                  dtype=(tf.float32, tf.int64), back_prop=False)
            self._sess = tf.Session(graph=self._graph, config=tf.ConfigProto(
                intra_op_parallelism_threads=0, inter_op_parallelism_threads=0))

    def read(self, start, stop):
        """(images float32 NHWC, labels int64) of records ``start:stop``."""
        key = (start, stop)
        if self._cache[0] == key:
            return self._cache[1]
        records = []
        for path, off, length in self.index[start:stop]:
            with open(path, 'rb') as f:
                f.seek(off)
                records.append(f.read(length))
        if not records:
            out = (np.zeros((0, self.size, self.size, 3), np.float32), np.zeros(0, np.int64))
        else:
            if self._sess is None:
                self._build()
            try:
                out = self._sess.run(self._out, {self._records: records})
            except Exception as e:  # tf.errors.* of a corrupt record
                raise DatasetError('records %d..%d of the %s: cannot decode (%s)'
                                   % (start, stop - 1, os.path.dirname(self.files[0]), str(e).splitlines()[0]))
        self._cache = (key, out)
        return out

    def close(self):
        if self._sess is not None:
            self._sess.close()
            self._sess = None


class _View(object):
    """``images`` or ``labels`` of an :class:`EvalSplit`: len() and contiguous slices."""

    def __init__(self, split, which):
        self.split, self.which = split, which

    def __len__(self):
        return len(self.split)

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError('ImageNet inputs are read by contiguous slices')
        start, stop, _ = item.indices(len(self.split))
        return self.split.read(start, max(start, stop))[self.which]


def main(argv=None):
    """Command line of ``tfrecord_imagenet.py``."""
    from snn_conversion.core.errors import run_cli

    return run_cli(_cli, argv)


def _cli(argv):

    p = ArgumentParser(description='Convert ImageNet (DATA_DIR/train/<wnid>/*.JPEG and DATA_DIR/val/<wnid>/*.JPEG, '
                                            'or DATA_DIR/val/*.JPEG with --val_labels) into sharded TFRecords, '
                                            'synsets.txt and meta.json in OUT_DIR. Interrupted runs resume; the same '
                                            'input gives byte-identical output.')
    add_data_dir_flag(p, 'ImageNet folder holding train/ and val/', required=True)
    p.add_argument('--out_dir', default=os.path.join('data', 'imagenet'),
                   help='output folder (default %(default)s, where the training and SNN scripts look)')
    p.add_argument('--val_labels', default=None,
                   help='labels of a flat val/ folder: one wnid per line in sorted file-name order, or '
                        '"<file> <wnid>" per line')
    p.add_argument('--train_shards', type=SHARDS, default=1024, help='training shards (default %(default)s)')
    p.add_argument('--val_shards', type=SHARDS, default=128, help='validation shards (default %(default)s)')
    p.add_argument('--splits', default='train,validation', help='comma-separated: train, validation')
    p.add_argument('--workers', type=PROCESSES, default=None, help='parallel processes (default: CPU cores)')
    a = p.parse_args(argv)
    splits = tuple(s.strip() for s in a.splits.split(',') if s.strip())
    bad = [s for s in splits if s not in SPLITS]
    if bad or not splits:
        raise UserError('--splits takes train and/or validation, got %r' % a.splits)
    if a.workers is not None and a.workers < 1:
        raise UserError('--workers must be >= 1, got %d' % a.workers)
    meta = convert(a.data_dir, a.out_dir, a.train_shards, a.val_shards, a.workers, a.val_labels, splits)
    for split, info in sorted(meta['splits'].items()):
        print('%s: %d images in %d shard(s)' % (split, info['count'], len(info['shards'])))
    print('%d classes (synsets.txt); written to %s' % (meta['num_classes'], a.out_dir))
    return meta
