"""Tiny real searches: a one-hidden-layer net on scikit-learn's 1,797 8x8 digits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPACE = """\
name: digits_space
input: {shape: [8, 8, 1], name: image}
layers:
  - {name: hidden, type: DenseLayer, num_units: {hp: choice, values: [16, 32, 64], default: 32},
     nonlinearity: rectify}
  - {name: drop, type: DropoutLayer, p: {hp: float, min: 0.0, max: 0.4, step: 0.2, default: 0.2}}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:digits", test_size: 0.2, seed: 0}
train:
  update: momentum
  update_learning_rate: {hp: float, min: 0.03, max: 0.3, sampling: log, default: 0.1}
  update_momentum: 0.9
  batch_size: {hp: choice, values: [32, 64], default: 32}
  max_epochs: {hp: int, min: 2, max: 3, default: 2}
  eval_size: 0.2
  seed: 0
"""


@pytest.fixture
def space_text() -> str:
    return SPACE


@pytest.fixture
def make_job(tmp_path: Path):
    """``make_job(job_text, space=SPACE, name="job.yaml")``: write ``space.yaml`` and the job
    file into ``tmp_path``; return the job file's path."""

    def make(job: str, space: str = SPACE, name: str = "job.yaml") -> Path:
        (tmp_path / "space.yaml").write_text(space)
        path = tmp_path / name
        path.write_text(job)
        return path

    return make
