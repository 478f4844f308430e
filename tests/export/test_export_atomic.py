"""Atomic versioning: killed exports leave no partial version, concurrent publishers take
distinct numbers, stale temp directories are cleaned up."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kerasbuild.export import export
from kerasbuild.export.exporter import PAUSE_ENV
from kerasbuild.export.versions import (
    TMP_PREFIX,
    clean_stale_temp_dirs,
    make_temp_dir,
    next_version,
    publish,
    version_numbers,
)
from kerasbuild.runs.lock import host_name


def tree_digest(path: Path) -> str:
    """A hash over every file's relative path and bytes under ``path``."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def start_export(run: Path, out: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kerasbuild.cli", "export", str(run), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env},
    )


def wait_for(condition, timeout: float = 180.0, step: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


def temp_dirs(out: Path) -> list[Path]:
    return sorted(out.glob(f"{TMP_PREFIX}*"))


@pytest.mark.slow
def test_export_killed_after_writing_leaves_no_version_and_next_export_cleans_up(
    mnist_run, tmp_path
):
    out = tmp_path / "models" / "mnist"
    export(mnist_run, out)
    before = tree_digest(out / "1")
    proc = start_export(mnist_run, out, **{PAUSE_ENV: "120"})
    try:
        # The SavedModel is complete in the temp dir; the export now waits before verifying.
        wait_for(
            lambda: (
                any((t / "saved_model.pb").is_file() for t in temp_dirs(out))
                or proc.poll() is not None
            )
        )
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert version_numbers(out) == [1]
    assert tree_digest(out / "1") == before
    leftover = temp_dirs(out)
    assert (
        len(leftover) == 1 and (leftover[0] / "saved_model.pb").is_file()
    )  # visible, but not a version
    second = export(mnist_run, out)
    assert second.version == 2
    assert temp_dirs(out) == []  # the killed export's directory was removed
    assert tree_digest(out / "1") == before


@pytest.mark.slow
def test_export_killed_while_writing_leaves_no_version(mnist_run, tmp_path):
    out = tmp_path / "models" / "mnist"
    export(mnist_run, out)
    before = tree_digest(out / "1")
    proc = start_export(mnist_run, out)
    try:
        wait_for(
            lambda: temp_dirs(out) or proc.poll() is not None
        )  # kill as soon as it starts writing
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert version_numbers(out) == [1]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(TMP_PREFIX)) == ["1"]
    assert tree_digest(out / "1") == before


def test_concurrent_publishers_take_distinct_numbers(tmp_path):
    out = tmp_path / "models" / "m"
    (out / "1").mkdir(parents=True)
    (out / "1" / "marker").write_text("existing")
    temps = []
    for i in range(12):
        temp = make_temp_dir(out)
        (temp / "marker").write_text(f"export {i}")
        temps.append(temp)
    barrier = threading.Barrier(len(temps))
    results: dict[int, int] = {}

    def run(i: int) -> None:
        barrier.wait()
        results[i] = publish(temps[i], out)[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(temps))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == list(range(2, 14))
    assert version_numbers(out) == list(range(1, 14))
    assert (out / "1" / "marker").read_text() == "existing"
    for i, version in results.items():
        assert (out / str(version) / "marker").read_text() == f"export {i}"
    assert temp_dirs(out) == []


def test_publish_skips_a_number_taken_since_it_looked(tmp_path):
    out = tmp_path / "m"
    temp = make_temp_dir(out)
    (temp / "marker").write_text("mine")
    (out / "1").mkdir()  # another export published 1 ...
    (out / "1" / "marker").write_text("theirs")
    assert next_version(out) == 2
    (out / "2").mkdir()  # ... and 2 appears (non-empty) just before the rename
    (out / "2" / "marker").write_text("theirs too")
    version, path = publish(temp, out)
    assert (version, path.name) == (3, "3")
    assert (out / "2" / "marker").read_text() == "theirs too"


def test_stale_temp_dirs_are_removed_only_when_their_process_is_gone(tmp_path):
    out = tmp_path / "m"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f"{TMP_PREFIX}{host_name()}-{dead.pid}-abcd1234"
    live = out / f"{TMP_PREFIX}{host_name()}-{os.getpid()}-abcd1234"
    other_host = out / f"{TMP_PREFIX}elsewhere-{dead.pid}-abcd1234"
    for path in (stale, live, other_host):
        path.mkdir()
        (path / "saved_model.pb").write_bytes(b"partial")
    assert clean_stale_temp_dirs(out) == [stale]
    assert not stale.exists() and live.exists() and other_host.exists()
    assert version_numbers(out) == []


def test_out_that_is_a_file_is_refused(tmp_path):
    from kerasbuild.errors import KerasbuildError

    (tmp_path / "m").write_text("not a directory")
    with pytest.raises(KerasbuildError, match="exists and is not a directory"):
        make_temp_dir(tmp_path / "m")
