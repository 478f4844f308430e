"""Evaluate a run's ``model_best.keras`` (``kerasbuild evaluate``).

Without ``data``: on the run's own test split (same seeds, so it reproduces metrics.json).
With ``data`` (a source string such as ``builtin:digits`` or ``new.npz``): on every example of
that source, preprocessed exactly as the run's training data was (run.json ``preprocessing``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError, SpecError


def evaluation_arrays(run_dir: Path, data: str | None = None) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(x, y, loaded spec)`` to evaluate on (preprocessed inputs, targets in training units)."""
    from ..data.sources import load_source
    from ..data.splits import load_for_spec, preprocess_inputs
    from ..schema.data import DataConfig
    from ..spec.loader import load_spec
    from .rundir import SPEC, read_run

    info = read_run(run_dir)
    loaded = load_spec(Path(run_dir) / SPEC)
    if data is None:
        splits = load_for_spec(loaded)
        if len(splits.x_test) == 0:
            raise KerasbuildError("the run has no test split (data.test_size: 0); pass --data SOURCE")
        return splits.x_test, splits.y_test, loaded
    base = loaded.spec.data.model_dump() if loaded.spec.data else {}
    try:
        config = DataConfig.model_validate({**base, "source": data})
    except ValueError as exc:
        raise KerasbuildError(f"--data {data}: {exc}") from None
    raw = load_source(config, Path.cwd())
    preprocessing = info.get("preprocessing") or {}
    x = preprocess_inputs(raw.x, preprocessing)
    y = raw.y
    if info.get("task") == "regression":
        y = np.asarray(y, np.float32).reshape(len(y), -1)
        if "target_scale" in preprocessing:
            y = (y - preprocessing["target_center"]) / preprocessing["target_scale"]
    return x, y, loaded


def evaluate_run(run_dir: Path | str, data: str | None = None, which: str = "best") -> dict[str, Any]:
    """``{"n": examples, "loss": ..., "accuracy" | "rmse": ...}`` of ``model_<which>.keras``."""
    from ..data.pipeline import make_dataset
    from .objective import compile_model
    from .rundir import load_run_model

    run_dir = Path(run_dir)
    x, y, loaded = evaluation_arrays(run_dir, data)
    model = load_run_model(run_dir, which)
    config = loaded.spec.train
    compile_model(model, config)
    if tuple(model.inputs[0].shape[1:]) != tuple(x.shape[1:]):
        raise SpecError.single(f"the data's inputs have shape {list(x.shape[1:])} but the model expects "
                               f"{list(model.inputs[0].shape[1:])}", ("data", "source"))
    ds = make_dataset(x, y, batch_size=config.effective_batch_size, training=False)
    scores = model.evaluate(ds, verbose=0, return_dict=True)
    return {"n": len(x), **{k: float(v) for k, v in scores.items()}}
