"""Predictions from a trained model on raw inputs (``kerasbuild predict``).

A *predictor* turns raw inputs (``(N, H, W, C)`` in the data source's units, e.g. 0..255
pixels) into outputs in the target's units: the run's recorded preprocessing is applied
first and regression outputs are mapped back (``y * scale + center``). Loaders are tried in
order; :func:`register_loader` adds one (the export package adds exported version folders).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError


@dataclass
class Predictor:
    """``predict(x_raw) -> outputs`` plus the run's metadata (``task``, ``class_names``)."""

    predict_fn: Callable[[np.ndarray], np.ndarray]
    metadata: dict[str, Any]
    source: Path

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.predict_fn(x)


Loader = Callable[[Path], Predictor | None]
_LOADERS: list[Loader] = []


def register_loader(loader: Loader, *, first: bool = False) -> None:
    """Add a loader: ``loader(path)`` returns a Predictor, or None when ``path`` is not its kind."""
    if first:
        _LOADERS.insert(0, loader)
    else:
        _LOADERS.append(loader)


def run_dir_loader(path: Path) -> Predictor | None:
    """A run directory (``run.json`` + ``model_best.keras``)."""
    if not (path.is_dir() and (path / "run.json").is_file()):
        return None
    from ..data.splits import preprocess_inputs, restore_targets
    from .rundir import load_run_model, read_run

    info = read_run(path)
    model = load_run_model(path)
    preprocessing = info.get("preprocessing") or {}

    def predict(x: np.ndarray) -> np.ndarray:
        out = np.asarray(model.predict(preprocess_inputs(x, preprocessing), verbose=0, batch_size=256))
        return restore_targets(out, preprocessing) if info.get("task") == "regression" else out

    return Predictor(predict, info, path)


register_loader(run_dir_loader)


def load_predictor(path: Path | str) -> Predictor:
    path = Path(path)
    if not path.exists():
        raise KerasbuildError(f"{path} does not exist")
    for loader in _LOADERS:
        predictor = loader(path)
        if predictor is not None:
            return predictor
    raise KerasbuildError(f"{path} is neither a run directory (no run.json) nor any other kind of "
                          "model kerasbuild can load")


def predict_file(model_path: Path | str, input_npz: Path | str, output_npz: Path | str) -> dict[str, Any]:
    """Read ``x`` from ``input_npz``, predict, write ``output_npz``: ``y`` (class probabilities
    ``(N, classes)`` or regression targets ``(N, K)``) and, for classification, ``labels``
    ``(N,)`` (and ``class_names``). Returns a short summary."""
    predictor = load_predictor(model_path)
    x = _read_inputs(Path(input_npz), predictor.metadata)
    y = predictor(x)
    result: dict[str, Any] = {"y": y}
    if predictor.metadata.get("task") == "classification":
        result["labels"] = np.argmax(y, axis=-1)
        if predictor.metadata.get("class_names"):
            result["class_names"] = np.asarray(predictor.metadata["class_names"])
    output_npz = Path(output_npz)
    output_npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez(output_npz, **result)
    return {"n": len(x), "output": str(output_npz), "shape": list(y.shape)}


def _read_inputs(path: Path, metadata: dict[str, Any]) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as data:
            if "x" not in data:
                raise KerasbuildError(f"{path}: no array named 'x' (found: {', '.join(data.files) or 'none'})")
            x = np.asarray(data["x"])
    except (OSError, ValueError) as exc:
        raise KerasbuildError(f"cannot read {path} as .npz: {exc}") from None
    if x.dtype.kind not in "fiub":
        raise KerasbuildError(f"{path}: 'x' must be numeric, got dtype {x.dtype}")
    inputs = metadata.get("inputs") or []
    if inputs:
        want = tuple(inputs[0]["shape"])
        if tuple(x.shape) == want:  # one example
            x = x[None]
        elif x.ndim == len(want) and want[-1] == 1 and tuple(x.shape[1:]) == want[:-1]:  # (N, H, W)
            x = x[..., None]
        if "resize" not in (metadata.get("preprocessing") or {}) and tuple(x.shape[1:]) != want:
            raise KerasbuildError(f"{path}: 'x' has shape {list(x.shape)}; expected (N, "
                                  f"{', '.join(map(str, want))}) (NHWC)")
    return x.astype(np.float32)
