"""Distributed searches on 127.0.0.1 with real worker processes (Keras Tuner's chief/worker
gRPC protocol): both workers of a launcher complete trials, and a worker killed mid-trial
does not stall the search."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kerasbuild.tuning.distributed import free_port, launch
from kerasbuild.tuning.job import load_job

pytestmark = pytest.mark.slow

JOB = """\
spec: space.yaml
tuner: random
objective: val_accuracy
max_trials: 4
max_retries_per_trial: 1
trial_timeout: 6
directory: search
seed: 5
"""


def _workers_of_completed(project: Path) -> dict[str, str]:
    out = {}
    for trial in project.glob("trial_*/trial.json"):
        state = json.loads(trial.read_text())
        if state["status"] == "COMPLETED":
            out[state["trial_id"]] = json.loads((trial.parent / "worker.json").read_text())[
                "tuner_id"
            ]
    return out


def test_launcher_runs_two_workers_that_both_complete_trials_and_restarts_a_dead_one(
    make_job, tmp_path
):
    path = make_job(JOB.replace("max_trials: 4", "max_trials: 6"))
    project = tmp_path / "search" / "job"
    killed: list[str] = []

    def kill_worker1_in_its_second_trial() -> None:
        log = project / "logs" / "worker1.log"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if text.count("worker1: trial ") >= 2:
                line = text.split("worker1: trial ")[2].splitlines()[0]  # "3 started (pid 1234)"
                killed.append(line.split()[0])
                os.kill(int(line.split("pid ")[1].rstrip(")")), signal.SIGKILL)
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_worker1_in_its_second_trial, daemon=True)
    killer.start()
    launched = launch(load_job(path), 2)
    killer.join(timeout=5)
    assert killed, "worker1 never started a second trial"
    assert launched.restarts == {"worker0": 0, "worker1": 1}
    assert launched.worker_exit_codes == {"worker0": 0, "worker1": 0}
    by_worker = _workers_of_completed(project)
    assert len(by_worker) == 6
    assert set(by_worker.values()) == {"worker0", "worker1"}
    # the killed trial ran again: on the restarted worker1 (Keras Tuner hands a worker back its
    # ongoing trial) or, when the restart took longer than trial_timeout, on worker0
    assert killed[0] in by_worker
    for name in ("worker0", "worker1"):
        log = (project / "logs" / f"{name}.log").read_text()
        assert "the chief has no more trials; done" in log
    assert "serving the oracle on 127.0.0.1:" in (project / "logs" / "chief.log").read_text()
    assert launched.results.completed and len(launched.results.completed) == 6
    saved = json.loads((project / "results.json").read_text())
    assert saved["counts"] == {"COMPLETED": 6}
    assert (project / "best_spec.yaml").is_file()


def _wait_for(path: Path, text: str, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        assert process.poll() is None, f"{path.name} exited early:\n{content[-2000:]}"
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} in {path} after {timeout} s")


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kerasbuild.cli", "tune", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )


def test_a_worker_killed_mid_trial_does_not_stall_the_search(make_job, tmp_path):
    path = make_job(JOB)
    port = free_port()
    oracle = f"127.0.0.1:{port}"
    processes: list[subprocess.Popen] = []
    try:
        chief = _start(
            [str(path), "--chief", "--port", str(port), "--host", "127.0.0.1"],
            tmp_path / "chief.log",
        )
        processes.append(chief)
        doomed = _start([str(path), "--worker", "w1", "--oracle", oracle], tmp_path / "w1.log")
        processes.append(doomed)
        log = _wait_for(tmp_path / "w1.log", "w1: trial ", doomed, timeout=180)
        killed_trial = log.split("w1: trial ")[1].split()[0]
        doomed.send_signal(signal.SIGKILL)
        assert doomed.wait(timeout=10) == -signal.SIGKILL
        survivor = _start([str(path), "--worker", "w0", "--oracle", oracle], tmp_path / "w0.log")
        processes.append(survivor)
        assert survivor.wait(timeout=240) == 0, (tmp_path / "w0.log").read_text()[-3000:]
        assert chief.wait(timeout=30) == 0, (tmp_path / "chief.log").read_text()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    chief_log = (tmp_path / "chief.log").read_text()
    assert f"trial {killed_trial}: worker w1 sent no heartbeat" in chief_log
    assert "presumed dead; it will be retried" in chief_log
    project = tmp_path / "search" / "job"
    by_worker = _workers_of_completed(project)
    assert len(by_worker) == 4  # every trial completed, the killed one retried
    assert by_worker[killed_trial] == "w0"
    saved = json.loads((project / "results.json").read_text())
    assert saved["counts"] == {"COMPLETED": 4}


def test_heartbeats_keep_a_worker_whose_trial_outlasts_the_timeout(make_job, tmp_path):
    # trial_timeout 2 s, heartbeat every 0.5 s, one trial of 80 epochs: several times longer
    path = make_job(
        JOB.replace("max_trials: 4", "max_trials: 1").replace(
            "trial_timeout: 6", "trial_timeout: 2"
        )
        + "overrides: {train.max_epochs: 80}\n"
    )
    launched = launch(load_job(path), 1)
    project = tmp_path / "search" / "job"
    assert launched.restarts == {"worker0": 0} and launched.worker_exit_codes == {"worker0": 0}
    [trial] = launched.results.trials
    assert (trial.status, trial.worker) == ("COMPLETED", "worker0")
    assert trial.seconds > 2 * 2
    assert "no heartbeat" not in (project / "logs" / "chief.log").read_text()
