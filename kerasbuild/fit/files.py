"""Writing run-directory files atomically (temp file in the same folder, fsync, then
``os.replace``), so a reader or a killed process never sees half a file.

Models and weights are serialised in memory first and written by :func:`atomic_write_bytes`:
h5py never holds a file open on a disk that fills up (on ENOSPC it keeps the broken file open
and crashes the interpreter at exit). A failed write raises
:class:`~kerasbuild.fit.write_errors.WriteError` after removing its temporary file."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from .write_errors import from_os_error


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file; raises WriteError when it fails."""
    path = Path(path)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        write_durably(fd, data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise from_os_error(exc, path) from None
    except BaseException:
        _remove(tmp)
        raise


def write_durably(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the open file ``fd``, fsync it and close it (the one place the
    run-directory writers put bytes on disk)."""
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _remove(tmp: str | None) -> None:
    if tmp is not None:
        Path(tmp).unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_json(path: Path) -> Any:
    """Parse a run-directory JSON file; a damaged one is a :class:`KerasbuildError`, not a
    traceback."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KerasbuildError(
            f"{path}: not valid JSON ({exc}); the file is damaged or was not written by kerasbuild"
        ) from None


def write_history(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    """``history.json`` (a list of per-epoch dicts) and ``history.csv`` (same columns)."""
    atomic_write_json(run_dir / "history.json", rows)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(run_dir / "history.csv", buffer.getvalue())


class _NamedBuffer(io.BytesIO):
    """An in-memory file whose ``str()`` is a file name: Keras' ``save`` / ``save_weights``
    check the extension of ``str(filepath)`` and write file objects without touching disk."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def __str__(self) -> str:
        return self._name


def serialized(save: Any, name: str) -> bytes:
    """The bytes ``save(file)`` writes, for a file called ``name`` (``model.save`` with
    ``.keras``, ``model.save_weights`` with ``.weights.h5``)."""
    buffer = _NamedBuffer(name)
    save(buffer)
    return buffer.getvalue()


def save_keras_atomic(model: Any, path: Path) -> None:
    """``model.save(path)``, serialised in memory and written atomically."""
    path = Path(path)
    atomic_write_bytes(path, serialized(model.save, path.name))


def inference_copy(model: Any) -> Any:
    """An uncompiled copy of ``model`` with the same weights: the saved ``.keras`` file then
    holds only the architecture and weights (no optimiser), so it loads with just the custom
    layers registered."""
    copy = type(model).from_config(model.get_config())  # clone_model would copy the compile config
    copy.set_weights(model.get_weights())
    return copy


def save_inference_model(model: Any, path: Path) -> None:
    save_keras_atomic(inference_copy(model), path)
