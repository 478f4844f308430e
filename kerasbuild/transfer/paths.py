"""Where ``init.weights`` points, checked before TensorFlow is imported (like the data paths).
No TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.paths import spec_dir
from ..data.sources import resolve_path

RUN_DIR_MODEL = "model_best.keras"
SUFFIXES = (".keras", ".h5", ".hdf5")


def init_path(loaded: Any) -> Path | None:
    """The weights file ``init.weights`` names (a run directory's ``model_best.keras``),
    relative paths taken from the spec file's directory; None without ``init:``."""
    init = loaded.spec.init
    if init is None:
        return None
    path = resolve_path(init.weights, spec_dir(loaded))
    return path / RUN_DIR_MODEL if path.is_dir() else path


def check_init(loaded: Any) -> None:
    """Raise a located SpecError when ``init.weights`` is missing or not a weights file."""
    path = init_path(loaded)
    if path is None:
        return
    where = ("init", "weights")
    if path.name == RUN_DIR_MODEL and not path.is_file() and path.parent.is_dir():
        raise loaded.source.error(
            f"{path.parent} is a directory without {RUN_DIR_MODEL}; give a run "
            "directory whose training saved a best model, or a weights file",
            where,
        )
    if not path.is_file():
        base = spec_dir(loaded)
        relative = (
            f" (relative to {base})"
            if base is not None and not Path(loaded.spec.init.weights).is_absolute()
            else ""
        )
        raise loaded.source.error(f"{path} does not exist{relative}", where)
    if path.suffix.lower() not in SUFFIXES:
        raise loaded.source.error(
            f"{path.name}: expected a .weights.h5 or .h5 weights file, a .keras model "
            "or a run directory",
            where,
        )


def absolute_init(document: dict[str, Any], loaded: Any) -> None:
    """Make ``init.weights`` absolute in ``document`` (the spec a run directory records)."""
    if loaded.spec.init is not None:
        document["init"]["weights"] = str(resolve_path(loaded.spec.init.weights, spec_dir(loaded)))
