"""Real image data made on the spot for the streaming tests: class folders of small JPEGs
(each class a distinct, learnable pattern plus noise) and TFRecord shards of the same."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def class_image(label: int, rng: np.random.Generator, size: int, channels: int = 3) -> np.ndarray:
    """A ``(size, size, channels)`` uint8 image: class ``label`` lights one horizontal band
    (of 4) brightly, plus noise."""
    image = rng.integers(0, 60, (size, size, channels)).astype(np.uint8)
    band = size // 4
    image[(label % 4) * band:(label % 4 + 1) * band] += 150
    return image


def encode(image: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(buffer, fmt)
    return buffer.getvalue()


def write_image_folder(root: Path, per_class: int, size: int = 16, classes: int = 4, seed: int = 0) -> Path:
    """``root/c0 .. c{classes-1}/NNNN.jpg``; returns ``root``."""
    rng = np.random.default_rng(seed)
    for label in range(classes):
        folder = root / f"c{label}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / f"{i:04d}.jpg").write_bytes(encode(class_image(label, rng, size)))
    return root


def write_tfrecords(prefix: Path, shards: int, per_shard: int, size: int = 16, classes: int = 4,
                    image_key: str = "image/encoded", label_key: str = "image/class/label") -> list[Path]:
    """``prefix-0000N.tfrecord`` shards of tf.train.Example (JPEG bytes + int64 label)."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    paths = []
    for shard in range(shards):
        path = Path(f"{prefix}-{shard:05d}.tfrecord")
        with tf.io.TFRecordWriter(str(path)) as writer:
            for i in range(per_shard):
                label = (shard * per_shard + i) % classes
                feature = {image_key: tf.train.Feature(bytes_list=tf.train.BytesList(
                               value=[encode(class_image(label, rng, size))])),
                           label_key: tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))}
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        paths.append(path)
    return paths
