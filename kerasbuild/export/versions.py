"""Integer version directories (TensorFlow Serving's layout) published atomically.

An export is written into ``OUT/.tmp-HOST-PID-TOKEN/`` beside the versions, verified, then
renamed to ``OUT/N`` in one ``os.rename``: a watcher (TensorFlow Serving polls ``OUT``) never
sees a half-written version. Renaming onto a version another export has just published fails
(the target is not empty), so the next number is tried. A temp directory left by a killed
export is never a version (its name is not an integer) and is removed by the next export on
the same host once its process is gone.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path

from ..errors import KerasbuildError
from ..runs.lock import host_name, pid_alive

TMP_PREFIX = ".tmp-"
MAX_ATTEMPTS = 1000


def version_numbers(out: Path) -> list[int]:
    """The published versions under ``out`` in ascending order (directories named 1, 2, ...)."""
    if not out.is_dir():
        return []
    return sorted(
        int(p.name) for p in out.iterdir() if p.is_dir() and p.name.isdigit() and int(p.name) > 0
    )


def next_version(out: Path) -> int:
    """One more than the highest published version (1 when there is none)."""
    found = version_numbers(out)
    return (found[-1] + 1) if found else 1


def make_temp_dir(out: Path) -> Path:
    """Create ``out/.tmp-HOST-PID-TOKEN`` (``out`` is created when missing)."""
    if out.exists() and not out.is_dir():
        raise KerasbuildError(
            f"{out}: exists and is not a directory; --out names a model "
            "directory that holds integer versions (models/NAME)"
        )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{TMP_PREFIX}{host_name()}-{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def clean_stale_temp_dirs(out: Path) -> list[Path]:
    """Remove temp directories of exports on this host whose process has ended; return them.

    Temp directories of running exports, and of other hosts sharing the directory, are kept.
    """
    removed: list[Path] = []
    if not out.is_dir():
        return removed
    for path in out.glob(f"{TMP_PREFIX}*"):
        head, _, rest = path.name[len(TMP_PREFIX) :].rpartition("-")
        host, _, pid = head.rpartition("-")
        if host != host_name() or not pid.isdigit() or not rest:
            continue
        if not pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def publish(temp: Path, out: Path) -> tuple[int, Path]:
    """Rename the verified ``temp`` directory to the next free ``out/N``; return ``(N, path)``."""
    version = next_version(out)
    for _ in range(MAX_ATTEMPTS):
        target = out / str(version)
        try:
            if target.exists():
                raise FileExistsError(errno.EEXIST, "exists", str(target))
            os.rename(temp, target)
            return version, target
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise KerasbuildError(
                    f"cannot publish {temp} as {target}: {exc.strerror}"
                ) from None
            version = max(version + 1, next_version(out))
    raise KerasbuildError(f"{out}: no free version number after {MAX_ATTEMPTS} attempts")
