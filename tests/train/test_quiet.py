"""TensorFlow's C++ start-up lines (oneDNN, CPU features, absl) stay off a command's stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DIGITS_SPEC

KERASBUILD = Path(sys.executable).with_name("kerasbuild")
NOISE = ("oneDNN", "absl", "cpu_feature_guard", "This TensorFlow binary is optimized")


def _train(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    spec = tmp_path / "digits.yaml"
    spec.write_text(DIGITS_SPEC)
    return subprocess.run(
        [
            str(KERASBUILD),
            "train",
            str(spec),
            "--set",
            "train.max_epochs=1",
            "--run-dir",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.slow
def test_training_prints_no_tensorflow_log_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = _train(tmp_path, env)
    assert result.returncode == 0, result.stderr
    noisy = [line for line in result.stderr.splitlines() if any(n in line for n in NOISE)]
    assert noisy == []
    assert "test accuracy" in result.stdout


def test_a_level_the_user_chose_is_kept(tmp_path):
    """TF_CPP_MIN_LOG_LEVEL=0 (everything) is the user's choice: TensorFlow's INFO lines show
    (``build`` imports TensorFlow without training)."""
    spec = tmp_path / "digits.yaml"
    spec.write_text(DIGITS_SPEC)
    result = subprocess.run(
        [str(KERASBUILD), "build", str(spec), "-o", str(tmp_path / "m.keras")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert result.returncode == 0, result.stderr
    assert any(n in result.stderr for n in NOISE), result.stderr[-2000:]
