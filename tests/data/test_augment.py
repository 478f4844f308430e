"""Batched TF augmentations and the offline x5 expansion, checked pixel by pixel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from kerasbuild.data import augment as aug
from kerasbuild.data.expand import expand_shifts, shift_images
from kerasbuild.data.pipeline import make_dataset
from kerasbuild.data.sources import load_mnist_5k
from kerasbuild.schema.data import DataConfig, augmentations_for
from kerasbuild.schema.train import TrainConfig

SEED = tf.constant([7, 11], tf.int64)
TUTORIAL_FLIP_INDICES = [
    (0, 2),
    (1, 3),
    (4, 8),
    (5, 9),
    (6, 10),
    (7, 11),
    (12, 16),
    (13, 17),
    (14, 18),
    (15, 19),
    (22, 24),
    (23, 25),
]


@pytest.fixture(scope="module")
def digits28():
    """32 real MNIST digits, (32, 28, 28, 1) in [0, 1]."""
    raw = load_mnist_5k()
    return raw.x[::157][:32] / 255.0


# ------------------------------------------------------------------- keypoint flip
def _faces(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """96x96 images with one bright pixel per keypoint and the matching targets: 15 keypoints
    at distinct pixels, left-side keypoints (first of each tutorial pair) on the image's
    right half as in the Kaggle data, coordinates (pixel + 0.5 - 48) / 48 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 96, 96, 1), np.float32)
    targets = np.zeros((n, 30), np.float32)
    left = {a // 2 for a, _ in TUTORIAL_FLIP_INDICES[::2]}
    right = {b // 2 for _, b in TUTORIAL_FLIP_INDICES[::2]}
    for i in range(n):
        cells = set()
        for k in range(15):
            while True:
                lo, hi = (50, 96) if k in left else (0, 46) if k in right else (0, 96)
                col, row = int(rng.integers(lo, hi)), int(rng.integers(0, 96))
                if (row, col) not in cells:
                    cells.add((row, col))
                    break
            images[i, row, col, 0] = 1.0
            targets[i, 2 * k] = (col + 0.5 - 48) / 48
            targets[i, 2 * k + 1] = (row + 0.5 - 48) / 48
    return images, targets


def _pixels(targets: np.ndarray) -> set[tuple[int, int]]:
    """Pixel (row, col) of every keypoint in one target row."""
    xy = targets.reshape(15, 2) * 48 + 48
    return {(int(math.floor(y)), int(math.floor(x))) for x, y in xy}


def test_flipped_image_targets_are_the_mirrored_swapped_keypoints():
    images, targets = _faces(16)
    train = TrainConfig(
        regression=True,
        batch_iterator_train={"type": "FlipBatchIterator", "flip_indices": TUTORIAL_FLIP_INDICES},
    )
    augment = augmentations_for(DataConfig(source="training.csv"), train)
    ds = make_dataset(images, targets, batch_size=16, training=True, augment=augment, seed=5)
    out_x, out_y = (t.numpy() for t in next(iter(ds)))
    flipped = 0
    for x, y in zip(out_x, out_y):
        # the bright pixels of the (maybe flipped) image sit exactly at the new targets
        assert {tuple(p) for p in np.argwhere(x[..., 0] > 0.5)} == _pixels(y)
        source = int(
            np.flatnonzero(
                [
                    (_pixels(t) == _pixels(y))
                    or (_pixels(t) == {(r, 95 - c) for r, c in _pixels(y)})
                    for t in targets
                ]
            )[0]
        )
        original = targets[source]
        if np.array_equal(y, original):
            continue
        flipped += 1
        np.testing.assert_array_equal(x, images[source][:, ::-1])
        for a, b in TUTORIAL_FLIP_INDICES:
            sign = -1 if a % 2 == 0 else 1
            assert y[a] == pytest.approx(sign * original[b]) and y[b] == pytest.approx(
                sign * original[a]
            )
        # a left eye is still on the image's right half after the flip
        for a, _ in TUTORIAL_FLIP_INDICES[::2]:
            assert y[a] > 0 and original[a] > 0
        for k in (10, 13, 14):  # nose and lip centres have no partner: only mirrored
            assert (
                y[2 * k] == pytest.approx(-original[2 * k]) and y[2 * k + 1] == original[2 * k + 1]
            )
    assert 2 <= flipped <= 14  # p = 0.5 over 16 images


def test_flip_leaves_class_labels_alone(digits28):
    x = tf.constant(digits28)
    out, targets = aug.random_flip(x, None, SEED, p=1.0)
    assert targets is None
    np.testing.assert_array_equal(out.numpy(), digits28[:, :, ::-1])


# ---------------------------------------------------------------------------- shifts
def test_translate_moves_a_pixel_by_exactly_the_pixel_count():
    image = np.zeros((2, 28, 28, 1), np.float32)
    image[:, 10, 10, 0] = 1.0
    out = aug.translate(tf.constant(image), tf.constant([3, -2]), tf.constant([-2, 5])).numpy()
    assert [tuple(p[:2]) for p in np.argwhere(out[0] > 0)] == [(13, 8)]
    assert [tuple(p[:2]) for p in np.argwhere(out[1] > 0)] == [(8, 15)]
    assert out.sum() == 2.0


@pytest.mark.parametrize(("dy", "dx"), [(0, 0), (1, 0), (0, -1), (-3, 4), (27, -27), (30, 0)])
def test_tf_translate_matches_the_numpy_shift_used_for_expansion(digits28, dy, dx):
    n = len(digits28)
    out = aug.translate(tf.constant(digits28), tf.fill([n], dy), tf.fill([n], dx)).numpy()
    np.testing.assert_array_equal(out, shift_images(digits28, dy, dx))


def test_random_shift_is_a_whole_pixel_translation_with_zero_fill(digits28):
    out = aug.random_shift(tf.constant(digits28), SEED, max_pixels=2).numpy()
    seen = set()
    for i in range(len(digits28)):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(out[i], shift_images(digits28[i : i + 1], dy, dx)[0])
        ]
        assert matches, f"image {i} is not a whole-pixel shift of its input"
        seen.add(matches[0])
    assert len(seen) >= 8  # 32 images over 25 possible shifts


def test_expansion_gives_five_times_the_rows_shifted_by_one_pixel(digits28):
    y = np.arange(len(digits28))
    x5, y5 = expand_shifts(digits28, y, pixels=1)
    n = len(digits28)
    assert x5.shape == (5 * n, 28, 28, 1) and y5.tolist() == y.tolist() * 5
    np.testing.assert_array_equal(x5[:n], digits28)
    np.testing.assert_array_equal(x5[n : 2 * n, :-1], digits28[:, 1:])  # up
    np.testing.assert_array_equal(x5[2 * n : 3 * n, 1:], digits28[:, :-1])  # down
    np.testing.assert_array_equal(x5[3 * n : 4 * n, :, :-1], digits28[:, :, 1:])  # left
    np.testing.assert_array_equal(x5[4 * n :, :, 1:], digits28[:, :, :-1])  # right
    assert (x5[n : 2 * n, -1] == 0).all() and (x5[4 * n :, :, 0] == 0).all()


# ---------------------------------------------------------------- rotation and zoom
def test_rotation_by_a_quarter_turn_matches_rot90(digits28):
    x = tf.constant(digits28)
    angle = tf.fill([len(digits28)], math.pi / 2)
    out = aug.affine_about_centre(x, angle, tf.ones_like(angle)).numpy()
    np.testing.assert_allclose(out, np.rot90(digits28, k=1, axes=(1, 2)), atol=1e-4)
    same = aug.affine_about_centre(x, tf.zeros_like(angle), tf.ones_like(angle)).numpy()
    np.testing.assert_array_equal(same, digits28)


def test_zoom_by_two_magnifies_about_the_centre():
    image = np.zeros((1, 9, 9, 1), np.float32)
    image[0, 4, 4, 0] = 1.0
    image[0, 4, 6, 0] = 1.0  # two pixels right of the centre
    out = aug.affine_about_centre(tf.constant(image), tf.zeros([1]), tf.fill([1], 2.0)).numpy()
    assert out[0, 4, 4, 0] == 1.0 and out[0, 4, 8, 0] == 1.0  # now four pixels right
    assert out[0, 4, 6, 0] == 0.0


def test_random_rotation_and_zoom_keep_shape_and_mass(digits28):
    x = tf.constant(digits28)
    for out in (aug.random_rotation(x, SEED, 15.0), aug.random_zoom(x, SEED, 0.1)):
        out = out.numpy()
        assert out.shape == digits28.shape
        assert not np.allclose(out, digits28)
        ratio = out.sum(axis=(1, 2, 3)) / digits28.sum(axis=(1, 2, 3))
        assert ((ratio > 0.75) & (ratio < 1.3)).all()


# ------------------------------------------------------------------ elastic, noise
def test_bilinear_sampler_interpolates_and_fills_outside_with_zero(digits28):
    x = tf.constant(digits28[:4])
    r, c = aug._grid(x)
    np.testing.assert_array_equal(aug.bilinear_sample(x, r, c).numpy(), digits28[:4])
    half = aug.bilinear_sample(x, r + 0.5, c).numpy()
    expected = (digits28[:4, :-1] + digits28[:4, 1:]) / 2
    np.testing.assert_allclose(half[:, :-1], expected, atol=1e-6)
    np.testing.assert_allclose(half[:, -1], digits28[:4, -1] / 2, atol=1e-6)  # half outside: zero
    assert (aug.bilinear_sample(x, r + 28, c).numpy() == 0).all()


def test_elastic_distortion_is_identity_at_alpha_zero_and_distorts_otherwise(digits28):
    x = tf.constant(digits28)
    np.testing.assert_array_equal(
        aug.elastic_distort(x, SEED, alpha=0.0, sigma=4.0).numpy(), digits28
    )
    out = aug.elastic_distort(x, SEED, alpha=34.0, sigma=4.0).numpy()
    assert out.shape == digits28.shape
    changed = np.abs(out - digits28).mean(axis=(1, 2, 3)) / digits28.mean(axis=(1, 2, 3))
    assert (changed > 0.05).all()
    assert out.min() >= 0 and out.max() <= 1 + 1e-6  # bilinear: a convex mix of pixels
    other = aug.elastic_distort(x, tf.constant([1, 2], tf.int64), alpha=34.0, sigma=4.0).numpy()
    assert not np.allclose(out, other)


def test_smoothed_displacement_field_is_a_normalised_gaussian_blur():
    impulse = np.zeros((1, 31, 31, 2), np.float32)
    impulse[0, 15, 15, :] = 1.0
    out = aug.smooth(tf.constant(impulse), sigma=3.0).numpy()
    assert out.sum() == pytest.approx(2.0, rel=1e-5)
    profile = out[0, 15, :, 0] / out[0, 15, 15, 0]
    assert profile[18] == pytest.approx(math.exp(-0.5), rel=1e-4)  # one sigma away


def test_gaussian_noise_has_the_requested_spread(digits28):
    out = aug.gaussian_noise(tf.constant(digits28), SEED, sigma=0.1).numpy()
    noise = out - digits28
    assert noise.std() == pytest.approx(0.1, rel=0.03)
    assert abs(noise.mean()) < 0.005


# ------------------------------------------------- random resized crop, vertical flip
def _coordinates(n: int, h: int, w: int) -> np.ndarray:
    """``(n, h, w, 2)``: channel 0 holds each pixel's column, channel 1 its row, so a bilinear
    crop of any box reads its own box back from the corners."""
    r, c = np.meshgrid(
        np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij"
    )
    return np.broadcast_to(np.stack([c, r], axis=-1), (n, h, w, 2)).copy()


def test_random_resized_crop_boxes_lie_in_the_scale_and_ratio_ranges():
    x = _coordinates(64, 24, 32)
    out = aug.random_resized_crop(tf.constant(x), SEED, (0.25, 0.5), (0.75, 4 / 3)).numpy()
    assert out.shape == x.shape
    left, top = out[:, 0, 0, 0], out[:, 0, 0, 1]
    width = out[:, 0, -1, 0] - left + 1
    height = out[:, -1, 0, 1] - top + 1
    assert (left >= -1e-4).all() and (left + width <= 32 + 1e-3).all()
    assert (top >= -1e-4).all() and (top + height <= 24 + 1e-3).all()
    area = width * height / (24 * 32)
    assert (area >= 0.25 - 1e-3).all() and (area <= 0.5 + 1e-3).all()
    assert (width / height >= 0.75 - 1e-3).all() and (width / height <= 4 / 3 + 1e-3).all()
    assert len({round(float(v), 2) for v in left}) > 32  # every image its own box
    again = aug.random_resized_crop(tf.constant(x), SEED, (0.25, 0.5), (0.75, 4 / 3)).numpy()
    np.testing.assert_array_equal(out, again)


def test_random_resized_crop_of_the_whole_image_is_the_identity(digits28):
    out = aug.random_resized_crop(tf.constant(digits28), SEED, (1.0, 1.0), (1.0, 1.0)).numpy()
    np.testing.assert_allclose(out, digits28, atol=1e-5)


def test_vertical_flip_mirrors_rows_with_probability_p(digits28):
    np.testing.assert_array_equal(
        aug.random_vertical_flip(tf.constant(digits28), SEED, 1.0).numpy(), digits28[:, ::-1]
    )
    out = aug.random_vertical_flip(tf.constant(digits28), SEED, 0.5).numpy()
    flipped = [np.array_equal(o, d[::-1]) for o, d in zip(out, digits28)]
    kept = [np.array_equal(o, d) for o, d in zip(out, digits28)]
    assert all(f or k for f, k in zip(flipped, kept)) and 6 <= sum(flipped) <= 26


def test_crop_and_flips_in_memory_are_seeded_and_exact_under_resume(digits28):
    augment = DataConfig(
        source="builtin:digits",
        augment=[
            {"type": "random_resized_crop", "scale": [0.5, 1.0]},
            {"type": "flip_vertical"},
            {"type": "flip_horizontal"},
        ],
    ).augment
    y = np.arange(len(digits28)) % 10

    def epochs(count: int, skip: int = 0) -> np.ndarray:
        ds = make_dataset(digits28, y, batch_size=8, training=True, augment=augment, seed=3)
        for _ in range(skip):  # how a resumed run advances to its epoch
            iter(ds)
        return np.concatenate([x.numpy() for _ in range(count) for x, _ in ds])

    full = epochs(3)
    assert full.shape == (96, 28, 28, 1) and not np.allclose(full[:32], digits28)
    np.testing.assert_array_equal(epochs(2, skip=1), full[32:])


@pytest.mark.parametrize("kind", ["flip_vertical", "random_resized_crop"])
def test_crop_and_vertical_flip_are_refused_for_keypoint_regression(kind):
    from kerasbuild.errors import SpecError

    with pytest.raises(SpecError, match=f"'{kind}' moves pixels but not regression targets"):
        augmentations_for(
            DataConfig(source="training.csv", augment=[{"type": kind}]),
            TrainConfig(regression=True),
        )


def test_random_resized_crop_ranges_are_checked():
    with pytest.raises(ValueError, match=r"scale needs 0 < min <= max <= 1, got \[0.5, 1.5\]"):
        DataConfig(
            source="builtin:digits", augment=[{"type": "random_resized_crop", "scale": [0.5, 1.5]}]
        )
