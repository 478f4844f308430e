"""Tiny real runs and a tiny real search, made once per test session and shared by the
picture tests: MNIST-5k digits with a net that only sees the right half of each image, a
second MNIST net to compare with, a generated keypoints set, and a 3-trial digits search."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RIGHT_HALF_SPEC = """
name: right_half
input: {shape: [28, 28, 1], name: image}
layers:
  - {name: right, type: SliceLayer, indices: [14, null], axis: 1}
  - {name: conv1, type: Conv2DLayer, num_filters: 6, filter_size: 5, nonlinearity: rectify}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:mnist_5k", test_size: 0.2, limit: 600, seed: 0}
train: {update: adam, update_learning_rate: 0.003, batch_size: 32, max_epochs: 2, seed: 0, verbose: 0}
"""  # noqa: E501
"""Only columns 14..27 reach the rest of the net: the left half of the image cannot matter."""

DENSE_SPEC = """
name: dense
input: {shape: [28, 28, 1], name: image}
layers:
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:mnist_5k", test_size: 0.2, limit: 600, seed: 0}
train: {update: adam, update_learning_rate: 0.003, batch_size: 32, max_epochs: 2, seed: 0, verbose: 0}
"""  # noqa: E501

KEYPOINTS_SPEC = """
name: dots
input: {shape: [24, 24, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 3, nonlinearity: rectify}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: 4, nonlinearity: null}
data:
  source: dots.csv
  test_size: 0.25
  augment: [{type: flip_horizontal, p: 0.5, keypoint_pairs: [[0, 1]]}]
train: {update: adam, update_learning_rate: 0.003, regression: true, batch_size: 16, max_epochs: 2,
        seed: 0, verbose: 0}
"""

SEARCH_SPACE = """
name: digits_space
input: {shape: [8, 8, 1], name: image}
layers:
  - {name: hidden, type: DenseLayer, num_units: {hp: choice, values: [8, 16, 32], default: 16}}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:digits", test_size: 0.2, seed: 0}
train:
  update: momentum
  update_learning_rate: {hp: float, min: 0.01, max: 0.3, sampling: log, default: 0.1}
  update_momentum: 0.9
  batch_size: 64
  max_epochs: 1
  seed: 0
"""

SEARCH_JOB = (
    "spec: space.yaml\ntuner: random\nobjective: val_accuracy\n"
    "max_trials: 3\ndirectory: search\nseed: 1\n"
)


def write_dots_csv(path: Path, n: int = 120, side: int = 24, seed: int = 0) -> np.ndarray:
    """A facial-keypoints-style CSV: two bright 3x3 squares (``left_eye`` at the image's
    left, ``right_eye`` at its right) on a dark noisy background; returns the ``(n, 4)``
    keypoints (x, y in pixels)."""
    rng = np.random.default_rng(seed)
    points = np.stack(
        [
            rng.uniform(3, 9, n),
            rng.uniform(3, 20, n),
            rng.uniform(14, 20, n),
            rng.uniform(3, 20, n),
        ],
        axis=1,
    )
    lines = ["left_eye_center_x,left_eye_center_y,right_eye_center_x,right_eye_center_y,Image"]
    for row in points:
        image = rng.integers(0, 40, (side, side))
        for x, y in (row[:2], row[2:]):
            image[int(y) - 1 : int(y) + 2, int(x) - 1 : int(x) + 2] = 255
        lines.append(",".join(f"{v:.2f}" for v in row) + "," + " ".join(map(str, image.ravel())))
    path.write_text("\n".join(lines) + "\n")
    return points


def _train(text: str, folder: Path, name: str) -> Path:
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    spec = folder / f"{name}.yaml"
    spec.write_text(text)
    run = folder / name
    train(load_spec(spec), run)
    return run


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("picture_runs")


@pytest.fixture(scope="session")
def right_half_run(runs_dir: Path) -> Path:
    return _train(RIGHT_HALF_SPEC, runs_dir, "right_half")


@pytest.fixture(scope="session")
def dense_run(runs_dir: Path) -> Path:
    return _train(DENSE_SPEC, runs_dir, "dense")


@pytest.fixture(scope="session")
def keypoints_run(runs_dir: Path) -> Path:
    write_dots_csv(runs_dir / "dots.csv")
    return _train(KEYPOINTS_SPEC, runs_dir, "dots")


@pytest.fixture(scope="session")
def search_dir(tmp_path_factory) -> Path:
    from rich.console import Console

    from kerasbuild.tuning.command import tune

    folder = tmp_path_factory.mktemp("picture_search")
    (folder / "space.yaml").write_text(SEARCH_SPACE)
    (folder / "job.yaml").write_text(SEARCH_JOB)
    tune(folder / "job.yaml", Console(stderr=True, quiet=True))
    return folder / "search" / "job"
