"""Writing run-directory files atomically (temp file in the same folder, then ``os.replace``),
so a reader or a killed process never sees half a file."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    """Parse a run-directory JSON file; a damaged one is a :class:`KerasbuildError`, not a traceback."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KerasbuildError(f"{path}: not valid JSON ({exc}); the file is damaged or was not "
                              "written by kerasbuild") from None


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


def save_keras_atomic(model: Any, path: Path) -> None:
    """``model.save(path)`` through a temporary ``.keras`` file in the same folder."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def inference_copy(model: Any) -> Any:
    """An uncompiled copy of ``model`` with the same weights: the saved ``.keras`` file then
    holds only the architecture and weights (no optimiser), so it loads with just the custom
    layers registered."""
    copy = type(model).from_config(model.get_config())  # clone_model would copy the compile config
    copy.set_weights(model.get_weights())
    return copy


def save_inference_model(model: Any, path: Path) -> None:
    save_keras_atomic(inference_copy(model), path)
