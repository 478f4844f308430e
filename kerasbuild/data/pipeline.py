"""``tf.data`` input pipelines: cache, shuffle, batch, parallel batched augmentation, prefetch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from .augment import apply_augmentations
from .config import Augmentation


def make_dataset(x: np.ndarray, y: np.ndarray | None, *, batch_size: int, training: bool,
                 augment: Sequence[Augmentation] = (), seed: int = 0,
                 keypoints: bool | None = None, cache: bool = True) -> tf.data.Dataset:
    """A dataset of ``(images, targets)`` batches (``images`` only when ``y`` is None).

    ``x``: ``(N, H, W, C)`` float32 (or ``(N, D)``); ``y``: ``(N,)`` labels or ``(N, K)``
    targets. ``training``: reshuffle every epoch (seeded) and apply ``augment`` (see
    :func:`kerasbuild.data.config.augmentations_for`) to whole batches in a ``map`` with
    ``num_parallel_calls=AUTOTUNE``; each epoch draws fresh, seed-determined parameters.
    ``keypoints``: whether flips move the targets (default: ``y`` is 2-D floating with an
    even number of columns). Evaluation datasets keep their order and are never augmented.
    """
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if training and augment and y is not None:
        if keypoints is None:
            keypoints = bool(y.ndim == 2 and np.issubdtype(y.dtype, np.floating) and y.shape[1] % 2 == 0)
        steps = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        augment = list(augment)

        def augment_batch(batch: tuple[tf.Tensor, tf.Tensor], step_seed: tf.Tensor):
            return apply_augmentations(batch[0], batch[1], step_seed, augment, keypoints=bool(keypoints))

        ds = tf.data.Dataset.zip(ds, steps).map(augment_batch, num_parallel_calls=tf.data.AUTOTUNE,
                                                deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
