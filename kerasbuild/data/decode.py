"""Encoded image bytes -> a fixed-size uint8 image, inside ``tf.data`` ``map`` (TensorFlow).

``decode_image`` reads JPEG, PNG, BMP and GIF (first frame) and converts to ``channels`` (grey
becomes RGB and back). ``resize`` fits ``(height, width)``: ``stretch`` scales each axis
(bilinear), ``crop`` scales to cover and cuts the centre (the aspect ratio kept), ``pad``
scales to fit and pads with zeros. Images stay uint8 (rounded) so batches are 4x smaller
than float32 until :func:`to_model_input` converts them, last. Segmentation masks
(:func:`decode_mask`) follow their image's resize by nearest neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf


def decode(
    data: tf.Tensor, channels: int, size: Sequence[int], mode: str = "stretch", resize: bool = True
) -> tf.Tensor:
    """Bytes (a scalar string tensor) -> uint8 ``(height, width, channels)``. ``resize``
    False: the image must already be ``size`` (checked by the scan before training)."""
    image = tf.io.decode_image(data, channels=channels, expand_animations=False, dtype=tf.uint8)
    if not resize:
        return tf.ensure_shape(image, [size[0], size[1], channels])
    resized = fit(image, size, mode, "bilinear")
    out = tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)
    return tf.ensure_shape(out, [size[0], size[1], channels])


def decode_mask(
    data: tf.Tensor, size: Sequence[int], mode: str = "stretch", resize: bool = True
) -> tf.Tensor:
    """An encoded single-channel PNG of class ids -> uint8 ``(height, width)``, fitted to
    ``size`` as :func:`decode` fits its image but by nearest neighbour (class ids are never
    blended); ``pad`` fills with class 0."""
    mask = tf.io.decode_png(data, channels=1, dtype=tf.uint8)
    if resize:
        mask = tf.cast(fit(mask, size, mode, "nearest"), tf.uint8)
    return tf.ensure_shape(mask[..., 0], [size[0], size[1]])


def fit(image: tf.Tensor, size: Sequence[int], mode: str, method: str) -> tf.Tensor:
    """``(H, W, C)`` -> ``(height, width, C)`` by ``mode`` (stretch, crop, pad) with the
    resize ``method`` (``bilinear`` for images, ``nearest`` for masks)."""
    height, width = size
    if mode == "crop":
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        ratio = width / height
        crop_h = tf.minimum(shape[0], tf.round(shape[1] / ratio))
        crop_w = tf.minimum(shape[1], tf.round(shape[0] * ratio))
        top = tf.cast((shape[0] - crop_h) // 2, tf.int32)
        left = tf.cast((shape[1] - crop_w) // 2, tf.int32)
        image = tf.image.crop_to_bounding_box(
            image, top, left, tf.cast(crop_h, tf.int32), tf.cast(crop_w, tf.int32)
        )
    if mode == "pad":
        return tf.image.resize_with_pad(image, height, width, method=method)
    return tf.image.resize(image, (height, width), method=method)


def to_model_input(
    images: tf.Tensor,
    scale: float | None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> tf.Tensor:
    """A uint8 batch ``(B, H, W, C)`` -> float32 ``* scale`` then ``(x - mean) / std``."""
    x = tf.cast(images, tf.float32)
    if scale is not None:
        x = x * scale
    if mean is not None:
        x = (x - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)
    return x
