"""Fine-tuning end to end through the command line: a tiny conv net trained on scikit-learn
digits is the starting point (its run directory) of a second spec that keeps the conv layer
and replaces the head. With the conv layer frozen it stays bit-equal to the base run's while
the new head learns; with ``unfreeze_at`` it trains from epoch 3 at the new learning rate; a
run killed (SIGKILL) after the unfreeze and resumed ends with the uninterrupted run's weights;
the result exports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.train.conftest import DIGITS_SPEC
from tests.train.test_resume import _epochs_done

BASE = DIGITS_SPEC.replace("max_epochs: 8", "max_epochs: 3")
FINETUNE = (
    DIGITS_SPEC.replace(
        "name: tiny_digits", "name: finetune\ninit: {weights: base_run, strict: false}"
    )
    .replace("num_units: 32", "num_units: 16")
    .replace("batch_size: 32", "batch_size: 16")
    .replace("max_epochs: 8", "max_epochs: 6")
    .replace("seed: 1", "seed: 2")
    + "  freeze: [conv1]\n"
)
UNFREEZE = "  unfreeze_at: {epoch: 2, learning_rate: 0.01}\n"


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerasbuild.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        **kwargs,
    )


def _weights(run: Path, name: str = "model_final.keras") -> dict[str, list[np.ndarray]]:
    from kerasbuild.safe_load import load_keras_model

    model = load_keras_model(run / name, compile=False)
    return {layer.name: layer.get_weights() for layer in model.layers if layer.weights}


@pytest.mark.slow
def test_fine_tune_freeze_unfreeze_resume_export(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE)
    done = _cli("train", str(tmp_path / "base.yaml"), "--run-dir", str(tmp_path / "base_run"))
    assert done.returncode == 0, done.stderr[-2000:]
    base = _weights(tmp_path / "base_run", "model_best.keras")

    # frozen backbone, new head (2 epochs)
    (tmp_path / "frozen.yaml").write_text(FINETUNE.replace("max_epochs: 6", "max_epochs: 2"))
    done = _cli("train", str(tmp_path / "frozen.yaml"), "--run-dir", str(tmp_path / "frozen"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        "init: loaded 1 of 3 layers" in done.stderr
        and "skipped 2: hidden (shapes 72x16, 16 here, 72x32, 32 in the file), output"
        in done.stderr.replace("\n", " ")
    )
    frozen = _weights(tmp_path / "frozen")
    for ours, theirs in zip(frozen["conv1"], base["conv1"], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    metrics = json.loads((tmp_path / "frozen" / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.8  # the new head learnt on the frozen features

    # two stages, uninterrupted
    spec = tmp_path / "unfreeze.yaml"
    spec.write_text(FINETUNE + UNFREEZE)
    full = tmp_path / "full"
    done = _cli("train", str(spec), "--run-dir", str(full))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "epoch 3: unfroze 1 layer(s), learning rate 0.01" in done.stderr
    history = json.loads((full / "history.json").read_text())
    assert [round(row["learning_rate"], 6) for row in history] == [
        0.05,
        0.05,
        0.01,
        0.01,
        0.01,
        0.01,
    ]
    final = _weights(full)
    assert np.abs(final["conv1"][0] - base["conv1"][0]).max() > 1e-4  # trained after the unfreeze

    # killed after the unfreeze epoch, resumed
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kerasbuild.cli", "train", str(spec), "--run-dir", str(killed)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _epochs_done(killed) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert 3 <= _epochs_done(killed) < 6
    (tmp_path / "base_run" / "model_best.keras").rename(
        tmp_path / "moved.keras"
    )  # resume needs no init file
    done = _cli("train", "--run-dir", str(killed), "--resume")
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = _weights(killed)
    assert resumed.keys() == final.keys()
    for name in final:
        for ours, theirs in zip(resumed[name], final[name], strict=True):
            np.testing.assert_allclose(ours, theirs, atol=1e-6)
    resumed_history = json.loads((killed / "history.json").read_text())
    assert [row["learning_rate"] for row in resumed_history] == [
        row["learning_rate"] for row in history
    ]
    assert json.loads((killed / "run.json").read_text())["init"].startswith("loaded 1 of 3 layers")

    done = _cli("export", str(killed), "--out", str(tmp_path / "exported"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "exported" / "1" / "saved_model.pb").is_file()
