"""Streamed splits: image folders, CSVs of image paths, TFRecord shards and tfds builders,
split over their index (paths or record keys plus targets, never pixels) and read batch by
batch, so memory is O(batch x prefetch) whatever the data set's size (TensorFlow).

Training pipeline per epoch ``e`` (every random choice a pure function of ``(seed, e)``, so
a run resumed at epoch ``e`` sees what an uninterrupted run sees):

- files: a seeded permutation of the split's rows -> ``read_file`` + decode (parallel,
  deterministic order) -> batch (uint8) -> scale/normalise -> augment -> prefetch;
- records, or any cached source: the split's records in stream order (a cache of files: a seeded
  permutation fixed for the run) -> :func:`block_shuffle` seeded by ``(seed, e)`` over
  ``shuffle_buffer`` examples -> the same batch / augment steps.

Evaluation pipelines keep the index order. ``cache: memory | PATH`` caches decoded uint8
images (memory: everything; PATH: a file cache on disk).

Segmentation (``masks:`` folders or a TFRecord ``mask_key``): each example's target is its
mask, decoded to uint8 ``(H, W)`` beside its image, resized by nearest neighbour, batched as
int32 ``(B, H, W)`` and moved by every geometric augmentation as its image is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from ..errors import KerasbuildError
from ..schema.data import Augmentation, DataConfig, augmentations_for
from ..schema.train import TrainConfig
from .decode import decode, decode_mask, to_model_input
from .index import FileIndex, ScanResult, csv_index, folder_index, scan_files
from .pipeline import (
    batch_keys,
    epoch_ids,
    epoch_key,
    epoch_order,
    known_length,
    steps_per_epoch,
)
from .records import RecordSource, tfds_source, tfrecord_source
from .sources import glob_matches, resolve_path

PARTS = ("train", "valid", "test")


@dataclass
class Part:
    """One split: ``rows`` index the source (a FileIndex's rows or a RecordSource's keys)."""

    source: FileIndex | RecordSource
    rows: np.ndarray

    @property
    def y(self) -> np.ndarray:
        return self.source.y[self.rows]

    @property
    def targets(self) -> np.ndarray:
        """What a file index streams as targets (mask paths for segmentation)."""
        return self.source.targets[self.rows]

    @property
    def keys(self) -> list:
        """What the run directory records: file paths or record keys."""
        ids = self.source.paths if isinstance(self.source, FileIndex) else self.source.keys
        return [x.item() if hasattr(x, "item") else x for x in ids[self.rows]]


@dataclass
class StreamSplits:
    """Streamed train / valid / test splits with the same metadata as
    :class:`kerasbuild.data.splits.Splits` (``class_names``, ``task``, ``input_shape``,
    ``preprocessing``, ``augment``, ``seed``). ``skipped``: ``(file, problem)`` pairs the
    scan left out (``on_bad_image: skip``)."""

    parts: dict[str, Part]
    class_names: list[str] | None
    task: str
    input_shape: tuple[int, int, int]
    preprocessing: dict[str, Any]
    data: DataConfig
    target_names: list[str] | None = None
    augment: list[Augmentation] = field(default_factory=list)
    seed: int = 0
    resize: bool = True
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def y_train(self) -> np.ndarray:
        return self.parts["train"].y

    @property
    def num_classes(self) -> int | None:
        """Classes (classification), or the largest mask class id of any split + 1
        (segmentation); None for regression."""
        if self.task == "segmentation":
            return max(int(p.y.max(initial=-1)) for p in self.parts.values()) + 1
        if self.task != "classification":
            return None
        return len(self.class_names) if self.class_names else int(self.y_train.max(initial=-1)) + 1

    @property
    def mask_size(self) -> tuple[int, int]:
        """``(height, width)`` of the batched masks (the images' size)."""
        return self.input_shape[0], self.input_shape[1]

    def largest_class_at(self) -> str:
        """Where the largest mask class id is (a mask file or a record key), for messages."""
        part = max(self.parts.values(), key=lambda p: p.y.max(initial=-1))
        row = int(np.argmax(part.y))
        return str(part.targets[row] if isinstance(part.source, FileIndex) else part.keys[row])

    def size(self, part: str) -> int:
        """Examples in ``part`` (``train``, ``valid`` or ``test``)."""
        return len(self.parts[part].rows)

    def recorded(self) -> dict[str, list]:
        """The split as the run directory records it (``splits.json``)."""
        return {name: part.keys for name, part in self.parts.items()}

    # ------------------------------------------------------------------------- datasets
    def _decode(self, data: tf.Tensor, target: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Encoded image (and, segmentation, encoded mask) -> uint8 image and target."""
        h, w, c = self.input_shape
        image = decode(data, c, (h, w), self.data.resize_mode, self.resize)
        if self.task == "segmentation":
            target = decode_mask(target, (h, w), self.data.resize_mode, self.resize)
        return image, target

    def _read(self, path: tf.Tensor, target: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """A file row -> its encoded image and target (the mask file's bytes, segmentation)."""
        if self.task == "segmentation":
            return tf.io.read_file(path), tf.io.read_file(target)
        return tf.io.read_file(path), target

    def _examples(self, part: str) -> tf.data.Dataset:
        """Decoded ``(uint8 image, target)`` examples of ``part`` in index order."""
        p = self.parts[part]
        if isinstance(p.source, FileIndex):
            ds = tf.data.Dataset.from_tensor_slices((p.source.paths[p.rows], p.targets))
            ds = ds.map(self._read)
        else:
            ds = p.source.read()
            if len(p.rows) != len(p.source):
                table = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        tf.constant(p.source.keys[p.rows]), tf.ones(len(p.rows), tf.int64)
                    ),
                    0,
                )
                ds = ds.filter(lambda k, _, y: table.lookup(k) > 0)
            ds = ds.map(lambda k, data, y: (data, y))
        return ds.map(self._decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def cache_file(self, part: str) -> str:
        """The file prefix ``part``'s decoded images are cached under with ``cache: PATH``:
        ``PATH-<part>-<fingerprint>``, the fingerprint a hash of the part's files (or record
        keys) and the decoded shape, so another split, resize or source never reads a stale
        cache."""
        import hashlib

        facts = json.dumps(
            [
                self.parts[part].keys,
                list(self.input_shape),
                self.data.resize_mode,
                self.resize,
                self.data.masks,
                self.data.mask_key,
            ],
            default=str,
        )
        return f"{self.data.cache}-{part}-{hashlib.sha256(facts.encode()).hexdigest()[:12]}"

    def _cached(self, ds: tf.data.Dataset, part: str) -> tf.data.Dataset:
        cache = self.data.cache
        return (
            ds if cache == "none" else ds.cache("" if cache == "memory" else self.cache_file(part))
        )

    def _finish(self, ds: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
        """uint8 examples -> float model-input batches (masks: int32 ``(B, H, W)``)."""
        pre = self.preprocessing
        masks = self.task == "segmentation"
        return ds.batch(batch_size).map(
            lambda x, y: (
                to_model_input(x, pre.get("scale"), pre.get("mean"), pre.get("std")),
                tf.cast(y, tf.int32) if masks else y,
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    def dataset(self, part: str, batch_size: int, *, training: bool = False) -> tf.data.Dataset:
        """Batches ``(float32 (B, H, W, C), targets)`` of ``part``; ``training``: shuffled
        and augmented per epoch, re-iterable (each pass is a new seeded epoch, as in
        :func:`kerasbuild.data.pipeline.make_dataset`)."""
        if not training:
            ds = self._finish(self._cached(self._examples(part), part), batch_size)
            return known_length(ds, steps_per_epoch(len(self.parts[part].rows), batch_size))
        p = self.parts["train"]
        count = len(p.rows)
        steps = steps_per_epoch(count, batch_size)
        by_permutation = isinstance(p.source, FileIndex) and self.data.cache == "none"
        examples = None if by_permutation else self._cached(self._examples("train"), "train")
        buffer = count if self.data.cache == "memory" else min(count, self.data.shuffle_buffer)
        keypoints = self.task == "regression" and self.y_train.shape[1] % 2 == 0
        masks = self.task == "segmentation"
        augment = self.augment

        def one_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
            key = epoch_key(self.seed, epoch)
            if by_permutation:
                rows = tf.gather(tf.constant(p.rows), epoch_order(key, count))
                ds = tf.data.Dataset.from_tensor_slices(rows).map(
                    lambda i: self._decode(
                        *self._read(tf.gather(p.source.paths, i), tf.gather(p.source.targets, i))
                    ),
                    num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True,
                )
            else:
                ds = block_shuffle(examples, buffer, key)
            return tf.data.Dataset.zip(self._finish(ds, batch_size), batch_keys(key, steps))

        def augmented(
            batch: tuple[tf.Tensor, tf.Tensor], key: tf.Tensor
        ) -> tuple[tf.Tensor, tf.Tensor]:
            if not augment:
                return batch
            from .augment import apply_augmentations

            return apply_augmentations(*batch, key, augment, keypoints=keypoints, masks=masks)

        ds = epoch_ids(self.seed).flat_map(one_epoch)
        ds = ds.map(augmented, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return known_length(ds, steps)

    def raw_batches(self, part: str, batch_size: int, limit: int) -> tf.data.Dataset:
        """The first ``limit`` decoded uint8 images of ``part`` (for statistics and previews)."""
        return self._examples(part).take(limit).batch(batch_size)


def block_shuffle(ds: tf.data.Dataset, block: int, key: tf.Tensor) -> tf.data.Dataset:
    """Shuffle a stream in consecutive blocks of ``block`` examples, each by a permutation
    drawn from ``key`` and the block's number (``Dataset.shuffle`` cannot take a per-epoch
    tensor seed under a global seed of 0). Memory: one block."""

    def permute(i: tf.Tensor, images: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        order = tf.argsort(
            tf.random.stateless_uniform(
                tf.shape(y)[:1], tf.random.experimental.stateless_fold_in(key, i)
            )
        )
        return tf.gather(images, order), tf.gather(y, order)

    return ds.batch(block).enumerate().map(lambda i, batch: permute(i, *batch)).unbatch()


# ---------------------------------------------------------------------------- loading
def open_source(data: DataConfig, base_dir: Path | None) -> tuple[FileIndex | RecordSource, list]:
    """The index of a streamed source, bad files scanned out (or reported: ``on_bad_image``)."""
    if data.kind == "tfds":
        data_dir = str(resolve_path(data.data_dir, base_dir)) if data.data_dir else None
        return tfds_source(data, data_dir), []
    path = resolve_path(data.source, base_dir)
    if data.kind == "tfrecord":
        files = glob_matches(path)
        if not files:
            raise KerasbuildError(f"data.source: no TFRecord files match {path}")
        source = tfrecord_source(files, data)
        return source, source.skipped
    skip = data.on_bad_image == "skip"
    if data.masks is not None:
        from .masks import mask_folder_index

        return mask_folder_index(path, resolve_path(data.masks, base_dir)), []
    index = (
        csv_index(path, data.path_column, data.label_column)
        if data.kind == "csv"
        else folder_index(path, skip_empty=skip)
    )
    return index, []


def _scan(index: FileIndex, data: DataConfig) -> tuple[FileIndex, list[tuple[str, str]], list]:
    """Scan every file of ``index`` and its explicit splits; returns the good rows, the bad
    files, and the header facts (size, channels) of the good ones."""
    skipped, infos = [], []
    for part in [index, *index.explicit.values()]:
        result = scan_files(part.paths) if part.masks is None else _scan_masks(part)
        skipped += result.bad
        infos += list(result.good.values())
        if result.bad and data.on_bad_image == "error":
            path, problem = result.bad[0]
            more = f" (and {len(result.bad) - 1} more)" if len(result.bad) > 1 else ""
            what = "image" if part.masks is None else "example: image"
            raise KerasbuildError(
                f"data.source: bad {what} {path}: {problem}{more}; fix or remove it, or "
                "set data.on_bad_image: skip to leave bad files out"
            )
    if skipped:
        bad = {p for p, _ in skipped}
        explicit = {
            k: v.take(np.array([p not in bad for p in v.paths])) for k, v in index.explicit.items()
        }
        index = index.take(np.array([p not in bad for p in index.paths]))
        index.explicit = explicit
    return index, skipped, infos


def _scan_masks(part: FileIndex) -> ScanResult:
    """Scan ``part``'s images and masks (:func:`kerasbuild.data.masks.scan_pairs`); each good
    row's ``y`` becomes its mask's largest class id."""
    from .masks import scan_pairs

    result = scan_pairs(part.paths, part.masks)
    part.y = np.array(
        [result.good[p][1].largest if p in result.good else 0 for p in part.paths], np.int64
    )
    return ScanResult({p: info for p, (info, _) in result.good.items()}, result.bad)


def _image_shape(
    data: DataConfig, source: FileIndex | RecordSource, infos: list
) -> tuple[tuple[int, int, int], bool]:
    """``((height, width, channels), resize needed)`` from ``data.resize`` / ``channels`` or the
    images (3 channels when any image has colour)."""
    if isinstance(source, RecordSource):
        import io

        from PIL import Image

        with Image.open(io.BytesIO(source.first_image)) as image:
            infos = [
                type(
                    "Info",
                    (),
                    {
                        "size": (image.height, image.width),
                        "channels": 1 if image.mode in ("L", "I", "1") else 3,
                    },
                )
            ]
    channels = data.channels or max(i.channels for i in infos)
    if data.resize is not None:
        return (data.resize[0], data.resize[1], channels), True
    sizes = sorted({i.size for i in infos})
    if len(sizes) > 1 and isinstance(source, FileIndex):
        raise KerasbuildError(
            f"data.source: images differ in size ({sizes[0]} vs {sizes[-1]}); set "
            "data.resize: [height, width]"
        )
    return (sizes[0][0], sizes[0][1], channels), False


def load_stream(
    data: DataConfig,
    train: TrainConfig,
    base_dir: Path | None = None,
    recorded: dict[str, list] | None = None,
) -> StreamSplits:
    """Index, scan, split (seeded, stratified over the index) and describe a streamed source.
    ``recorded``: a run's ``splits.json`` (the same files as when the run started)."""
    from .splits import (
        DEFAULT_VALID_SIZE,
        hold_out,
        normalization_stats,
        refuse_mask_augmentation,
        task_of,
    )

    seed = data.seed if data.seed is not None else (train.seed if train.seed is not None else 0)
    if data.cache not in ("none", "memory"):
        cache = resolve_path(data.cache, base_dir)
        cache.parent.mkdir(parents=True, exist_ok=True)
        data = data.model_copy(update={"cache": str(cache)})
    source, skipped = open_source(data, base_dir)
    infos: list = []
    if isinstance(source, FileIndex):
        source, bad, infos = _scan(source, data)
        skipped += bad
    task = task_of(source, train)
    if task == "segmentation":
        refuse_mask_augmentation(data, train)
    if task != source.task:
        source.y = source.y.reshape(len(source.y), -1).astype(np.float32)
    sources = {"train": source, **source.explicit}
    if recorded is not None:
        parts = {name: _recorded_part(sources, name, keys) for name, keys in recorded.items()}
    else:
        parts = _split(source, data, train, task, seed, hold_out, DEFAULT_VALID_SIZE)
    if not len(parts["train"].rows):
        raise KerasbuildError(
            "data: no training examples are left after the test and validation splits"
        )
    shape, resize = _image_shape(data, source, infos)
    preprocessing: dict[str, Any] = {}
    if resize and data.resize_mode == "stretch":
        preprocessing["resize"] = list(data.resize)
    scale = 1 / 255 if data.scale == "auto" else data.scale
    if scale is not None and scale != 1.0:
        preprocessing["scale"] = float(scale)
    splits = StreamSplits(
        parts,
        source.class_names,
        task,
        shape,
        preprocessing,
        data,
        source.target_names,
        augmentations_for(data, train),
        seed,
        resize,
        skipped,
    )
    if data.normalize is not None or data.standardize:
        preprocessing.update(normalization_stats(splits, data))
    return splits


def _split(
    source: Any,
    data: DataConfig,
    train: TrainConfig,
    task: str,
    seed: int,
    hold_out: Any,
    default_valid: float,
) -> dict[str, Part]:
    """Seeded, stratified train / valid / test rows over the index (as load_arrays does)."""
    rows = np.random.default_rng(seed).permutation(len(source))
    if data.limit is not None:
        rows = rows[: data.limit]
    y = source.y[rows]
    stratify = data.stratify if data.stratify is not None else task == "classification"
    parts: dict[str, Part] = {}
    if "test" in source.explicit:
        parts["test"] = Part(source.explicit["test"], np.arange(len(source.explicit["test"])))
    else:
        rows, y, held, _ = hold_out(rows, y, data.test_size, stratify, seed, "test_size")
        parts["test"] = Part(source, held)
    if "valid" in source.explicit:
        parts["valid"] = Part(source.explicit["valid"], np.arange(len(source.explicit["valid"])))
    else:
        size = data.valid_size if data.valid_size is not None else train.eval_size
        size = default_valid if size is None else size
        rows, y, held, _ = hold_out(rows, y, size, stratify, seed + 1, "valid_size")
        parts["valid"] = Part(source, held)
    parts["train"] = Part(source, rows)
    return {name: parts[name] for name in PARTS}


def _recorded_part(sources: dict[str, Any], name: str, keys: list) -> Part:
    """A split from a run's ``splits.json``: its keys located in the source's index."""
    for source in sources.values():
        ids = source.paths if isinstance(source, FileIndex) else source.keys
        where = {k.item() if hasattr(k, "item") else k: i for i, k in enumerate(ids)}
        if all(k in where for k in keys[:1]):
            missing = [k for k in keys if k not in where]
            if missing:
                raise KerasbuildError(
                    f"data: {len(missing)} example(s) of the run's recorded {name} split are "
                    f"gone from the source, e.g. {missing[0]}"
                )
            return Part(source, np.array([where[k] for k in keys], np.int64))
    raise KerasbuildError(
        f"data: the run's recorded {name} split does not match the source any more"
    )
