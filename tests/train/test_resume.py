"""Resume after SIGKILL, or after SIGTERM from a scheduler, ends with the same weights as an
uninterrupted run (same seed), in float32 and in mixed_float16 (whose loss-scale optimizer state
is restored too)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

SPEC = """
name: resume_net
input: {shape: [28, 28, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 5, nonlinearity: rectify}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: drop1, type: DropoutLayer, p: 0.3}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:mnist_5k", test_size: 0.2, augment: [{type: shift, max_pixels: 1}]}
train:
  update: nesterov_momentum
  update_learning_rate: 0.05
  batch_size: 32
  max_epochs: 6
  seed: 3
  deterministic: true
  on_epoch_finished:
    - {type: AdjustVariable, name: update_momentum, start: 0.5, stop: 0.95}
    - {type: EarlyStopping, patience: 10}
  schedules:
    - {type: reduce_on_plateau, patience: 1, factor: 0.5}
"""

KILL_AFTER = 3


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kerasbuild.cli", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _epochs_done(run: Path) -> int:
    try:
        return json.loads((run / "backup" / "state.json").read_text())["epochs_completed"]
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def _weights(path: Path) -> list[np.ndarray]:
    import keras

    from kerasbuild.layers import keras_layers  # noqa: F401

    return keras.saving.load_model(path, safe_mode=True, compile=False).get_weights()


_UNINTERRUPTED: dict[str, tuple[Path, Path]] = {}


def _uninterrupted(tmp_path_factory, precision: str) -> tuple[Path, Path]:
    """``(spec, run)``: the seeded run in ``precision`` trained without interruption (once per
    precision for the module)."""
    if precision not in _UNINTERRUPTED:
        tmp = tmp_path_factory.mktemp(f"uninterrupted_{precision}")
        spec, full = tmp / "resume.yaml", tmp / "full"
        spec.write_text(SPEC.replace("  seed: 3\n", f"  seed: 3\n  precision: {precision}\n"))
        subprocess.run(
            _cli("train", str(spec), "--run-dir", str(full)),
            env=_env(),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _UNINTERRUPTED[precision] = spec, full
    return _UNINTERRUPTED[precision]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("precision", "sig", "exit_code", "status"),
    [
        ("float32", signal.SIGKILL, -signal.SIGKILL, "running"),
        ("float32", signal.SIGTERM, 143, "interrupted"),
        ("mixed_float16", signal.SIGKILL, -signal.SIGKILL, "running"),
    ],
)
def test_resume_after_a_signal_matches_uninterrupted_run(
    tmp_path_factory, tmp_path: Path, precision: str, sig: int, exit_code: int, status: str
) -> None:
    spec, full = _uninterrupted(tmp_path_factory, precision)
    killed = tmp_path / "killed"

    proc = subprocess.Popen(
        _cli("train", str(spec), "--run-dir", str(killed)),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _epochs_done(killed) < KILL_AFTER and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, sig)
    assert proc.wait() == exit_code
    done = _epochs_done(killed)
    run_json = json.loads((killed / "run.json").read_text())
    assert KILL_AFTER <= done < 6, f"killed after {done} epochs; expected mid-run"
    assert run_json["status"] == status
    assert len(json.loads((killed / "history.json").read_text())) >= done

    resumed = subprocess.run(
        _cli("train", str(spec), "--run-dir", str(killed), "--resume"),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    history_full = json.loads((full / "history.json").read_text())
    history_resumed = json.loads((killed / "history.json").read_text())
    assert [r["epoch"] for r in history_resumed] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(history_full, history_resumed, strict=True):
        for key in ("loss", "val_loss", "val_accuracy", "learning_rate", "momentum"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), (a["epoch"], key)
    for a, b in zip(
        _weights(full / "model_final.keras"), _weights(killed / "model_final.keras"), strict=True
    ):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(
        _weights(full / "model_best.keras"), _weights(killed / "model_best.keras"), strict=True
    ):
        np.testing.assert_allclose(a, b, atol=1e-5)
    info = json.loads((killed / "run.json").read_text())
    assert (
        info["status"] == "complete" and info["resumed"] is True and info["epochs_completed"] == 6
    )
    full_info = json.loads((full / "run.json").read_text())
    assert info["execution"]["dtype_policy"] == full_info["execution"]["dtype_policy"] == precision
    assert info["execution"]["loss_scale"] == full_info["execution"]["loss_scale"]
    if precision == "mixed_float16":  # no overflow: the step counter continued where it was killed
        steps = math.ceil(info["examples"]["train"] / 32)
        assert info["execution"]["loss_scale"] == {"scale": 32768.0, "good_steps": 6 * steps}
    assert json.loads((full / "metrics.json").read_text())["test_accuracy"] == pytest.approx(
        json.loads((killed / "metrics.json").read_text())["test_accuracy"], abs=1e-6
    )
