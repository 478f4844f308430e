"""Batched augmentation in TensorFlow ops, for use inside ``tf.data`` ``map``.

Every function takes a batch of images ``(B, H, W, C)`` float32 and a stateless seed (shape
``[2]`` integer tensor); each image gets its own random parameters. Resampling goes through
one gather-based bilinear sampler (:func:`bilinear_sample`) with zero fill outside the image.
Coordinates are in pixels: row ``r``, column ``c`` is the centre of pixel ``(r, c)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import tensorflow as tf

from .config import (
    Augmentation,
    Elastic,
    FlipHorizontal,
    GaussianNoise,
    Rotation,
    Shift,
    Zoom,
)


def bilinear_sample(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """Sample ``images`` ``(B, H, W, C)`` at source coordinates ``rows``, ``cols`` (each
    ``(B, H', W')`` float32, in pixels) with bilinear weights; points outside the image read
    as 0. Integer coordinates reproduce pixels exactly. Returns ``(B, H', W', C)``."""
    h = tf.shape(images)[1]
    w = tf.shape(images)[2]
    r0 = tf.floor(rows)
    c0 = tf.floor(cols)
    fr = (rows - r0)[..., None]
    fc = (cols - c0)[..., None]
    r0 = tf.cast(r0, tf.int32)
    c0 = tf.cast(c0, tf.int32)

    def at(r: tf.Tensor, c: tf.Tensor) -> tf.Tensor:
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        index = tf.stack([tf.clip_by_value(r, 0, h - 1), tf.clip_by_value(c, 0, w - 1)], axis=-1)
        return tf.gather_nd(images, index, batch_dims=1) * tf.cast(inside, images.dtype)[..., None]

    top = at(r0, c0) * (1 - fc) + at(r0, c0 + 1) * fc
    bottom = at(r0 + 1, c0) * (1 - fc) + at(r0 + 1, c0 + 1) * fc
    return top * (1 - fr) + bottom * fr


def _grid(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Pixel-centre coordinates ``(B, H, W)`` rows and columns of the output grid."""
    shape = tf.shape(images)
    rows = tf.cast(tf.range(shape[1]), tf.float32)
    cols = tf.cast(tf.range(shape[2]), tf.float32)
    r, c = tf.meshgrid(rows, cols, indexing="ij")
    return (tf.broadcast_to(r, shape[:3]), tf.broadcast_to(c, shape[:3]))


def translate(images: tf.Tensor, dy: tf.Tensor, dx: tf.Tensor) -> tf.Tensor:
    """Move image ``i`` by ``dy[i]`` pixels down and ``dx[i]`` right (``(B,)`` numbers;
    whole numbers move pixels exactly), zero fill."""
    r, c = _grid(images)
    return bilinear_sample(images, r - tf.cast(dy, tf.float32)[:, None, None],
                           c - tf.cast(dx, tf.float32)[:, None, None])


def random_shift(images: tf.Tensor, seed: tf.Tensor, max_pixels: int) -> tf.Tensor:
    """Translate each image by whole pixels drawn uniformly from ``[-max_pixels, max_pixels]``
    on each axis."""
    batch = tf.shape(images)[0]
    d = tf.random.stateless_uniform([2, batch], seed, -max_pixels, max_pixels + 1, dtype=tf.int32)
    return translate(images, d[0], d[1])


def affine_about_centre(images: tf.Tensor, angle: tf.Tensor, zoom: tf.Tensor) -> tf.Tensor:
    """Rotate image ``i`` by ``angle[i]`` radians and scale it by ``zoom[i]`` (> 1 magnifies)
    about its centre; bilinear, zero fill."""
    shape = tf.shape(images)
    cy = (tf.cast(shape[1], tf.float32) - 1) / 2
    cx = (tf.cast(shape[2], tf.float32) - 1) / 2
    r, c = _grid(images)
    y, x = r - cy, c - cx
    cos = tf.cos(angle)[:, None, None]
    sin = tf.sin(angle)[:, None, None]
    z = zoom[:, None, None]
    # inverse map: output point -> source point (rotate back, divide by the zoom)
    src_x = (cos * x - sin * y) / z
    src_y = (sin * x + cos * y) / z
    return bilinear_sample(images, src_y + cy, src_x + cx)


def random_rotation(images: tf.Tensor, seed: tf.Tensor, degrees: float) -> tf.Tensor:
    """Rotate each image by an angle drawn uniformly from ``[-degrees, degrees]``."""
    limit = degrees * math.pi / 180
    angle = tf.random.stateless_uniform(tf.shape(images)[:1], seed, -limit, limit)
    return affine_about_centre(images, angle, tf.ones_like(angle))


def random_zoom(images: tf.Tensor, seed: tf.Tensor, factor: float) -> tf.Tensor:
    """Scale each image by a factor drawn uniformly from ``[1 - factor, 1 + factor]``."""
    zoom = tf.random.stateless_uniform(tf.shape(images)[:1], seed, 1 - factor, 1 + factor)
    return affine_about_centre(images, tf.zeros_like(zoom), zoom)


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


def elastic_distort(images: tf.Tensor, seed: tf.Tensor, alpha: float, sigma: float) -> tf.Tensor:
    """Simard et al. (2003): displacement fields uniform in [-1, 1] per pixel, smoothed by a
    Gaussian of ``sigma`` pixels, scaled by ``alpha`` pixels; each output pixel reads the
    input at its displaced position (bilinear). ``alpha = 0`` returns the images unchanged."""
    shape = tf.shape(images)
    fields = tf.random.stateless_uniform(tf.concat([shape[:3], [2]], 0), seed, -1.0, 1.0)
    d = smooth(fields, sigma) * alpha
    r, c = _grid(images)
    return bilinear_sample(images, r + d[..., 0], c + d[..., 1])


def gaussian_noise(images: tf.Tensor, seed: tf.Tensor, sigma: float) -> tf.Tensor:
    """Add noise drawn from N(0, sigma^2) to every value."""
    return images + tf.random.stateless_normal(tf.shape(images), seed, stddev=sigma)


def random_flip(images: tf.Tensor, targets: tf.Tensor | None, seed: tf.Tensor, p: float,
                swap: Sequence[tuple[int, int]] = ()) -> tuple[tf.Tensor, tf.Tensor | None]:
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


def apply_augmentations(images: tf.Tensor, targets: tf.Tensor, seed: tf.Tensor,
                        augment: Sequence[Augmentation], *, keypoints: bool
                        ) -> tuple[tf.Tensor, tf.Tensor]:
    """Apply ``augment`` in order to one batch; ``keypoints``: targets are keypoint columns
    that flips must move. Each augmentation draws from its own split of ``seed``."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=max(1, len(augment)))
    for aug, s in zip(augment, tf.unstack(seeds, num=max(1, len(augment)))):
        if isinstance(aug, FlipHorizontal):
            images, moved = random_flip(images, targets if keypoints else None, s, aug.p, aug.swap_columns())
            targets = moved if keypoints else targets
        elif isinstance(aug, Shift):
            images = random_shift(images, s, aug.max_pixels)
        elif isinstance(aug, Rotation):
            images = random_rotation(images, s, aug.degrees)
        elif isinstance(aug, Zoom):
            images = random_zoom(images, s, aug.factor)
        elif isinstance(aug, Elastic):
            images = elastic_distort(images, s, aug.alpha, aug.sigma)
        elif isinstance(aug, GaussianNoise):
            images = gaussian_noise(images, s, aug.sigma)
    return images, targets
