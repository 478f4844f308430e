"""MirroredStrategy over two logical CPU devices (set up in a fresh subprocess, before
TensorFlow initialises its devices)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DIGITS_SPEC

SCRIPT = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kerasbuild.spec.loader import load_spec
from kerasbuild.runs.runner import train
result = train(load_spec(sys.argv[1], overrides={"train.distribute": "mirrored"}), sys.argv[2])
print(result.test_metrics["test_accuracy"])
"""


@pytest.mark.slow
def test_mirrored_strategy_trains_over_two_logical_cpus(tmp_path: Path) -> None:
    spec = tmp_path / "digits.yaml"
    spec.write_text(DIGITS_SPEC)
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(spec), str(run)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((run / "run.json").read_text())
    assert info["replicas"] == 2 and info["status"] == "complete"
    assert float(proc.stdout.strip().splitlines()[-1]) >= 0.9
    assert (run / "model_best.keras").is_file() and (run / "model_final.keras").is_file()
