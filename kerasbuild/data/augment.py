"""Batched augmentation in TensorFlow ops, for use inside ``tf.data`` ``map``.

Every function takes a batch of images ``(B, H, W, C)`` float32 and a stateless seed (shape
``[2]`` integer tensor); each image gets its own random parameters. Points outside the image
read as 0: whole-pixel shifts gather pixels directly, elastic distortion resamples through the
gather-based bilinear sampler (:func:`bilinear_sample`), rotation and zoom through
TensorFlow's batched projective-transform kernel.
Coordinates are in pixels: row ``r``, column ``c`` is the centre of pixel ``(r, c)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import tensorflow as tf

from ..schema.data import (
    Augmentation,
    Elastic,
    FlipHorizontal,
    FlipVertical,
    GaussianNoise,
    RandomResizedCrop,
    Rotation,
    Shift,
    Zoom,
)


def gather_pixels(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """Read ``images`` ``(B, H, W, C)`` at integer pixel positions ``rows``, ``cols`` (each
    ``(B, H', W')`` int32); positions outside the image read as 0. One flat ``tf.gather``
    (faster than ``gather_nd`` with batch dimensions). Returns ``(B, H', W', C)``."""
    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    flat = tf.reshape(images, [-1, shape[3]])
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = (
        (tf.range(shape[0]) * h * w)[:, None, None]
        + tf.clip_by_value(rows, 0, h - 1) * w
        + tf.clip_by_value(cols, 0, w - 1)
    )
    return tf.gather(flat, index) * tf.cast(inside, images.dtype)[..., None]


def bilinear_sample(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """Sample ``images`` ``(B, H, W, C)`` at source coordinates ``rows``, ``cols`` (each
    ``(B, H', W')`` float32, in pixels) with bilinear weights; points outside the image read
    as 0. Integer coordinates reproduce pixels exactly. Returns ``(B, H', W', C)``."""
    r0 = tf.floor(rows)
    c0 = tf.floor(cols)
    fr = (rows - r0)[..., None]
    fc = (cols - c0)[..., None]
    r0 = tf.cast(r0, tf.int32)
    c0 = tf.cast(c0, tf.int32)
    top = gather_pixels(images, r0, c0) * (1 - fc) + gather_pixels(images, r0, c0 + 1) * fc
    bottom = (
        gather_pixels(images, r0 + 1, c0) * (1 - fc) + gather_pixels(images, r0 + 1, c0 + 1) * fc
    )
    return top * (1 - fr) + bottom * fr


def _grid(images: tf.Tensor, dtype: tf.DType = tf.float32) -> tuple[tf.Tensor, tf.Tensor]:
    """Pixel-centre coordinates ``(B, H, W)`` rows and columns of the output grid."""
    shape = tf.shape(images)
    r, c = tf.meshgrid(tf.range(shape[1]), tf.range(shape[2]), indexing="ij")
    return (
        tf.broadcast_to(tf.cast(r, dtype), shape[:3]),
        tf.broadcast_to(tf.cast(c, dtype), shape[:3]),
    )


def translate(images: tf.Tensor, dy: tf.Tensor, dx: tf.Tensor) -> tf.Tensor:
    """Move image ``i`` by ``dy[i]`` whole pixels down and ``dx[i]`` right (``(B,)``
    integers; negative: up / left), zero fill. Exact: one gather, no interpolation."""
    r, c = _grid(images, tf.int32)
    return gather_pixels(
        images, r - tf.cast(dy, tf.int32)[:, None, None], c - tf.cast(dx, tf.int32)[:, None, None]
    )


def random_shift(images: tf.Tensor, seed: tf.Tensor, max_pixels: int) -> tf.Tensor:
    """Translate each image by whole pixels drawn uniformly from ``[-max_pixels, max_pixels]``
    on each axis."""
    batch = tf.shape(images)[0]
    d = tf.random.stateless_uniform([2, batch], seed, -max_pixels, max_pixels + 1, dtype=tf.int32)
    return translate(images, d[0], d[1])


def affine_about_centre(
    images: tf.Tensor, angle: tf.Tensor, zoom: tf.Tensor, interpolation: str = "BILINEAR"
) -> tf.Tensor:
    """Rotate image ``i`` by ``angle[i]`` radians and scale it by ``zoom[i]`` (> 1 magnifies)
    about its centre; ``interpolation`` BILINEAR (images) or NEAREST (masks), zero fill.
    Runs as one batched ``ImageProjectiveTransformV3`` (the kernel behind Keras'
    RandomRotation), whose
    transform maps each output pixel back to its source point."""
    shape = tf.shape(images)
    cy = (tf.cast(shape[1], tf.float32) - 1) / 2
    cx = (tf.cast(shape[2], tf.float32) - 1) / 2
    cos = tf.cos(angle) / zoom
    sin = tf.sin(angle) / zoom
    zeros = tf.zeros_like(angle)
    # source x = cos (x - cx) - sin (y - cy) + cx ; source y = sin (x - cx) + cos (y - cy) + cy
    transforms = tf.stack(
        [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, zeros, zeros],
        axis=1,
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=shape[1:3],
        fill_value=0.0,
        interpolation=interpolation,
        fill_mode="CONSTANT",
    )


def random_rotation(
    images: tf.Tensor, seed: tf.Tensor, degrees: float, interpolation: str = "BILINEAR"
) -> tf.Tensor:
    """Rotate each image by an angle drawn uniformly from ``[-degrees, degrees]``."""
    limit = degrees * math.pi / 180
    angle = tf.random.stateless_uniform(tf.shape(images)[:1], seed, -limit, limit)
    return affine_about_centre(images, angle, tf.ones_like(angle), interpolation)


def random_zoom(
    images: tf.Tensor, seed: tf.Tensor, factor: float, interpolation: str = "BILINEAR"
) -> tf.Tensor:
    """Scale each image by a factor drawn uniformly from ``[1 - factor, 1 + factor]``."""
    zoom = tf.random.stateless_uniform(tf.shape(images)[:1], seed, 1 - factor, 1 + factor)
    return affine_about_centre(images, tf.zeros_like(zoom), zoom, interpolation)


def gaussian_kernel(sigma: float) -> tf.Tensor:
    """A normalised 1-D Gaussian of ``2 * ceil(3 sigma) + 1`` taps."""
    radius = max(1, math.ceil(3 * sigma))
    t = tf.range(-radius, radius + 1, dtype=tf.float32)
    k = tf.exp(-0.5 * (t / sigma) ** 2)
    return k / tf.reduce_sum(k)


def smooth(fields: tf.Tensor, sigma: float) -> tf.Tensor:
    """Gaussian-smooth ``(B, H, W, K)`` fields channel by channel (separable
    ``tf.nn.depthwise_conv2d``, zero padding)."""
    k = gaussian_kernel(sigma)
    channels = fields.shape[-1]
    vertical = tf.tile(tf.reshape(k, [-1, 1, 1, 1]), [1, 1, channels, 1])
    horizontal = tf.tile(tf.reshape(k, [1, -1, 1, 1]), [1, 1, channels, 1])
    out = tf.nn.depthwise_conv2d(fields, vertical, [1, 1, 1, 1], "SAME")
    return tf.nn.depthwise_conv2d(out, horizontal, [1, 1, 1, 1], "SAME")


def elastic_distort(
    images: tf.Tensor, seed: tf.Tensor, alpha: float, sigma: float, nearest: bool = False
) -> tf.Tensor:
    """Simard et al. (2003): displacement fields uniform in [-1, 1] per pixel, smoothed by a
    Gaussian of ``sigma`` pixels, scaled by ``alpha`` pixels; each output pixel reads the
    input at its displaced position (bilinear; ``nearest``: the nearest pixel, for masks).
    ``alpha = 0`` returns the images unchanged."""
    shape = tf.shape(images)
    fields = tf.random.stateless_uniform(tf.concat([shape[:3], [2]], 0), seed, -1.0, 1.0)
    d = smooth(fields, sigma) * alpha
    r, c = _grid(images)
    rows, cols = r + d[..., 0], c + d[..., 1]
    if nearest:
        return gather_pixels(
            images, tf.cast(tf.round(rows), tf.int32), tf.cast(tf.round(cols), tf.int32)
        )
    return bilinear_sample(images, rows, cols)


def gaussian_noise(images: tf.Tensor, seed: tf.Tensor, sigma: float) -> tf.Tensor:
    """Add noise drawn from N(0, sigma^2) to every value."""
    return images + tf.random.stateless_normal(tf.shape(images), seed, stddev=sigma)


def random_resized_crop(
    images: tf.Tensor,
    seed: tf.Tensor,
    scale: Sequence[float],
    ratio: Sequence[float],
    method: str = "bilinear",
) -> tf.Tensor:
    """Per image, a box of area ``s * H * W`` (``s`` uniform in ``scale``) and aspect ratio
    width/height ``r`` (log-uniform in ``ratio``), clipped to [1 pixel, the image], at a uniform
    random position, resized back to ``(H, W)`` (``method`` bilinear, or nearest for masks;
    one batched ``tf.image.crop_and_resize``). Returns ``(B, H, W, C)`` float32."""
    shape = tf.shape(images)
    batch = shape[0]
    size = tf.cast(shape[1:3], tf.float32)
    s = tf.unstack(tf.random.experimental.stateless_split(seed, 4), num=4)
    area = tf.random.stateless_uniform([batch], s[0], scale[0], scale[1]) * size[0] * size[1]
    log_ratio = tf.random.stateless_uniform([batch], s[1], math.log(ratio[0]), math.log(ratio[1]))
    height = tf.clip_by_value(tf.sqrt(area / tf.exp(log_ratio)), 1.0, size[0])
    width = tf.clip_by_value(tf.sqrt(area * tf.exp(log_ratio)), 1.0, size[1])
    top = tf.random.stateless_uniform([batch], s[2]) * (size[0] - height)
    left = tf.random.stateless_uniform([batch], s[3]) * (size[1] - width)
    # crop_and_resize samples pixel coordinates y1 * (H - 1) .. y2 * (H - 1): the box's first
    # and last pixel centres are top and top + height - 1 (the whole image: the identity).
    boxes = tf.stack(
        [
            top / tf.maximum(size[0] - 1, 1),
            left / tf.maximum(size[1] - 1, 1),
            (top + height - 1) / tf.maximum(size[0] - 1, 1),
            (left + width - 1) / tf.maximum(size[1] - 1, 1),
        ],
        axis=1,
    )
    return tf.image.crop_and_resize(images, boxes, tf.range(batch), shape[1:3], method=method)


def random_vertical_flip(images: tf.Tensor, seed: tf.Tensor, p: float) -> tf.Tensor:
    """Mirror each image upside down with probability ``p``."""
    flip = tf.random.stateless_uniform(tf.shape(images)[:1], seed) < p
    return tf.where(flip[:, None, None, None], tf.reverse(images, axis=[1]), images)


def random_flip(
    images: tf.Tensor,
    targets: tf.Tensor | None,
    seed: tf.Tensor,
    p: float,
    swap: Sequence[tuple[int, int]] = (),
) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Mirror each image left-right with probability ``p``. ``targets`` (``(B, K)`` keypoint
    columns ``x0, y0, x1, y1, ...`` centred on the image, or ``None`` to leave targets alone)
    follow nolearn's FlipBatchIterator on the flipped rows: x columns negated, then the
    column pairs in ``swap`` exchanged."""
    flip = tf.random.stateless_uniform(tf.shape(images)[:1], seed) < p
    images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    if targets is None:
        return images, None
    k = targets.shape[-1]
    sign = tf.constant([-1.0 if j % 2 == 0 else 1.0 for j in range(k)], targets.dtype)
    order = list(range(k))
    for a, b in swap:
        order[a], order[b] = order[b], order[a]
    flipped = tf.gather(targets * sign, order, axis=1)
    return images, tf.where(flip[:, None], flipped, targets)


def apply_augmentations(
    images: tf.Tensor,
    targets: tf.Tensor,
    seed: tf.Tensor,
    augment: Sequence[Augmentation],
    *,
    keypoints: bool,
    masks: bool = False,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Apply ``augment`` in order to one batch; ``keypoints``: targets are keypoint columns
    that flips must move; ``masks``: targets are ``(B, H, W)`` segmentation masks that every
    geometric augmentation moves exactly as it moves the images (the same random draws, by
    nearest neighbour; uncovered pixels become class 0), while noise leaves them alone. Each
    augmentation draws from its own split of ``seed``."""
    seeds = tf.random.experimental.stateless_split(
        tf.cast(seed, tf.int64), num=max(1, len(augment))
    )
    labels = tf.cast(targets, tf.float32)[..., None] if masks else None
    for aug, s in zip(augment, tf.unstack(seeds, num=max(1, len(augment)))):
        if isinstance(aug, FlipHorizontal):
            images, moved = random_flip(
                images, targets if keypoints else None, s, aug.p, aug.swap_columns()
            )
            targets = moved if keypoints else targets
            labels = None if labels is None else random_flip(labels, None, s, aug.p)[0]
        elif isinstance(aug, GaussianNoise):
            images = gaussian_noise(images, s, aug.sigma)
        else:
            images = _move(images, aug, s, nearest=False)
            labels = None if labels is None else _move(labels, aug, s, nearest=True)
    if labels is not None:
        targets = tf.cast(tf.round(labels[..., 0]), targets.dtype)
    return images, targets


def _move(images: tf.Tensor, aug: Augmentation, seed: tf.Tensor, *, nearest: bool) -> tf.Tensor:
    """Apply the geometric augmentation ``aug`` (not a horizontal flip) to a batch, bilinear
    or (``nearest``) by nearest neighbour; the random draws depend on ``seed`` and the batch's
    ``(B, H, W)`` only, so images and their masks move alike."""
    if isinstance(aug, FlipVertical):
        return random_vertical_flip(images, seed, aug.p)
    if isinstance(aug, RandomResizedCrop):
        method = "nearest" if nearest else "bilinear"
        return random_resized_crop(images, seed, aug.scale, aug.ratio, method)
    if isinstance(aug, Shift):
        return random_shift(images, seed, aug.max_pixels)
    if isinstance(aug, Rotation):
        return random_rotation(images, seed, aug.degrees, "NEAREST" if nearest else "BILINEAR")
    if isinstance(aug, Zoom):
        return random_zoom(images, seed, aug.factor, "NEAREST" if nearest else "BILINEAR")
    if isinstance(aug, Elastic):
        return elastic_distort(images, seed, aug.alpha, aug.sigma, nearest)
    raise TypeError(f"not a geometric augmentation: {aug!r}")
