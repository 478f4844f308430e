"""Segmentation masks streamed from disk: paired image / mask folders and TFRecord shards with
a mask feature, made here from MNIST-5k digits (mask = pixel > 127). Masks stay aligned with
their images through resize (nearest neighbour) and every geometric augmentation; bad masks
are located errors; specs/unet_small.yaml trains from both layouts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kerasbuild.data.splits import load_for_spec
from kerasbuild.errors import KerasbuildError, SpecError
from kerasbuild.schema.data import DataConfig
from kerasbuild.schema.train import TrainConfig
from kerasbuild.spec.loader import load_spec

from .masks import MASK_KEY, digits, threshold, write_mask_folders, write_mask_records

UNET = Path(__file__).resolve().parents[2] / "specs" / "unet_small.yaml"
KERASBUILD = Path(sys.executable).parent / "kerasbuild"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> tuple[Path, Path]:
    """200 digits: images/{train,valid,test}/NNNN.png (160, 20, 20) and masks/ mirroring it."""
    return write_mask_folders(
        tmp_path_factory.mktemp("pairs"), digits(200), {"train": 160, "valid": 20, "test": 20}
    )


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> str:
    """The same 200 digits as two TFRecord shards (PNG image and PNG mask per record)."""
    return write_mask_records(tmp_path_factory.mktemp("records") / "digits", digits(200))


def _stream(source: str, **fields):
    from kerasbuild.data.stream import load_stream

    return load_stream(DataConfig(source=source, seed=0, **fields), TrainConfig(), None)


def _batch(splits, part: str = "train", training: bool = True, size: int = 64):
    x, y = next(iter(splits.dataset(part, size, training=training)))
    return np.clip(np.rint(x.numpy()[..., 0] * 255), 0, 255).astype(np.uint8), y.numpy()


# ------------------------------------------------------------------------------ layouts
def test_mask_folders_and_records_stream_masks_beside_their_images(pairs, records):
    """Split folders become the splits (160 / 20 / 20); TFRecords split 0.2 / 0.2 of 200;
    both give int32 (B, 28, 28) masks equal to threshold(image) pixel for pixel."""
    folders = _stream(str(pairs[0]), masks=str(pairs[1]))
    assert folders.task == "segmentation" and folders.num_classes == 2
    assert [folders.size(p) for p in ("train", "valid", "test")] == [160, 20, 20]
    shards = _stream(records, mask_key=MASK_KEY)
    assert shards.task == "segmentation" and shards.num_classes == 2
    assert [shards.size(p) for p in ("train", "valid", "test")] == [128, 32, 40]
    for splits in (folders, shards):
        images, masks = _batch(splits, "test", training=False, size=20)
        assert masks.shape == (20, 28, 28) and masks.dtype == np.int32
        assert 0.05 < masks.mean() < 0.3
        np.testing.assert_array_equal(masks, threshold(images))


def test_resize_takes_masks_by_nearest_neighbour(records):
    """resize: [40, 40] (stretch and pad): masks stay class ids 0/1 (never blended) and equal
    TensorFlow's nearest-neighbour resize of the original masks."""
    import tensorflow as tf

    originals = threshold(digits(200))
    for mode in ("stretch", "pad"):
        splits = _stream(records, mask_key=MASK_KEY, resize=[40, 40], resize_mode=mode)
        x, y = next(iter(splits.dataset("test", 40)))
        assert x.shape == (40, 40, 40, 1) and y.shape == (40, 40, 40)
        assert set(np.unique(y.numpy())) == {0, 1}
        # shard s holds images[s::2]; records stream shard by shard in turn: image order
        index = sorted((k & 0xFFFFFFFF) * 2 + (k >> 32) for k in splits.parts["test"].keys)
        want = tf.image.resize_with_pad if mode == "pad" else None
        source = originals[index][..., None]
        expected = (
            want(source, 40, 40, method="nearest")
            if want
            else tf.image.resize(source, (40, 40), method="nearest")
        )
        np.testing.assert_array_equal(y.numpy(), expected.numpy()[..., 0])


# -------------------------------------------------------------------------- augmentation
def test_flips_and_shifts_move_masks_exactly_with_their_images(pairs):
    """flip_horizontal, flip_vertical and shift: every augmented mask still equals
    threshold(augmented image), and the batch did change (most masks moved)."""
    plain = _stream(str(pairs[0]), masks=str(pairs[1]))
    moved = _stream(
        str(pairs[0]),
        masks=str(pairs[1]),
        augment=[
            {"type": "flip_horizontal"},
            {"type": "flip_vertical"},
            {"type": "shift", "max_pixels": 3},
        ],
    )
    _, before = _batch(plain)
    images, masks = _batch(moved)
    np.testing.assert_array_equal(masks, threshold(images))
    changed = (masks != before).reshape(len(masks), -1).any(axis=1).mean()
    assert changed > 0.8


@pytest.mark.parametrize(
    "augmentation",
    [
        {"type": "rotation", "degrees": 40},
        {"type": "zoom", "factor": 0.3},
        {"type": "random_resized_crop", "scale": [0.3, 1.0]},
        {"type": "elastic", "alpha": 34, "sigma": 4},
    ],
    ids=lambda a: a["type"],
)
def test_interpolating_augmentations_keep_masks_aligned(pairs, augmentation):
    """Rotation, zoom, random resized crop and elastic distortion: the mask (nearest
    neighbour) matches threshold(image) (bilinear) on >= 96% of pixels and disagrees on
    under 0.4x the pixels the unmoved masks disagree on (measured: 98.1 vs 91.1% rotation,
    98.3 vs 93.7% zoom, 97.2 vs 83.5% crop, 98.0 vs 90.3% elastic); the masks stay class ids
    0 and 1; noise leaves masks alone."""
    plain = _stream(str(pairs[0]), masks=str(pairs[1]))
    moved = _stream(
        str(pairs[0]),
        masks=str(pairs[1]),
        augment=[augmentation, {"type": "gaussian_noise", "sigma": 0.01}],
    )
    _, before = _batch(plain)
    images, masks = _batch(moved)
    assert set(np.unique(masks)) <= {0, 1}
    aligned = (masks == threshold(images)).mean()
    unmoved = (before == threshold(images)).mean()
    assert aligned >= 0.96 and 1 - aligned < 0.4 * (1 - unmoved), (aligned, unmoved)


# -------------------------------------------------------------------------------- errors
def _flat(tmp_path: Path, count: int = 6) -> tuple[Path, Path]:
    return write_mask_folders(tmp_path / "flat", digits(count))


def _bad(tmp_path: Path, name: str, mask: Image.Image | None) -> str:
    images, masks = _flat(tmp_path)
    target = masks / "0003.png"
    target.unlink()
    if mask is not None:
        mask.save(masks / name)
    with pytest.raises(KerasbuildError) as err:
        _stream(str(images), masks=str(masks))
    return str(err.value)


def test_missing_and_bad_masks_are_named(tmp_path):
    """A missing mask, a mask of another size, an RGB mask, a palette mask and a JPEG mask:
    each error names the image and the mask file and says what a mask must be."""
    root = tmp_path / "a" / "flat"
    text = _bad(tmp_path / "a", "x.png", None)
    assert (
        f"bad example: image {root}/images/0003.png: its mask {root}/masks/0003.png is missing"
        in text
    )
    assert "on_bad_image: skip" in text
    size = _bad(tmp_path / "b", "0003.png", Image.new("L", (30, 28)))
    assert "flat/masks/0003.png is 28x30 but the image is 28x28" in size
    rgb = _bad(tmp_path / "c", "0003.png", Image.new("RGB", (28, 28)))
    assert "has 3 channels (mode RGB); a mask is an 8-bit single-channel PNG" in rgb
    palette = _bad(tmp_path / "d", "0003.png", Image.new("P", (28, 28)))
    assert "palette PNG" in palette
    images, masks = _flat(tmp_path / "e")
    (masks / "0003.png").unlink()
    Image.new("L", (28, 28)).save(masks / "0003.jpg", "JPEG")
    (masks / "0003.jpg").rename(masks / "0003.png")
    with pytest.raises(KerasbuildError, match="is JPEG, not PNG"):
        _stream(str(images), masks=str(masks))


def test_skip_leaves_out_images_without_masks_and_reports_them(tmp_path):
    images, masks = _flat(tmp_path, 10)
    (masks / "0004.png").unlink()
    splits = _stream(str(images), masks=str(masks), on_bad_image="skip", test_size=0)
    assert splits.size("train") + splits.size("valid") == 9
    assert [Path(f).name for f, _ in splits.skipped] == ["0004.png"]


def test_record_with_a_mask_of_another_size_is_named(tmp_path):
    import tensorflow as tf

    from .images import encode

    glob = write_mask_records(tmp_path / "d", digits(6), shards=1)
    path = tmp_path / "d-0.tfrecord"
    records = [bytes(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]
    example = tf.train.Example.FromString(records[2])
    example.features.feature[MASK_KEY].bytes_list.value[0] = encode(
        np.zeros((14, 28, 1), np.uint8), "PNG"
    )
    records[2] = example.SerializeToString()
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    with pytest.raises(KerasbuildError) as err:
        _stream(glob, mask_key=MASK_KEY)
    assert f"{path}: record 2: its mask ('{MASK_KEY}') is 14x28 but the image is 28x28" in str(
        err.value
    )


def _spec(tmp_path: Path, data: str, extra: str = "") -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(UNET.read_text() + f"  batch_size: 16\n{extra}data: {data}\n")
    return spec


def test_class_ids_beyond_the_output_and_bad_settings_are_located(tmp_path):
    """A mask holding class 5 for a 2-channel output names the mask and the output layer;
    masks: with a TFRecord source, and flip_indices with masks, are located spec errors."""
    images, masks = _flat(tmp_path, 6)
    Image.fromarray(np.full((28, 28), 5, np.uint8)).save(masks / "0002.png")
    spec = _spec(tmp_path, f"{{source: {images}, masks: {masks}}}")
    with pytest.raises(SpecError) as err:
        load_for_spec(load_spec(spec))
    text = str(err.value)
    assert "the masks hold class ids up to 5 (e.g. " in text and "0002.png" in text
    assert "output layer 'classes' has 2 channels, one per class id 0..1" in text
    assert "spec.yaml:" in text
    bad = _spec(tmp_path, f"{{source: 'x-*.tfrecord', masks: {masks}}}")
    with pytest.raises(SpecError, match="masks pairs an image folder with a mask folder"):
        load_spec(bad)
    Image.fromarray(threshold(digits(6)[2])).save(masks / "0002.png")
    flip = "  batch_iterator_train: {type: FlipBatchIterator, flip_indices: [[0, 2]]}\n"
    spec = _spec(tmp_path, f"{{source: {images}, masks: {masks}}}", flip)
    with pytest.raises(SpecError) as err:
        load_for_spec(load_spec(spec))
    assert "flip_indices swaps keypoint target columns" in str(err.value)


def test_data_overview_reports_pixels_per_class(pairs, tmp_path):
    """What ``kerasbuild data`` prints for a mask folder: the splits, the share of each class
    id's pixels (the digit: 5-30%) and (28, 28) int32 targets."""
    from kerasbuild.data.overview import overview, render

    spec = _spec(tmp_path, f"{{source: {pairs[0]}, masks: {pairs[1]}}}")
    out = render(overview(load_for_spec(load_spec(spec)), str(pairs[0]), 16, max_batches=2))
    assert "task: segmentation" in out and "examples: train 160, valid 20, test 20" in out
    assert "pixels per class id" in out and "targets: [28, 28] int32" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line[:2] in "0 1 "}
    shares = [float(v.rstrip("%")) for v in rows["1"]]
    assert all(5 < share < 30 for share in shares)
    assert [float(v.rstrip("%")) + share for v, share in zip(rows["0"], shares)] == pytest.approx(
        [100.0] * 3, abs=0.2
    )


# ------------------------------------------------------------------------ end to end
def _train(run: Path, *sets: str) -> dict:
    args = [a for s in sets for a in ("--set", s)]
    result = subprocess.run(
        [str(KERASBUILD), "train", str(UNET), *args, "--run-dir", str(run)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((run / "metrics.json").read_text())


COMMON = (
    "train.max_epochs=3",
    "train.batch_size=16",
    "train.update=adam",
    "train.update_learning_rate=0.003",
)


@pytest.mark.slow
def test_unet_trains_from_mask_folders_with_flips(pairs, tmp_path):
    """160 training pairs, flips on, 3 epochs: all-background scores 0.87 pixel accuracy and
    0.43 mean IoU; measured 0.978 and 0.908 on the 20 test images."""
    metrics = _train(
        tmp_path / "run",
        f"data.source={pairs[0]}",
        f"data.masks={pairs[1]}",
        "data.augment=[{type: flip_horizontal}, {type: flip_vertical}]",
        *COMMON,
    )
    assert metrics["n_test"] == 20
    assert metrics["test_pixel_accuracy"] > 0.94 and metrics["test_mean_iou"] > 0.8


@pytest.mark.slow
def test_unet_trains_from_tfrecord_masks(records, tmp_path):
    """128 training records, 3 epochs: measured 0.983 pixel accuracy and 0.93 mean IoU on
    the 40 test records."""
    metrics = _train(
        tmp_path / "run", f"data.source={records}", f"data.mask_key={MASK_KEY}", *COMMON
    )
    assert metrics["n_test"] == 40
    assert metrics["test_pixel_accuracy"] > 0.94 and metrics["test_mean_iou"] > 0.8


def test_npz_masks_flip_with_their_images_in_memory(tmp_path):
    """The in-memory pipeline (npz masks) moves masks with flips too."""
    from kerasbuild.data.splits import load_arrays

    images = digits(64)
    np.savez(tmp_path / "m.npz", x=images, y=threshold(images).astype(np.int64))
    data = DataConfig(
        source=str(tmp_path / "m.npz"),
        test_size=0,
        valid_size=0,
        augment=[{"type": "flip_horizontal"}, {"type": "flip_vertical"}],
    )
    splits = load_arrays(data, TrainConfig())
    flipped, masks = _batch(splits)
    np.testing.assert_array_equal(masks, threshold(flipped))
    originals = {image.tobytes() for image in images}
    unflipped = np.mean([image.tobytes() in originals for image in flipped])
    assert 0.05 < unflipped < 0.5  # both flips at p = 0.5: a quarter stay as they were
