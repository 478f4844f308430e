"""Record sources streamed from disk: TFRecord shards of ``tf.train.Example`` and prepared
TensorFlow Datasets builders (TensorFlow).

Both become a :class:`RecordSource`: the index (one int64 key and one target per record,
read in one streaming pass that parses only the targets) and ``read()``, a dataset of
``(key, encoded image bytes, target)`` in a fixed order. TFRecord keys are ``shard << 32 |
record``, stable whatever the reading parallelism; tfds keys are positions in the split.
A segmentation record's target is its encoded mask (``mask_key``); its index pass checks
every image and mask pair (:func:`kerasbuild.data.masks.check_pair`) and keeps each mask's
largest class id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..errors import KerasbuildError
from ..schema.data import DataConfig
from .sources import Task

TFRECORD_IMAGE = "image/encoded"
TFRECORD_LABEL = "image/class/label"


@dataclass
class RecordSource:
    """``keys``: ``(N,)`` int64; ``y``: ``(N,)`` int64 or ``(N, K)`` float32; ``read()``:
    ``(key, bytes, target)`` examples in index order; ``first_image``: one encoded image
    (to learn the size and channels); ``explicit``: splits the source defines."""

    keys: np.ndarray
    y: np.ndarray
    task: Task
    read: Callable[[], tf.data.Dataset]
    first_image: bytes
    class_names: list[str] | None = None
    target_names: list[str] | None = None
    explicit: dict[str, RecordSource] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)


def _index(read: Callable[[], tf.data.Dataset]) -> tuple[np.ndarray, np.ndarray]:
    """Keys and targets of every record (one pass, batched)."""
    keys, ys = [], []
    for k, y in read().map(lambda k, _, y: (k, y)).batch(4096).as_numpy_iterator():
        keys.append(k)
        ys.append(y)
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(keys), np.concatenate(ys)


# ---------------------------------------------------------------------------- TFRecord
def tfrecord_source(files: list[Path], data: DataConfig) -> RecordSource:
    """Shards matched by ``data.source``; features ``image_key`` (bytes) and ``label_key``
    (int64), ``target_keys`` (float) or ``mask_key`` (an encoded PNG mask). A shard whose
    first record lacks a feature is an error naming the shard (``on_bad_image: skip`` leaves
    the shard out); a bad mask is an error naming the shard and the record."""
    image_key = data.image_key or TFRECORD_IMAGE
    label_key = data.label_key or TFRECORD_LABEL
    targets = [data.mask_key] if data.mask_key else data.target_keys or [label_key]
    wanted = [image_key, *targets]
    good, skipped, first = [], [], b""
    for f in files:
        problem, image = _check_shard(f, wanted)
        if problem is None:
            good.append(f)
            first = first or image
        elif data.on_bad_image == "skip":
            skipped.append((str(f), problem))
        else:
            raise KerasbuildError(
                f"data.source: {f}: {problem}; set data.image_key / data.label_key / "
                "data.target_keys to the record's feature names, or data.on_bad_image: "
                "skip to leave the shard out"
            )
    if not good:
        raise KerasbuildError(f"data.source: no readable TFRecord shards in {data.source}")
    features = {image_key: tf.io.FixedLenFeature([], tf.string)}
    if data.mask_key:
        features[data.mask_key] = tf.io.FixedLenFeature([], tf.string)
    elif data.target_keys:
        features.update({k: tf.io.FixedLenFeature([], tf.float32) for k in data.target_keys})
    else:
        features[label_key] = tf.io.FixedLenFeature([], tf.int64)
    names = [str(f) for f in good]

    def parse(key: tf.Tensor, record: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        ex = tf.io.parse_single_example(record, features)
        if data.target_keys:
            return key, ex[image_key], tf.stack([ex[k] for k in data.target_keys])
        return key, ex[image_key], ex[targets[0]]

    def read() -> tf.data.Dataset:
        shards = tf.constant(names)

        def shard(i: tf.Tensor) -> tf.data.Dataset:
            return (
                tf.data.TFRecordDataset(shards[i]).enumerate().map(lambda j, r: (i * 2**32 + j, r))
            )

        ds = tf.data.Dataset.range(len(names)).interleave(
            shard,
            cycle_length=min(len(names), 8),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    try:
        keys, y = _mask_index(read, names, data.mask_key) if data.mask_key else _index(read)
    except tf.errors.InvalidArgumentError as exc:
        raise KerasbuildError(
            f"data.source: a record in {data.source} lacks a feature of {wanted}: "
            f"{exc.message.splitlines()[0]}"
        ) from None
    if data.target_keys:
        return RecordSource(
            keys,
            y.astype(np.float32),
            "regression",
            read,
            first,
            target_names=list(data.target_keys),
            skipped=skipped,
        )
    task: Task = "segmentation" if data.mask_key else "classification"
    return RecordSource(keys, y.astype(np.int64), task, read, first, skipped=skipped)


def _mask_index(
    read: Callable[[], tf.data.Dataset], shards: list[str], mask_key: str
) -> tuple[np.ndarray, np.ndarray]:
    """Keys and each mask's largest class id, every image and mask pair checked (one pass,
    batched; Pillow in threads). A bad pair is an error naming its shard and record."""
    from concurrent.futures import ThreadPoolExecutor

    from .masks import check_pair

    keys, largest = [], []
    name = f"('{mask_key}')"
    with ThreadPoolExecutor(max_workers=8) as pool:
        for k, images, masks in read().batch(256).as_numpy_iterator():
            results = pool.map(check_pair, images, masks, [name] * len(k))
            for key, result in zip(k, results, strict=True):
                if isinstance(result, str):
                    raise KerasbuildError(
                        f"data.source: {shards[key >> 32]}: record {key & 0xFFFFFFFF}: {result}"
                    )
                largest.append(result[1].largest)
            keys.append(k)
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(keys), np.array(largest, np.int64)


def _check_shard(path: Path, wanted: list[str]) -> tuple[str | None, bytes]:
    """``(problem or None, the first record's image bytes)``: reads one record only."""
    try:
        raw = next(iter(tf.data.TFRecordDataset(str(path)).take(1)), None)
    except tf.errors.OpError as exc:
        return f"not a TFRecord file ({exc.message.splitlines()[0]})", b""
    if raw is None:
        return "no records", b""
    try:
        example = tf.train.Example.FromString(raw.numpy())
    except Exception as exc:  # protobuf DecodeError
        return f"record 0 is not a tf.train.Example ({exc})", b""
    have = example.features.feature
    missing = [k for k in wanted if k not in have]
    if missing:
        return (
            f"record 0 has no feature {', '.join(repr(m) for m in missing)} "
            f"(it has: {', '.join(sorted(have)) or 'none'})"
        ), b""
    return None, have[wanted[0]].bytes_list.value[0]


# -------------------------------------------------------------------------------- tfds
def tfds_source(data: DataConfig, data_dir: str | None) -> RecordSource:
    """``tfds:NAME[:CONFIG]`` (``/CONFIG`` too) from ``data_dir``; never downloads: an
    unprepared data set is a clear error. Images are streamed encoded (``SkipDecoding``)."""
    import tensorflow_datasets as tfds

    name = data.source.removeprefix("tfds:").strip("/").replace(":", "/")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as exc:  # tfds raises several types for unknown names and configs
        raise KerasbuildError(
            f"data.source: cannot open tfds data set '{name}' (data_dir "
            f"{data_dir or 'default'}): {exc}"
        ) from None
    if not tf.io.gfile.exists(str(builder.data_dir)) or not builder.info.splits:
        raise KerasbuildError(
            f"data.source: tfds data set '{name}' is not prepared in "
            f"{data_dir or 'the default data_dir'}; "
            f"kerasbuild never downloads: run 'tfds build {name} --data_dir DIR' first and "
            "set data.data_dir: DIR"
        )
    keys = builder.info.supervised_keys or (None, None)
    image_key = data.image_key or keys[0]
    label_key = data.label_key or keys[1]
    features = builder.info.features
    if image_key not in features or label_key not in features:
        raise KerasbuildError(
            f"data.source: tfds data set '{name}' has no features '{image_key}' and "
            f"'{label_key}' (it has: {', '.join(features)}); set data.image_key / data.label_key"
        )
    label = features[label_key]
    names = list(label.names) if hasattr(label, "names") else None

    def split_source(split: str) -> RecordSource:
        def read() -> tf.data.Dataset:
            ds = builder.as_dataset(
                split=split, shuffle_files=False, decoders={image_key: tfds.decode.SkipDecoding()}
            )
            return ds.enumerate().map(lambda i, ex: (i, ex[image_key], ex[label_key]))

        try:
            index, y = _index(read)
            first = next(read().take(1).as_numpy_iterator())[1]
        except (StopIteration, ValueError, AssertionError, tf.errors.OpError) as exc:
            raise KerasbuildError(
                f"data: cannot read split '{split}' of tfds data set '{name}': {exc}"
            ) from None
        task: Task = (
            "classification"
            if names is not None or np.issubdtype(y.dtype, np.integer)
            else "regression"
        )
        y = (
            y.astype(np.int64)
            if task == "classification"
            else y.reshape(len(y), -1).astype(np.float32)
        )
        return RecordSource(index, y, task, read, first, names)

    source = split_source(data.split)
    source.explicit = {
        part: split_source(split)
        for part, split in (("valid", data.valid_split), ("test", data.test_split))
        if split
    }
    return source
