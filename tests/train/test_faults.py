"""Faults of the world: a full disk, two writers on one run directory, a stale lock.

Disk-full runs go through ``tests/train/enospc_cli.py`` (the run-directory writer fails with
ENOSPC at a chosen file; TensorFlow and Keras run unchanged) so they run wherever CI runs; the
export case uses a real 3 MB tmpfs and is skipped where mounting is not permitted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kerasbuild.errors import KerasbuildError
from kerasbuild.runs import lock

HERE = Path(__file__).parent
SPEC = """
name: fault_net
input: {shape: [8, 8, 1], name: image}
layers:
  - {name: hidden, type: DenseLayer, num_units: 16}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
data: {source: "builtin:digits", test_size: 0.2}
train: {update: nesterov_momentum, update_learning_rate: 0.05, batch_size: 32, max_epochs: 3, seed: 1,
        deterministic: true, verbose: 0}
"""  # noqa: E501


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "kerasbuild.cli", *map(str, args)]


def _spec(tmp_path: Path, max_epochs: int = 3) -> Path:
    path = tmp_path / "fault.yaml"
    path.write_text(SPEC.replace("max_epochs: 3", f"max_epochs: {max_epochs}"))
    return path


def _full_disk_train(spec: Path, run: Path, match: str, skip: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HERE / "enospc_cli.py"), "train", str(spec), "--run-dir", str(run)],
        env=_env(ENOSPC_MATCH=match, ENOSPC_SKIP=str(skip)),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _hidden_files(directory: Path) -> list[str]:
    return [str(p.relative_to(directory)) for p in directory.rglob(".*")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("match", "skip", "written"),
    [
        (".epoch_0002.weights.h5.*", 0, "backup/epoch_0002.weights.h5"),
        (".model_best.keras.*", 1, "model_best.keras"),
    ],
)
def test_disk_full_fails_in_one_line_and_resume_finishes(
    tmp_path: Path, match: str, skip: int, written: str
) -> None:
    spec, run = _spec(tmp_path), tmp_path / "run"
    failed = _full_disk_train(spec, run, match, skip)
    assert failed.returncode == 2, failed.stderr[-2000:]
    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert lines[-1] == (
        f"error: no space left on device writing {run / written}; epoch 1 is saved; "
        "free space and run again with --resume"
    )
    assert "Traceback" not in failed.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and info["reason"].startswith(
        "no space left on device writing"
    )
    assert _hidden_files(run) == [], "temporary files or the lock were left behind"
    assert json.loads((run / "backup" / "state.json").read_text())["epochs_completed"] == 1

    resumed = subprocess.run(
        _cli("train", spec, "--run-dir", run, "--resume"),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["epochs_completed"] == 3 and "reason" not in info
    assert [row["epoch"] for row in json.loads((run / "history.json").read_text())] == [1, 2, 3]
    assert json.loads((run / "metrics.json").read_text())["test_accuracy"] > 0.5


def _wait(condition, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_second_train_is_refused_while_the_first_lives_and_resume_takes_a_stale_lock(
    tmp_path: Path,
) -> None:
    spec, run = _spec(tmp_path, max_epochs=3), tmp_path / "run"
    first = subprocess.Popen(
        _cli("train", spec, "--run-dir", run),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: (run / "backup" / "state.json").is_file() or first.poll() is not None)
        first.send_signal(signal.SIGSTOP)  # a stopped process still holds its lock: a slow epoch
        assert first.poll() is None and lock.is_held(run)
        for extra in (["--overwrite"], ["--resume"]):
            second = subprocess.run(
                _cli("train", spec, "--run-dir", run, *extra),
                env=_env(),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert second.returncode == 2, second.stderr[-2000:]
            assert (
                f"{run} is in use by PID {first.pid} on {lock.host_name()} (kerasbuild train"
                in second.stderr
            )
            assert f"kill {first.pid}" in second.stderr
        assert json.loads((run / "run.json").read_text())["status"] == "running"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert (run / lock.LOCK_NAME).is_file() and not lock.is_held(run)
    assert lock.state(run, json.loads((run / "run.json").read_text())["status"]) == "crashed"

    evaluated = subprocess.run(
        _cli("evaluate", run), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert f"the run in {run} crashed after epoch" in evaluated.stderr
    assert float(evaluated.stdout.split("accuracy=")[1].split()[0]) > 0.3

    resumed = subprocess.run(
        _cli("train", spec, "--run-dir", run, "--resume"),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"took over the stale lock of PID {first.pid}" in resumed.stderr
    assert "crashed (run.json said running" in resumed.stderr
    assert json.loads((run / "run.json").read_text())["status"] == "complete"
    assert not (run / lock.LOCK_NAME).exists()


def test_lock_names_its_holder_and_is_taken_over_after_sigkill(tmp_path: Path) -> None:
    """The same rules without TensorFlow: a holder process, refused writers, the stale take-over."""
    directory = tmp_path / "search"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from kerasbuild.runs.lock import acquire; "
            "acquire(sys.argv[1], 'kerasbuild tune'); print('held', flush=True); time.sleep(600)",
            str(directory),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(KerasbuildError) as refused:
            lock.acquire(directory, "kerasbuild tune")
        assert refused.value.exit_code == 2
        assert f"in use by PID {holder.pid} on {lock.host_name()} (kerasbuild tune, since" in str(
            refused.value
        )
        assert lock.state(directory, "running") == "running"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock.state(directory, "running") == "crashed"
    with lock.hold(directory, "kerasbuild tune") as held:
        assert held.taken_over is not None and held.taken_over.pid == holder.pid
        assert lock.read_holder(directory).pid == os.getpid()
    assert not (directory / lock.LOCK_NAME).exists()


def test_a_lock_recorded_on_another_host_is_not_taken_over(tmp_path: Path) -> None:
    (tmp_path / lock.LOCK_NAME).write_text(
        json.dumps(
            {
                "host": "elsewhere",
                "pid": 4242,
                "command": "kerasbuild train",
                "since": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    with pytest.raises(KerasbuildError) as refused:
        lock.acquire(tmp_path, "kerasbuild train")
    assert "locked by PID 4242 on elsewhere" in str(refused.value)
    assert f"delete {tmp_path / lock.LOCK_NAME} and run again" in str(refused.value)


def _mount_tmpfs(directory: Path, size: str) -> None:
    directory.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a size-limited tmpfs here ({done.stderr.strip() or 'not permitted'}); "
            "the ENOSPC injection tests cover the training writers"
        )


@pytest.mark.slow
def test_export_onto_a_full_disk_fails_in_one_line_and_publishes_nothing(tmp_path: Path) -> None:
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    spec = _spec(tmp_path)
    train(load_spec(spec), tmp_path / "run")
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "1m")
    try:
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"\0" * (free - 8192))  # 8 KB left: less than a SavedModel
        (disk / "m").mkdir()
        failed = subprocess.run(
            _cli("export", tmp_path / "run", "--out", disk / "m"),
            env=_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert failed.returncode == 2, failed.stderr[-2000:]
        last = [line for line in failed.stderr.splitlines() if line.strip()][-1]
        assert last.startswith("error: no space left on device writing " + str(disk / "m"))
        assert last.endswith(
            f"nothing was published and the versions in {disk / 'm'} are untouched; "
            "free space and export again"
        )
        assert "Traceback" not in failed.stderr
        assert list((disk / "m").iterdir()) == []
        (disk / "filler").unlink()
        exported = subprocess.run(
            _cli("export", tmp_path / "run", "--out", disk / "m"),
            env=_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert exported.returncode == 0, exported.stderr[-2000:]
        assert (disk / "m" / "1" / "saved_model.pb").is_file()
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_free_space_check_uses_the_real_checkpoint_sizes(tmp_path: Path) -> None:
    import keras

    from kerasbuild.fit.diskspace import checkpoint_sizes, space_warning
    from kerasbuild.fit.files import serialized

    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(300), keras.layers.Dense(10)])
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "mse")
    model.optimizer.build(model.trainable_variables)
    backup, weights = checkpoint_sizes(model)
    assert weights == (64 * 300 + 300 + 300 * 10 + 10) * 4
    on_disk = len(serialized(model.save_weights, "x.weights.h5"))
    assert backup <= on_disk <= backup + 64 * 1024  # the h5 file: the variables plus its metadata
    assert space_warning(2 * backup + 3 * weights, backup, weights, tmp_path) is None
    warning = space_warning(backup, backup, weights, tmp_path)
    assert warning is not None and warning.startswith(
        f"warning: {backup / 2**20:.1f} MB free on the file system"
    )
