"""Check a spec's ``data:`` section against the file system before anything trains.

Problems come back as :class:`~kerasbuild.errors.SpecError` located in the spec file
(``spec.yaml:12:11: data.source: ... does not exist``). No TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpecError
from .config import DataConfig, augmentations_for
from .sources import resolve_path


def spec_dir(loaded: Any) -> Path | None:
    """The directory relative data paths are taken from: the spec file's, or None (the
    current directory) for a spec built in memory."""
    path = getattr(loaded, "path", None)
    if not path or str(path).startswith("<"):
        return None
    return Path(path).resolve().parent


def check_data(loaded: Any, data: DataConfig | None = None) -> None:
    """Validate ``data`` (default ``loaded.spec.data``) against ``loaded.spec.train`` and the
    file system: the source path and ``data_dir`` exist, and the augmentations fit the task
    (:func:`~kerasbuild.data.config.augmentations_for`). Raises a located SpecError."""
    data = data if data is not None else loaded.spec.data
    if data is None:
        raise loaded.source.error("the spec has no data: section; add one, e.g. "
                                  "'data: {source: builtin:mnist_5k}'", ())
    base = spec_dir(loaded)
    problems = []
    try:
        augmentations_for(data, loaded.spec.train)
    except SpecError as exc:
        problems += [loaded.source.problem(p.message, p.path) for p in exc.problems]
    checks = [("source", data.source)] if data.is_path else []
    if data.data_dir:
        checks.append(("data_dir", data.data_dir))
    for field, value in checks:
        path = resolve_path(value, base)
        if not path.exists():
            where = f" (relative to {base})" if base is not None and not Path(value).is_absolute() else ""
            problems.append(loaded.source.problem(f"{path} does not exist{where}", ("data", field)))
    if problems:
        raise SpecError(problems)
