"""Will the run directory's file system hold the run? Checked once the model and its optimiser
are built, when the checkpoint sizes are known.

Each epoch rewrites ``backup/epoch_NNNN.weights.h5`` (model and optimiser variables) and, when
the monitored value improves, ``model_best.keras`` (model variables); each new file is written
beside the previous one before that is removed, and ``model_final.keras`` joins them at the end.
The run therefore needs about ``2 * backup + 3 * model`` bytes on top of what it has written.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

MB = 1024 * 1024


def variables_bytes(variables: list[Any]) -> int:
    """Bytes the values of ``variables`` (Keras variables) take: elements x dtype size."""
    return sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in variables)


def checkpoint_sizes(model: Any) -> tuple[int, int]:
    """``(backup, model)`` bytes for a compiled ``model`` whose optimiser is built."""
    weights = variables_bytes(model.variables)
    return weights + variables_bytes(model.optimizer.variables), weights


def space_warning(free: int, backup: int, model: int, where: Path) -> str | None:
    """A warning line when ``free`` bytes will not hold the checkpoints, else ``None``."""
    needed = 2 * backup + 3 * model
    if free >= needed:
        return None
    return (
        f"warning: {free / MB:.1f} MB free on the file system of {where}, but the checkpoints need "
        "about "
        f"{needed / MB:.1f} MB (backup {backup / MB:.1f} MB and model {model / MB:.1f} MB, each "
        "written beside "
        "the previous copy); the run will likely stop with 'no space left on device' in its first "
        "epochs"
    )


def check_free_space(run_dir: Path, model: Any) -> str | None:
    """:func:`space_warning` for ``run_dir`` (the model compiled, its optimiser built)."""
    backup, weights = checkpoint_sizes(model)
    return space_warning(shutil.disk_usage(run_dir).free, backup, weights, run_dir)
