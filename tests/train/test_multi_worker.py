"""``distribute: multi_worker``: real worker processes on 127.0.0.1 with ``TF_CONFIG``, the
``--workers N`` launcher, a worker killed mid-run and the restart with ``--resume``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kerasbuild.fit.cluster import tf_config
from kerasbuild.runs.launcher import free_ports

SPEC = """
name: mw_mnist
input: {shape: [28, 28, 1], name: image}
layers:
  - {name: pool, type: MaxPool2DLayer, pool_size: 2}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:mnist_5k", test_size: 0.2, limit: 1200}
train:
  update: nesterov_momentum
  update_learning_rate: 0.05
  batch_size: 64
  max_epochs: 3
  seed: 0
  distribute: multi_worker
"""

RUN_FILES = (
    "spec.yaml",
    "run.json",
    "history.csv",
    "history.json",
    "metrics.json",
    "model_best.keras",
    "model_final.keras",
    "loss.png",
    "backup/state.json",
    "tensorboard",
)


def _train(
    spec: Path, *args: str, index: int | None = None, addresses: list[str] | None = None, **popen
) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if index is not None:
        env["TF_CONFIG"] = tf_config(addresses, index)
    return subprocess.Popen(
        [sys.executable, "-m", "kerasbuild.cli", "train", str(spec), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def _workers(spec: Path, run: Path, *args: str) -> list[subprocess.Popen]:
    addresses = [f"127.0.0.1:{p}" for p in free_ports(2)]
    return [
        _train(spec, "--run-dir", str(run), *args, index=i, addresses=addresses) for i in range(2)
    ]


def _test_accuracy(run: Path) -> float:
    return json.loads((run / "metrics.json").read_text())["test_accuracy"]


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "mw.yaml"
    path.write_text(SPEC)
    return path


@pytest.mark.slow
def test_two_workers_match_one_process_and_the_launcher_matches_tf_config(
    spec: Path, tmp_path: Path
) -> None:
    procs = [
        *_workers(spec, tmp_path / "mw"),
        _train(spec, "--run-dir", str(tmp_path / "single"), "--set", "train.distribute=none"),
    ]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], "\n".join(o[-2000:] for o in outputs)
    run = tmp_path / "mw"
    assert all((run / name).exists() for name in RUN_FILES), sorted(p.name for p in run.iterdir())
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["epochs_completed"] == 3
    assert info["replicas"] == 2 and info["execution"]["workers"] == 2
    assert (
        info["execution"]["strategy"] == "CollectiveAllReduceStrategy"
    )  # MultiWorkerMirroredStrategy
    assert len(json.loads((run / "history.json").read_text())) == 3
    multi, single = _test_accuracy(run), _test_accuracy(tmp_path / "single")
    assert single > 0.7 and abs(multi - single) <= 0.03, (multi, single)

    launched = subprocess.run(
        [
            sys.executable,
            "-m",
            "kerasbuild.cli",
            "train",
            str(spec),
            "--run-dir",
            str(tmp_path / "launched"),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert "complete after 3 epochs" in launched.stdout
    assert _test_accuracy(tmp_path / "launched") == pytest.approx(multi, abs=0.005)


@pytest.mark.slow
def test_a_killed_worker_stops_the_chief_and_resume_finishes(spec: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    chief, worker = _workers(spec, run)
    state = run / "backup" / "state.json"
    deadline = time.monotonic() + 300
    while not state.exists() and time.monotonic() < deadline and chief.poll() is None:
        time.sleep(0.2)
    assert state.exists(), chief.communicate()[0][-3000:]
    worker.send_signal(signal.SIGKILL)  # during epoch 2
    killed = time.monotonic()
    output = chief.communicate(timeout=120)[0]
    assert time.monotonic() - killed < 60
    assert chief.returncode not in (0, None)
    assert "lost contact with worker 1 (127.0.0.1:" in output, output[-3000:]
    assert "--resume" in output
    saved = json.loads(state.read_text())["epochs_completed"]
    assert 1 <= saved < 3

    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "kerasbuild.cli",
            "train",
            "--resume",
            "--run-dir",
            str(run),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["resumed"] and info["epochs_completed"] == 3
    assert [row["epoch"] for row in json.loads((run / "history.json").read_text())] == [1, 2, 3]
    assert _test_accuracy(run) > 0.7
