"""Streamed sources on data made here: image folders, TFRecord shards and a tfds data set
prepared offline; train / evaluate / predict / export / tune from them, exact resume after
SIGKILL, and the bad-file scan."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kerasbuild.errors import KerasbuildError
from kerasbuild.schema.data import DataConfig
from kerasbuild.schema.train import TrainConfig

from .images import (
    class_image,
    encode,
    prepare_tfds,
    write_image_folder,
    write_path_csv,
    write_tfrecords,
)

NET = """
name: bands
input: {{shape: [16, 16, 3], name: image}}
layers:
  - {{name: conv1, type: Conv2DLayer, num_filters: 4, filter_size: 3}}
  - {{name: pool1, type: MaxPool2DLayer, pool_size: 2}}
  - {{name: output, type: DenseLayer, num_units: 4, nonlinearity: softmax}}
data: {data}
train: {{max_epochs: {epochs}, batch_size: 16, seed: 0, update: adam, update_learning_rate: 0.01,
        deterministic: true, verbose: 0}}
"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kerasbuild.cli", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _spec(tmp_path: Path, data: str, epochs: int = 3) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(NET.format(data=data, epochs=epochs))
    return path


def _stream(source: str, base: Path, **fields):
    from kerasbuild.data.stream import load_stream

    return load_stream(DataConfig(source=source, seed=0, **fields), TrainConfig(), base)


# ------------------------------------------------------------------------ index and splits
def test_folder_index_splits_stratified_and_batches_are_uint8_decoded_then_scaled(tmp_path):
    write_image_folder(tmp_path / "imgs", 50)
    splits = _stream("imgs", tmp_path, test_size=0.2, valid_size=0.1)
    assert (splits.size("train"), splits.size("valid"), splits.size("test")) == (144, 16, 40)
    assert np.bincount(splits.parts["test"].y).tolist() == [10, 10, 10, 10]
    assert splits.class_names == ["c0", "c1", "c2", "c3"] and splits.input_shape == (16, 16, 3)
    recorded = splits.recorded()
    assert len(set(recorded["train"]) | set(recorded["valid"]) | set(recorded["test"])) == 200
    again = _stream("imgs", tmp_path, test_size=0.2, valid_size=0.1)
    assert again.recorded() == recorded
    x, y = next(iter(splits.dataset("test", 40)))
    assert (
        x.dtype.name == "float32" and x.shape == (40, 16, 16, 3) and float(x.numpy().max()) <= 1.0
    )
    bright = [int(np.argmax(img.numpy().mean(axis=(1, 2)).reshape(4, 4).mean(axis=1))) for img in x]
    assert bright == y.numpy().tolist()


def passes(ds, count: int, skip: int = 0, part: int = 0) -> list[np.ndarray]:
    """``count`` passes (epochs) over a re-iterable training dataset, after ``skip`` iterators
    created and dropped (how a resumed run advances to its epoch); ``part`` 0: images, 1:
    targets."""
    for _ in range(skip):
        iter(ds)
    return [np.concatenate([batch[part].numpy() for batch in ds]) for _ in range(count)]


def test_training_epochs_are_seeded_permutations_of_the_index(tmp_path):
    write_image_folder(tmp_path / "imgs", 10)
    splits = _stream("imgs", tmp_path, test_size=0, valid_size=0)
    ds = splits.dataset("train", 8, training=True)  # each pass over it is the next seeded epoch
    epochs = [np.concatenate([y.numpy() for _, y in ds]) for _ in range(3)]
    assert all(np.bincount(e).tolist() == [10, 10, 10, 10] for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])
    again = splits.dataset("train", 8, training=True)  # a resumed run skips the passes it has done
    iter(again)
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in again]), epochs[1])


def test_streamed_crop_and_flips_are_seeded_and_exact_under_resume(tmp_path):
    write_image_folder(tmp_path / "imgs", 6)
    augment = [
        {"type": "random_resized_crop", "scale": [0.3, 1.0]},
        {"type": "flip_vertical"},
        {"type": "flip_horizontal"},
    ]
    plain = _stream("imgs", tmp_path, test_size=0, valid_size=0)
    splits = _stream("imgs", tmp_path, test_size=0, valid_size=0, augment=augment)
    full = passes(splits.dataset("train", 8, training=True), 2)
    assert full[0].shape == (24, 16, 16, 3) and full[0].dtype == np.float32
    changed = (
        np.abs(full[0] - passes(plain.dataset("train", 8, training=True), 1)[0]).mean(
            axis=(1, 2, 3)
        )
        > 1e-3
    )
    assert changed.mean() > 0.5  # same order, new pixels
    np.testing.assert_array_equal(
        passes(splits.dataset("train", 8, training=True), 1, skip=1)[0], full[1]
    )


def _sorted_images(batches: list[np.ndarray]) -> list[bytes]:
    return sorted(img.tobytes() for img in np.concatenate(batches))


@pytest.mark.parametrize("cache", ["memory", "cache/decoded"])
def test_cached_epochs_read_the_cache_not_the_files(tmp_path, cache):
    root = write_image_folder(tmp_path / "imgs", 6)
    splits = _stream("imgs", tmp_path, test_size=4, valid_size=4, cache=cache)
    train = splits.dataset("train", 8, training=True)
    first = [x.numpy() for x, _ in train]  # the whole first epoch: 16 images
    valid = [x.numpy() for x, _ in splits.dataset("valid", 8)]
    shutil.rmtree(root)  # epoch 2 can only come from the cache now
    second = [x.numpy() for x, _ in train]
    assert sum(len(x) for x in second) == 16
    assert _sorted_images(second) == _sorted_images(first)
    assert len(valid[0]) == 4 and set(_sorted_images(valid)).isdisjoint(_sorted_images(first))
    if cache != "memory":  # one cache file set per split
        written = sorted(p.name.split("-")[1] for p in (tmp_path / "cache").glob("decoded-*.index"))
        assert written == ["train", "valid"]


def test_resize_modes_and_channels(tmp_path):
    folder = tmp_path / "mixed" / "a"
    folder.mkdir(parents=True)
    (folder / "wide.png").write_bytes(encode(np.full((10, 20, 3), 200, np.uint8), "PNG"))
    (folder / "grey.jpg").write_bytes(encode(np.full((20, 20, 1), 90, np.uint8)))
    with pytest.raises(KerasbuildError, match=r"differ in size.*data.resize"):
        _stream("mixed", tmp_path, test_size=0, valid_size=0)
    for mode, corner in (("stretch", 200), ("crop", 200), ("pad", 0)):
        splits = _stream(
            "mixed",
            tmp_path,
            test_size=0,
            valid_size=0,
            resize=(8, 8),
            resize_mode=mode,
            scale=None,
        )
        x, _ = next(iter(splits.dataset("train", 2)))
        assert x.shape == (2, 8, 8, 3)  # grey converted to RGB
        wide = x.numpy()[[p.endswith("wide.png") for p in splits.recorded()["train"]].index(True)]
        assert wide[0, 0, 0] == corner, mode


def test_normalize_auto_estimates_per_channel_statistics(tmp_path):
    write_image_folder(tmp_path / "imgs", 20)
    splits = _stream("imgs", tmp_path, test_size=0, valid_size=0, normalize={"sample": 80})
    mean, std = splits.preprocessing["mean"], splits.preprocessing["std"]
    assert len(mean) == 3 and 0.1 < mean[0] < 0.5 and 0.1 < std[0] < 0.5
    x = np.concatenate([b.numpy() for b, _ in splits.dataset("train", 80)])
    assert abs(float(x.mean())) < 0.05 and float(x.std()) == pytest.approx(1.0, abs=0.05)


# ------------------------------------------------------------------------------ bad files
def _bad_folder(tmp_path: Path, name: str, content: bytes) -> Path:
    root = write_image_folder(tmp_path / "bad", 6)
    (root / "c1" / name).write_bytes(content)
    return root


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("truncated.jpg", None, "not a readable image"),
        ("empty.jpg", b"", "zero-byte file"),
        ("notes.jpg", b"hello, not an image\n" * 10, "not a readable image"),
    ],
)
def test_bad_image_error_names_the_file_and_skip_reports_it(tmp_path, name, content, problem):
    if content is None:
        whole = encode(class_image(1, np.random.default_rng(0), 64))
        content = whole[: len(whole) // 2]
    _bad_folder(tmp_path, name, content)
    with pytest.raises(
        KerasbuildError, match=rf"bad image .*{name}: {problem}.*on_bad_image: skip"
    ):
        _stream("bad", tmp_path)
    splits = _stream("bad", tmp_path, on_bad_image="skip", test_size=0, valid_size=0)
    assert splits.size("train") == 24
    assert [(Path(f).name, p.split(" (")[0]) for f, p in splits.skipped] == [(name, problem)]


def test_empty_class_folder_and_grey_mixed_with_rgb(tmp_path):
    root = write_image_folder(tmp_path / "bad", 6)
    (root / "c9").mkdir()
    with pytest.raises(KerasbuildError, match=r"class folder .*c9 has no images"):
        _stream("bad", tmp_path)
    assert _stream("bad", tmp_path, on_bad_image="skip").class_names == ["c0", "c1", "c2", "c3"]
    shutil.rmtree(root / "c9")
    (root / "c2" / "grey.jpg").write_bytes(encode(np.full((16, 16, 1), 128, np.uint8)))
    splits = _stream("bad", tmp_path, test_size=0, valid_size=0)
    assert splits.input_shape == (16, 16, 3) and splits.size("train") == 25
    assert next(iter(splits.dataset("train", 25)))[0].shape == (25, 16, 16, 3)


def test_tfrecord_without_the_key_is_named(tmp_path):
    write_tfrecords(tmp_path / "good", 1, 12)
    write_tfrecords(tmp_path / "other", 1, 12, image_key="jpeg")
    with pytest.raises(
        KerasbuildError,
        match=r"other-00000.tfrecord: record 0 has no feature 'image/encoded' "
        r"\(it has: image/class/label, jpeg\)",
    ):
        _stream("*.tfrecord", tmp_path)
    splits = _stream("*.tfrecord", tmp_path, on_bad_image="skip", test_size=0, valid_size=0)
    assert splits.size("train") == 12 and Path(splits.skipped[0][0]).name == "other-00000.tfrecord"
    assert (
        _stream("other*.tfrecord", tmp_path, image_key="jpeg", test_size=0, valid_size=0).size(
            "train"
        )
        == 12
    )


def test_csv_of_paths_bad_rows_are_named(tmp_path):
    write_path_csv(tmp_path / "photos.csv", 2)
    lines = (tmp_path / "photos.csv").read_text().splitlines()
    (tmp_path / "empty.csv").write_text("\n".join([*lines[:3], ",band1", *lines[3:]]) + "\n")
    with pytest.raises(KerasbuildError, match=r"empty.csv:4: empty 'path'"):
        _stream("empty.csv", tmp_path)
    (tmp_path / "words.csv").write_text("path,top\nimg/0000.png,high\n")
    with pytest.raises(KerasbuildError, match=r"words.csv:2: targets \(top\) must be numbers"):
        _stream("words.csv", tmp_path)
    (tmp_path / "gone.csv").write_text("\n".join([*lines, "img/missing.png,band0"]) + "\n")
    with pytest.raises(KerasbuildError, match=r"missing.png"):
        _stream("gone.csv", tmp_path)


def test_tfds_not_prepared_is_a_clear_error(tmp_path):
    with pytest.raises(
        KerasbuildError, match=r"'mnist' is not prepared in .*never downloads.*tfds build mnist"
    ):
        _stream("tfds:mnist", tmp_path, data_dir=str(tmp_path))


# -------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_image_folder_train_evaluate_predict_export(tmp_path):
    from kerasbuild.export.exporter import export
    from kerasbuild.runs.evaluate import evaluate_run
    from kerasbuild.runs.predict import predict_file
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    write_image_folder(tmp_path / "imgs", 40)
    spec = _spec(
        tmp_path, "{source: imgs, seed: 0, normalize: {sample: 64}, augment: [{type: shift}]}"
    )
    result = train(load_spec(spec), tmp_path / "run")
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["examples"] == {"train": 102, "valid": 26, "test": 32}
    assert len(info["preprocessing"]["mean"]) == 3 and info["preprocessing"][
        "scale"
    ] == pytest.approx(1 / 255)
    recorded = json.loads((tmp_path / "run" / "splits.json").read_text())
    assert len(recorded["test"]) == 32 and recorded["test"][0].endswith(".jpg")
    assert result.test_metrics["test_accuracy"] >= 0.9
    scores = evaluate_run(tmp_path / "run")
    assert scores["n"] == 32 and scores["accuracy"] == pytest.approx(
        result.test_metrics["test_accuracy"]
    )
    x = np.stack([class_image(k % 4, np.random.default_rng(k), 16) for k in range(8)]).astype(
        np.float32
    )
    np.savez(tmp_path / "x.npz", x=x)
    predict_file(tmp_path / "run", [tmp_path / "x.npz"], tmp_path / "p.npz")
    assert (np.load(tmp_path / "p.npz")["labels"] == np.arange(8) % 4).mean() >= 0.75
    exported = export(tmp_path / "run", tmp_path / "models")
    assert exported.report.samples > 0 and exported.preprocessing.mean is not None

    # pictures of where it fails read the recorded test split batch by batch
    from kerasbuild.runs.plots_errors import StreamedImages, confusion, predict_test_split
    from kerasbuild.runs.rundir import load_run_model

    preds = predict_test_split(tmp_path / "run", load_run_model(tmp_path / "run", "best"))
    assert isinstance(preds.x, StreamedImages) and len(preds.x) == 32 and preds.x.ndim == 4
    assert confusion(preds).sum() == 32
    assert np.trace(confusion(preds)) / 32 == pytest.approx(result.test_metrics["test_accuracy"])
    assert preds.x[[3, 30]].shape == (2, 16, 16, 3) and preds.x[5].shape == (16, 16, 3)


@pytest.mark.slow
def test_tfrecord_and_tfds_train_evaluate_predict_export_from_the_command_line(tmp_path):
    write_tfrecords(tmp_path / "shard", 2, 60)
    data_dir = tmp_path / "tfds"
    prepare_tfds(data_dir)
    for name, data in (
        ("rec", "{source: 'shard-*.tfrecord', seed: 0, test_size: 24}"),
        ("tfds", f"{{source: 'tfds:kb_bands', data_dir: '{data_dir}', test_split: test, seed: 0}}"),
    ):
        spec = _spec(tmp_path, data)
        run = tmp_path / f"run_{name}"
        done = subprocess.run(
            _cli("train", str(spec), "--run-dir", str(run)),
            env=_env(),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["n_test"] in (24, 40) and metrics["test_accuracy"] >= 0.9, (name, metrics)
        evaluated = subprocess.run(
            _cli("evaluate", str(run)), env=_env(), capture_output=True, text=True
        )
        assert evaluated.returncode == 0, evaluated.stderr[-2000:]
        x = np.stack([class_image(k % 4, np.random.default_rng(k), 16) for k in range(8)])
        np.savez(tmp_path / "x.npz", x=x.astype(np.float32))
        predicted = subprocess.run(
            _cli("predict", str(run), str(tmp_path / "x.npz"), "-o", str(tmp_path / f"{name}.npz")),
            env=_env(),
            capture_output=True,
            text=True,
        )
        assert predicted.returncode == 0, predicted.stderr[-2000:]
        labels = np.load(tmp_path / f"{name}.npz")["labels"]
        assert (labels == np.arange(8) % 4).mean() >= 0.75, (name, labels)
        exported = subprocess.run(
            _cli("export", str(run), "--out", str(tmp_path / f"m_{name}")),
            env=_env(),
            capture_output=True,
            text=True,
        )
        assert exported.returncode == 0, exported.stderr[-2000:]


def test_csv_of_image_paths_train_evaluate_predict_export(tmp_path):
    from kerasbuild.export.exporter import export
    from kerasbuild.runs.evaluate import evaluate_run
    from kerasbuild.runs.predict import predict_file
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    write_path_csv(tmp_path / "photos.csv", 40)
    result = train(load_spec(_spec(tmp_path, "{source: photos.csv, seed: 0}")), tmp_path / "run")
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["examples"] == {"train": 102, "valid": 26, "test": 32}
    assert info["class_names"] == ["band0", "band1", "band2", "band3"]
    recorded = json.loads((tmp_path / "run" / "splits.json").read_text())
    assert len(recorded["test"]) == 32 and recorded["test"][0].endswith(".png")
    assert result.test_metrics["test_accuracy"] >= 0.9
    scores = evaluate_run(tmp_path / "run")
    assert scores["n"] == 32 and scores["accuracy"] == pytest.approx(
        result.test_metrics["test_accuracy"]
    )
    files = [tmp_path / "img" / f"{i:04d}.png" for i in range(8)]
    predict_file(tmp_path / "run", files, tmp_path / "p.csv")
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0].startswith("file,class,p_band0")
    assert sum(row.split(",")[1] == f"band{i % 4}" for i, row in enumerate(rows[1:])) >= 6
    assert export(tmp_path / "run", tmp_path / "models").report.samples > 0


def test_csv_of_image_paths_with_target_columns_trains_a_regression(tmp_path):
    from kerasbuild.runs.predict import predict_file
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    write_path_csv(tmp_path / "bands.csv", 40, regression=True)
    spec = _spec(tmp_path, "{source: bands.csv, seed: 0}", epochs=8)
    text = spec.read_text().replace(
        "num_units: 4, nonlinearity: softmax", "num_units: 2, nonlinearity: linear"
    )
    spec.write_text(text.replace("verbose: 0}", "verbose: 0, regression: true}"))
    result = train(load_spec(spec), tmp_path / "run")
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["task"] == "regression" and info["target_names"] == ["top", "bottom"]
    # the band's edges are 0, 0.25, 0.5 or 0.75 (+ 0.25): always answering the mean errs by 0.28
    assert result.test_metrics["test_rmse"] < 0.12, result.test_metrics
    files = [tmp_path / "img" / f"{i:04d}.png" for i in range(8)]
    predict_file(tmp_path / "run", files, tmp_path / "p.npz")
    y = np.load(tmp_path / "p.npz")["y"]
    truth = np.array([[(i % 4) / 4, (i % 4 + 1) / 4] for i in range(8)])
    assert y.shape == (8, 2) and np.abs(y - truth).mean() < 0.12


@pytest.mark.slow
@pytest.mark.parametrize("source", ["folder", "csv", "tfrecord", "tfds"])
def test_tune_from_each_streamed_source(tmp_path, source):
    """Every trial streams the source (Keras Tuner re-runs the same prepared fit)."""
    if source == "csv":
        write_path_csv(tmp_path / "photos.csv", 30)
        data = "{source: photos.csv, seed: 0}"
    elif source == "folder":
        write_image_folder(tmp_path / "imgs", 30)
        data = "{source: imgs, seed: 0}"
    elif source == "tfrecord":
        write_tfrecords(tmp_path / "shard", 2, 60)
        data = "{source: 'shard-*.tfrecord', seed: 0, test_size: 24}"
    else:
        prepare_tfds(tmp_path / "tfds")
        data = f"{{source: 'tfds:kb_bands', data_dir: '{tmp_path / 'tfds'}', test_split: test}}"
    spec = _spec(tmp_path, data, epochs=2).read_text()
    (tmp_path / "space.yaml").write_text(
        spec.replace("num_filters: 4", "num_filters: {hp: int, min: 2, max: 6}")
    )
    (tmp_path / "job.yaml").write_text(
        "spec: space.yaml\ntuner: random\nobjective: val_accuracy\nmax_trials: 2\n"
        "directory: search\nseed: 1\n"
    )
    done = subprocess.run(
        _cli("tune", str(tmp_path / "job.yaml")), env=_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    trials = [json.loads(p.read_text()) for p in (tmp_path / "search").glob("*/trial_*/trial.json")]
    assert sum(t["status"] == "COMPLETED" for t in trials) == 2
    best = max(t["score"] for t in trials)
    assert best >= 0.6, trials  # 4 classes of banded images: chance is 0.25


def _epochs_done(run: Path) -> int:
    try:
        return json.loads((run / "backup" / "state.json").read_text())["epochs_completed"]
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("source", ["imgs", "shard-*.tfrecord"])
def test_resume_after_sigkill_on_an_image_folder_matches_uninterrupted(tmp_path, source):
    if source == "imgs":
        write_image_folder(tmp_path / "imgs", 40)
    else:  # records: block-shuffled per (seed, epoch) from the record stream
        write_tfrecords(tmp_path / "shard", 2, 80)
    spec = _spec(
        tmp_path,
        f"{{source: '{source}', seed: 0, shuffle_buffer: 64, augment: [{{type: shift}}]}}",
        epochs=4,
    )
    full, killed = tmp_path / "full", tmp_path / "killed"
    proc = subprocess.Popen(
        _cli("train", str(spec), "--run-dir", str(killed)),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _epochs_done(killed) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 2 <= _epochs_done(killed) < 4
    subprocess.run(
        _cli("train", str(spec), "--run-dir", str(full)),
        env=_env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    resumed = subprocess.run(
        _cli("train", str(spec), "--run-dir", str(killed), "--resume"),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((killed / "splits.json").read_text()) == json.loads(
        (full / "splits.json").read_text()
    )
    for a, b in zip(final_weights(full), final_weights(killed), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def final_weights(run: Path) -> list[np.ndarray]:
    """The weights of a run's ``model_final.keras`` (safe mode)."""
    import keras

    from kerasbuild.layers import keras_layers  # noqa: F401

    return keras.saving.load_model(
        run / "model_final.keras", safe_mode=True, compile=False
    ).get_weights()
