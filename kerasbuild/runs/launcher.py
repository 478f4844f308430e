"""``kerasbuild train SPEC --workers N [--port P]``: N local worker processes of one
multi-worker run (``train.distribute: multi_worker``), each with its ``TF_CONFIG``.

Worker 0 (the chief) prints to this process's terminal; the others write to log files in a
temporary directory (they write nothing in the run directory). When a worker exits with an
error the others get :data:`GRACE_S` seconds to notice on their own (their message names the
lost worker), then are stopped; the launcher exits with the first failure's code.
Standard library only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import KerasbuildError
from ..fit.cluster import ENV, tf_config

GRACE_S = 30.0
"""How long the surviving workers may take to fail on their own after one has died."""


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports free on ``host`` now."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def launch(
    train_args: list[str], workers: int, port: int | None = None, *, poll: float = 0.5
) -> int:
    """Run ``kerasbuild train TRAIN_ARGS`` as ``workers`` processes on 127.0.0.1 (ports
    ``port``, ``port + 1``... or free ones); return 0 when every worker succeeded, else the
    exit code of the first one that failed (after stopping the others)."""
    if workers < 1:
        raise KerasbuildError(f"--workers must be at least 1, got {workers}", exit_code=2)
    ports = list(range(port, port + workers)) if port else free_ports(workers)
    addresses = [f"127.0.0.1:{p}" for p in ports]
    log_dir = Path(tempfile.mkdtemp(prefix="kerasbuild-workers-"))
    command = [sys.executable, "-m", "kerasbuild.cli", "train", *train_args]
    procs: list[subprocess.Popen] = []
    for index in range(workers):
        env = {**os.environ, ENV: tf_config(addresses, index)}
        if index == 0:
            procs.append(subprocess.Popen(command, env=env))
        else:
            with open(log_dir / f"worker{index}.log", "wb") as log:
                procs.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
    print(
        f"launcher: {workers} workers on {', '.join(addresses)}; worker 0 (the chief) prints here, "
        f"the others log to {log_dir}",
        file=sys.stderr,
        flush=True,
    )
    try:
        return _watch(procs, log_dir, poll)
    finally:
        for proc in procs:
            _stop(proc)


def _watch(procs: list[subprocess.Popen], log_dir: Path, poll: float) -> int:
    """Wait for every worker; on the first failure give the others :data:`GRACE_S` s."""
    while True:
        codes = [proc.poll() for proc in procs]
        failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            first = failed[0]
            log = (
                "its output is above"
                if first == 0
                else f"its log: {log_dir / f'worker{first}.log'}"
            )
            print(
                f"launcher: worker {first} exited with {codes[first]} ({log}); stopping the others "
                f"within {GRACE_S:g} s",
                file=sys.stderr,
                flush=True,
            )
            deadline = time.monotonic() + GRACE_S
            while time.monotonic() < deadline and any(proc.poll() is None for proc in procs):
                time.sleep(poll)
            return codes[first]
        if all(code == 0 for code in codes):
            return 0
        time.sleep(poll)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
