"""Every source kind on real (or realistically written) data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits as sk_digits

from kerasbuild.data.sources import load_keypoints_csv, load_source
from kerasbuild.data.splits import load_arrays
from kerasbuild.errors import KerasbuildError, SpecError
from kerasbuild.schema.data import DataConfig
from kerasbuild.schema.train import TrainConfig

KEYPOINTS = [
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
]
COLUMNS = [f"{k}_{axis}" for k in KEYPOINTS for axis in ("x", "y")]


def test_mnist_5k_is_5000_real_digits_sorted_by_label():
    raw = load_source(DataConfig(source="builtin:mnist_5k"))
    assert raw.x.shape == (5000, 28, 28, 1) and raw.x.dtype == np.float32
    assert raw.x.max() == 255.0 and raw.natural_max == 255.0
    assert np.bincount(raw.y).tolist() == [500] * 10
    assert (np.diff(raw.y) >= 0).all()  # sorted: why load_arrays shuffles first
    assert raw.class_names == [str(d) for d in range(10)] and raw.task == "classification"


def test_digits_are_8x8_in_0_to_16():
    raw = load_source(DataConfig(source="builtin:digits"))
    assert raw.x.shape == (1797, 8, 8, 1)
    assert raw.x.max() == 16.0 and raw.natural_max == 16.0
    assert np.array_equal(raw.y, sk_digits().target)


def test_npz_round_trip_with_explicit_test_split(tmp_path):
    digits = sk_digits()
    x = (digits.images * 15).astype(np.uint8)
    np.savez(
        tmp_path / "d.npz",
        images=x[:1500],
        labels=digits.target[:1500],
        images_test=x[1500:],
        labels_test=digits.target[1500:],
        class_names=np.array(list("0123456789")),
    )
    config = DataConfig(source="d.npz", x_key="images", y_key="labels", valid_size=100, seed=3)
    splits = load_arrays(config, TrainConfig(), base_dir=tmp_path)
    assert splits.x_test.shape == (297, 8, 8, 1)
    assert np.array_equal(splits.y_test, digits.target[1500:])  # explicit split kept in order
    np.testing.assert_allclose(
        splits.x_test[..., 0], x[1500:] / 255, rtol=1e-6
    )  # uint8 -> auto 1/255
    assert splits.x_train.shape == (1400, 8, 8, 1) and splits.x_valid.shape == (100, 8, 8, 1)
    assert splits.class_names == list("0123456789")
    assert splits.preprocessing == {"scale": pytest.approx(1 / 255)}


def test_npz_with_a_missing_key_names_the_keys_it_has(tmp_path):
    np.savez(tmp_path / "d.npz", a=np.zeros((3, 2)), b=np.zeros(3))
    with pytest.raises(KerasbuildError, match="has no array 'x'; it has: a, b"):
        load_source(DataConfig(source=str(tmp_path / "d.npz")))


def _write_folder(root, per_class: int = 10, classes=(0, 1, 2)):
    from PIL import Image

    digits = sk_digits()
    written = {}
    for c in classes:
        (root / f"digit_{c}").mkdir(parents=True)
        images = (digits.images[digits.target == c][:per_class] * 15).astype(np.uint8)
        for i, image in enumerate(images):
            Image.fromarray(image, mode="L").save(root / f"digit_{c}" / f"{i:03d}.png")
        written[c] = images
    return written


def _stream(source: str, base, **fields):
    from kerasbuild.data.stream import load_stream

    return load_stream(DataConfig(source=source, seed=0, **fields), TrainConfig(), base)


def test_image_folder_reads_classes_from_sub_folders(tmp_path):
    written = _write_folder(tmp_path / "imgs")
    splits = _stream("imgs", tmp_path, test_size=0, valid_size=0, scale=None)
    assert splits.size("train") == 30 and splits.input_shape == (8, 8, 1)
    assert splits.class_names == ["digit_0", "digit_1", "digit_2"]
    assert np.bincount(splits.y_train).tolist() == [10, 10, 10]
    x, y = (t.numpy() for t in next(iter(splits.dataset("train", 30))))
    assert x.shape == (30, 8, 8, 1)
    ones = sorted(img.tobytes() for img in x[y == 1][..., 0].astype(np.uint8))
    assert ones == sorted(img.tobytes() for img in written[1])  # PNG is lossless
    resized = _stream("imgs", tmp_path, test_size=0, valid_size=0, resize=(16, 12), channels=3)
    assert next(iter(resized.dataset("train", 30)))[0].shape == (30, 16, 12, 3)


def test_image_folder_of_mixed_sizes_asks_for_resize(tmp_path):
    from PIL import Image

    _write_folder(tmp_path / "imgs", per_class=2)
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(tmp_path / "imgs" / "digit_0" / "odd.png")
    with pytest.raises(KerasbuildError, match=r"differ in size .*set data.resize"):
        _stream("imgs", tmp_path, test_size=0, valid_size=0)


def test_streamed_sources_are_never_loaded_whole(tmp_path):
    _write_folder(tmp_path / "imgs", per_class=2)
    for source in ("imgs", "tfds:mnist", "shards-*.tfrecord"):
        with pytest.raises(KerasbuildError, match="streams from disk and is never loaded whole"):
            load_source(DataConfig(source=source), tmp_path)


def _write_keypoints_csv(path, rows: int = 40, missing_every: int = 4, seed: int = 0):
    """The Kaggle training.csv layout: 30 keypoint columns (pixels) then Image (96*96 grey
    values, space separated), faces replaced by upscaled real digits."""
    rng = np.random.default_rng(seed)
    digits = sk_digits()
    targets = rng.uniform(20, 76, size=(rows, 30)).round(4)
    images = np.kron(digits.images[:rows] * 15, np.ones((12, 12))).astype(np.uint8)
    lines = [",".join(COLUMNS + ["Image"])]
    for r in range(rows):
        values = [f"{v}" for v in targets[r]]
        if r % missing_every == 1:
            values[20] = values[21] = ""  # a missing mouth corner, as in the real data
        lines.append(",".join(values + [" ".join(str(p) for p in images[r].ravel())]))
    path.write_text("\n".join(lines) + "\n")
    return targets, images


def test_keypoints_csv_drops_incomplete_rows_and_scales_targets_to_unit_range(tmp_path):
    targets, images = _write_keypoints_csv(tmp_path / "training.csv")
    keep = np.array([r % 4 != 1 for r in range(40)])
    raw = load_keypoints_csv(tmp_path / "training.csv")
    assert raw.x.shape == (30, 96, 96, 1) and raw.y.shape == (30, 30)
    assert raw.target_names == COLUMNS
    np.testing.assert_array_equal(raw.x[..., 0], images[keep])
    np.testing.assert_allclose(raw.y, targets[keep], rtol=1e-6)

    config = DataConfig(source="training.csv", test_size=0, valid_size=0, seed=1)
    splits = load_arrays(config, TrainConfig(regression=True), base_dir=tmp_path)
    assert splits.task == "regression" and splits.x_train.shape == (30, 96, 96, 1)
    assert splits.preprocessing == {
        "scale": pytest.approx(1 / 255),
        "target_center": 48.0,
        "target_scale": 48.0,
    }
    # shuffled rows: match each training row to its source row by its image
    order = [
        int(np.flatnonzero((images[keep] == np.rint(x[..., 0] * 255)).all(axis=(1, 2)))[0])
        for x in splits.x_train
    ]
    np.testing.assert_allclose(
        splits.y_train, (targets[keep][order] - 48) / 48, rtol=1e-5, atol=1e-6
    )
    assert splits.y_train.min() >= -1 and splits.y_train.max() <= 1


def test_keypoints_csv_keeps_incomplete_rows_when_asked(tmp_path):
    targets, _ = _write_keypoints_csv(tmp_path / "training.csv")
    raw = load_keypoints_csv(tmp_path / "training.csv", dropna=False)
    assert raw.y.shape == (40, 30) and not np.isnan(raw.y).any()
    complete = np.array([r % 4 != 1 for r in range(40)])
    assert raw.y[1, 20] == pytest.approx(targets[complete, 20].mean(), rel=1e-5)
    np.testing.assert_allclose(raw.y[complete], targets[complete], rtol=1e-6)


def test_keypoints_csv_needs_regression_true(tmp_path):
    _write_keypoints_csv(tmp_path / "training.csv", rows=8)
    with pytest.raises(SpecError, match="set 'regression: true'"):
        load_arrays(DataConfig(source="training.csv"), TrainConfig(), base_dir=tmp_path)


def test_keypoints_csv_with_a_short_row_names_the_line(tmp_path):
    path = tmp_path / "training.csv"
    path.write_text("a_x,a_y,Image\n1,2,0 0 0 0\n3,0 0 0 0\n")
    with pytest.raises(KerasbuildError, match=r"training.csv:3: expected 3 columns, got 2"):
        load_keypoints_csv(path)


def test_tfds_streams_its_splits_from_a_prepared_data_dir(tmp_path):
    from .images import prepare_tfds

    prepare_tfds(tmp_path / "tfds", train=60, test=20)
    splits = _stream(
        "tfds:kb_bands",
        tmp_path,
        split="train",
        test_split="test",
        data_dir=str(tmp_path / "tfds"),
        valid_size=10,
    )
    assert (splits.size("train"), splits.size("valid"), splits.size("test")) == (50, 10, 20)
    assert splits.class_names == ["c0", "c1", "c2", "c3"] and splits.input_shape == (16, 16, 3)
    assert splits.preprocessing == {"scale": pytest.approx(1 / 255)}
    x, y = (t.numpy() for t in next(iter(splits.dataset("train", 50))))
    assert x.shape == (50, 16, 16, 3) and 0 <= x.min() and x.max() <= 1 and x.max() > 0.5
    assert y.dtype == np.int64 and y.max() <= 3


def test_unknown_tfds_name_is_a_clear_error(tmp_path):
    with pytest.raises(KerasbuildError, match="cannot open tfds data set 'mnistt'"):
        _stream("tfds:mnistt", tmp_path, data_dir=str(tmp_path))
