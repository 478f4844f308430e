"""``tf.data`` input pipelines: cache, shuffle, batch, parallel batched augmentation, prefetch.

Training pipelines hold the arrays in memory as tensors (their cache) and shuffle by index: each
epoch is a seeded permutation cut into batches of indices, and one ``map`` with
``num_parallel_calls=AUTOTUNE`` gathers a batch and augments it with batched TF ops. Every
random choice (order and augmentation parameters) is a pure function of ``(seed, epoch, batch
index)``, so a run resumed at epoch ``k`` (``initial_epoch=k``) sees exactly the batches an
uninterrupted run sees from epoch ``k`` on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from ..schema.data import Augmentation
from .augment import apply_augmentations


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Batches in one epoch (the last one may be smaller): pass to ``fit(steps_per_epoch=)``
    with an ``epochs=`` dataset so Keras keeps one iterator across epochs."""
    return max(1, math.ceil(num_examples / batch_size))


def epoch_ids(seed: int) -> tf.data.Dataset:
    """The epoch number a training dataset draws: one fresh (seeded) number per iteration of
    the dataset, so each pass over it is a new, seeded epoch."""
    return tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)


def epoch_key(seed: int, epoch: tf.Tensor) -> tf.Tensor:
    """The stateless random key ``[seed, epoch]`` every random choice of an epoch derives from."""
    return tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])


def epoch_order(key: tf.Tensor, count: int) -> tf.Tensor:
    """A seeded permutation of ``range(count)`` (int32)."""
    return tf.argsort(tf.random.stateless_uniform([count], key))


def batch_keys(key: tf.Tensor, steps: int) -> tf.data.Dataset:
    """One augmentation key per batch of the epoch, folded from the epoch's key."""
    return tf.data.Dataset.range(steps).map(
        lambda step: tf.random.experimental.stateless_fold_in(key, step)
    )


def make_dataset(
    x: np.ndarray,
    y: np.ndarray | None,
    *,
    batch_size: int,
    training: bool,
    augment: Sequence[Augmentation] = (),
    seed: int = 0,
    keypoints: bool | None = None,
    masks: bool = False,
) -> tf.data.Dataset:
    """A dataset of ``(images, targets)`` batches (``images`` only when ``y`` is None).

    ``x``: ``(N, H, W, C)`` float32 (or ``(N, D)``); ``y``: ``(N,)`` labels or ``(N, K)``
    targets, or ``{output: targets}`` for a model with several outputs (never keypoints).
    Evaluation datasets (``training=False``) keep their order and are never augmented.
    Training datasets shuffle every epoch and apply ``augment`` (see
    :func:`kerasbuild.schema.data.augmentations_for`) to whole batches in a ``map`` with
    ``num_parallel_calls=AUTOTUNE``, fresh parameters per epoch and per image: the dataset is
    re-iterable and each pass over it is a new, seeded epoch.

    ``keypoints``: whether flips move the targets (default: ``y`` is 2-D floating with an
    even number of columns, i.e. interleaved x, y keypoint coordinates). ``masks``: ``y``
    holds ``(N, H, W)`` segmentation masks that geometric augmentations move with the images.
    """
    if not training or y is None:
        ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y)).cache()
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    count = len(x)
    steps = steps_per_epoch(count, batch_size)
    images, targets = tf.constant(x), tf.nest.map_structure(tf.constant, y)

    def one_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
        """Batches of example indices (a seeded permutation) with a random key per batch."""
        key = epoch_key(seed, epoch)
        order = epoch_order(key, count)
        return tf.data.Dataset.zip(
            tf.data.Dataset.from_tensor_slices(order).batch(batch_size), batch_keys(key, steps)
        )

    if keypoints is None:
        keypoints = bool(
            not isinstance(y, dict)
            and y.ndim == 2
            and np.issubdtype(y.dtype, np.floating)
            and y.shape[1] % 2 == 0
        )
    augment = list(augment)

    def load_batch(index: tf.Tensor, key: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = (
            tf.gather(images, index),
            tf.nest.map_structure(lambda t: tf.gather(t, index), targets),
        )
        if not augment:
            return batch
        return apply_augmentations(*batch, key, augment, keypoints=bool(keypoints), masks=masks)

    ds = epoch_ids(seed).flat_map(one_epoch)
    ds = ds.map(load_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return known_length(ds, steps)


def known_length(ds: tf.data.Dataset, batches: int) -> tf.data.Dataset:
    """``ds`` stating that it holds ``batches`` batches (a per-epoch ``flat_map`` or a record
    filter hides it, and Keras then warns "Your input ran out of data"), prefetched."""
    return ds.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(tf.data.AUTOTUNE)
