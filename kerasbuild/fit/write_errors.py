"""Failed writes (a full disk, a quota, an I/O error) as one clear line instead of a traceback.

:class:`WriteError` names the file and the error ("no space left on device writing
R/backup/epoch_0002.weights.h5"); the command that catches it appends what is safe and what to
do (:meth:`WriteError.with_advice`). :func:`as_write_error` recognises the same failure when it
comes from a library (an ``OSError`` with an errno, or TensorFlow's "No space left on device").
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ..errors import KerasbuildError

EXIT_WRITE_FAILED = 2
_DISK_FULL_TEXT = "no space left on device"


class WriteError(KerasbuildError):
    """Writing ``path`` failed with ``reason`` (the lower-case OS message)."""

    def __init__(self, path: Path | str, reason: str, advice: str = "") -> None:
        self.path = Path(path)
        self.reason = reason
        self.advice = advice
        super().__init__(
            f"{reason} writing {path}" + (f"; {advice}" if advice else ""),
            exit_code=EXIT_WRITE_FAILED,
        )

    def with_advice(self, advice: str) -> WriteError:
        """The same failure with ``advice`` (what is saved, what to run next) appended."""
        return WriteError(self.path, self.reason, advice)


def from_os_error(exc: OSError, path: Path | str) -> WriteError:
    """``exc`` raised while writing ``path`` (``exc.filename`` wins when set)."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return WriteError(exc.filename or path, reason[:1].lower() + reason[1:])


def as_write_error(exc: BaseException, path: Path | str) -> WriteError | None:
    """``exc`` as a :class:`WriteError` when it is a failed write somewhere under ``path``,
    else ``None``."""
    if isinstance(exc, WriteError):
        return exc
    if isinstance(exc, OSError) and exc.errno in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EROFS,
        errno.EFBIG,
    ):
        return from_os_error(exc, path)
    text = str(exc).lower()
    if _DISK_FULL_TEXT in text or "errno = 28" in text:
        return WriteError(path, _DISK_FULL_TEXT)
    return None
