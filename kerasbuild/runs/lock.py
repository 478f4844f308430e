"""One writer per directory: a run directory (``train``, ``ensemble -o``) or a search project
(``tune``) is held through an exclusive ``flock`` on ``DIR/.kerasbuild.lock``, a JSON file
naming the holder (host, PID, command, start time).

- A second writer is refused with a :class:`~kerasbuild.errors.KerasbuildError` (exit 2)
  naming the holder.
- The kernel drops a ``flock`` when its process ends in any way (SIGKILL included), so a lock
  file left behind by a dead process is free to take: it is *stale* and taken over. A lock
  file written on another host (a shared file system, where ``flock`` may not reach across
  hosts) is never taken over: the message says how to clear it.
- The file is removed when the holder releases it; its inode is checked after locking, so a
  writer that raced with that removal retries on the new file.

Standard library only: the check runs before TensorFlow is imported.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError

LOCK_NAME = ".kerasbuild.lock"
EXIT_LOCKED = 2


def host_name() -> str:
    """This machine's name with anything but letters and digits replaced by ``_``."""
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a directory lock."""

    host: str
    pid: int
    command: str
    since: str

    def describe(self) -> str:
        return f"PID {self.pid} on {self.host} ({self.command}, since {self.since})"


def lock_path(directory: Path) -> Path:
    return Path(directory) / LOCK_NAME


def read_holder(directory: Path) -> Holder | None:
    """The holder recorded in ``directory``'s lock file, or ``None`` (no file, or unreadable)."""
    try:
        data = json.loads(lock_path(directory).read_text(encoding="utf-8"))
        return Holder(str(data["host"]), int(data["pid"]), str(data["command"]), str(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_held(directory: Path) -> bool:
    """Whether a live process holds ``directory``'s lock (probes the ``flock`` without keeping
    it)."""
    try:
        fd = os.open(lock_path(directory), os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without flock: trust the recorded PID on this host
        holder = read_holder(directory)
        return holder is not None and holder.host == host_name() and pid_alive(holder.pid)
    finally:
        os.close(fd)
    return False


class DirectoryLock:
    """An acquired lock; :meth:`release` (or leaving :func:`hold`) removes the lock file."""

    def __init__(self, directory: Path, fd: int, taken_over: Holder | None) -> None:
        self.directory = directory
        self.fd = fd
        self.taken_over = taken_over
        """The dead process whose stale lock this one replaced, if any."""

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(lock_path(self.directory))
        os.close(self.fd)


def acquire(directory: Path, command: str) -> DirectoryLock:
    """Take ``directory``'s lock (the directory is created when missing). Raises
    KerasbuildError (exit 2) when a live process holds it or another host recorded it."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise KerasbuildError(f"{directory} exists and is not a directory", exit_code=2)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KerasbuildError(
            f"cannot write to run directory {directory}: {exc.strerror or exc}", exit_code=2
        ) from None
    path = lock_path(directory)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise KerasbuildError(
                f"cannot create the lock file {path}: {exc.strerror or exc}", exit_code=2
            ) from None
        if not _flock(fd, directory):
            os.close(fd)
            raise _busy(directory, read_holder(directory))
        if _same_file(fd, path):
            break
        os.close(fd)  # the previous holder removed the file between our open and our flock
    previous = read_holder(directory)
    if previous is not None and previous.host != host_name():
        os.close(fd)
        raise KerasbuildError(
            f"{directory} is locked by {previous.describe()}; from {host_name()} kerasbuild cannot "
            "tell "
            f"whether that process still runs. If it has ended, delete {path} and run again",
            exit_code=EXIT_LOCKED,
        )
    _write_holder(fd, command)
    return DirectoryLock(directory, fd, previous)


@contextlib.contextmanager
def hold(directory: Path, command: str, *, note: Any = None) -> Iterator[DirectoryLock]:
    """Hold ``directory``'s lock for the ``with`` block. ``note``: a callable given a line
    to print when a stale lock is taken over."""
    held = acquire(directory, command)
    if held.taken_over is not None and note is not None:
        note(
            f"note: took over the stale lock of {held.taken_over.describe()} in {directory}; "
            "that process has ended"
        )
    try:
        yield held
    finally:
        held.release()


def refuse_if_held(directory: Path) -> None:
    """Raise the "in use" KerasbuildError (exit 2) when a live process holds ``directory``'s
    lock; takes nothing, so commands call it before importing TensorFlow."""
    if is_held(directory):
        raise _busy(directory, read_holder(directory))


def state(directory: Path, status: str | None) -> str | None:
    """``status`` from run.json, corrected: ``running`` with no live holder is ``crashed``."""
    if status == "running" and not is_held(directory):
        return "crashed"
    return status


def state_note(run_dir: Path, info: dict[str, Any]) -> str | None:
    """A line for ``evaluate`` / ``export`` about a run that is not finished, or ``None``."""
    status = state(run_dir, info.get("status"))
    epochs = info.get("epochs_completed")
    if status == "crashed":
        return (
            f"note: the run in {run_dir} crashed after epoch {epochs} (run.json says running but "
            "no process "
            "holds it); using the models it saved; continue it with 'kerasbuild train --resume "
            "--run-dir "
            f"{run_dir}'"
        )
    if status == "running":
        holder = read_holder(run_dir)
        who = f" by {holder.describe()}" if holder else ""
        return (
            f"note: the run in {run_dir} is still training{who}; using the models of epoch "
            f"{epochs} so far"
        )
    if status in ("interrupted", "failed", "diverged"):
        return (
            f"note: the run in {run_dir} is {status} after epoch {epochs}; using the models it "
            "saved"
        )
    return None


def _flock(fd: int, directory: Path) -> bool:
    """True when the exclusive lock was taken, False when another process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        holder = read_holder(directory)  # no flock here: fall back to the recorded PID
        return holder is None or holder.host != host_name() or not pid_alive(holder.pid)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _write_holder(fd: int, command: str) -> None:
    record = {
        "host": host_name(),
        "pid": os.getpid(),
        "command": command,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": sys.argv,
    }
    data = (json.dumps(record) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _busy(directory: Path, holder: Holder | None) -> KerasbuildError:
    who = holder.describe() if holder else "another process"
    stop = (
        f"; wait for it to finish or stop it (kill {holder.pid})"
        if holder and holder.host == host_name()
        else ""
    )
    return KerasbuildError(f"{directory} is in use by {who}{stop}", exit_code=EXIT_LOCKED)
