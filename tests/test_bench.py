"""The benchmark scripts run end to end in quick mode (their numbers are not asserted: speed
is measured by `make bench`, never by timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = ["bench_validate", "bench_build", "bench_train", "bench_export", "bench_gpu"]


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_script_runs_in_quick_mode(script: str) -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, f"{script}.py", "--quick"],
        cwd=BENCH,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines and lines[0].startswith("#"), proc.stdout
    if script == "bench_gpu":
        assert "skipped: no GPU" in proc.stdout or "img/s" in proc.stdout
    elif script == "bench_validate":
        assert "TensorFlow not imported" in proc.stdout
    else:
        assert "-> ratio" in proc.stdout, proc.stdout
