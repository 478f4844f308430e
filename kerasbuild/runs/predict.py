"""Predictions from a trained model on raw inputs (``kerasbuild predict``).

A *predictor* turns raw inputs (``(N, H, W, C)`` in the data source's units, e.g. 0..255
pixels) into outputs in the target's units: the run's recorded preprocessing is applied
first and regression outputs are mapped back (``y * scale + center``). Loaders are tried in
order; :func:`register_loader` adds one (the export package adds exported version folders).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
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
    if len(info.get("outputs") or []) > 1:
        raise KerasbuildError(
            f"{path}: kerasbuild predict writes one output, but the run's model has "
            f"{len(info['outputs'])} ({', '.join(info['outputs'])}); run 'kerasbuild evaluate' "
            "for their metrics, or export the run and call kerasbuild.export.predict_exported, "
            "which returns one array per output"
        )
    model = load_run_model(path)
    preprocessing = info.get("preprocessing") or {}

    def predict(x: np.ndarray) -> np.ndarray:
        out = np.asarray(
            model.predict(preprocess_inputs(x, preprocessing), verbose=0, batch_size=256)
        )
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
    raise KerasbuildError(
        f"{path} is neither a run directory (no run.json) nor any other kind of "
        "model kerasbuild can load"
    )


def predict_file(
    model_path: Path | str, inputs: Sequence[Path | str], output: Path | str, *, x_key: str = "x"
) -> dict[str, Any]:
    """Predict on ``inputs`` (image files, folders of images, ``.npz`` files; see
    :mod:`kerasbuild.runs.predict_inputs`) and write ``output``. Returns a short summary.

    ``.npz`` output: ``y`` (class probabilities ``(N, classes)`` or regression targets
    ``(N, K)`` in the target's units), ``files`` ``(N,)`` and, for classification, ``labels``
    ``(N,)`` and ``class_names``. ``.csv`` output: one row per example, ``file,class,<one
    probability column per class>`` or ``file,<one column per target>``."""
    from .predict_inputs import input_batches

    predictor = load_predictor(model_path)
    names: list[str] = []
    outputs = []
    for batch_names, x in input_batches([Path(i) for i in inputs], predictor.metadata, x_key=x_key):
        names += batch_names
        outputs.append(predictor(x))
    y = np.concatenate(outputs)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        _write_csv(output, names, y, predictor.metadata)
    else:
        _write_npz(output, names, y, predictor.metadata)
    return {"n": len(y), "output": str(output), "shape": list(y.shape)}


def _class_names(metadata: dict[str, Any], count: int) -> list[str]:
    names = metadata.get("class_names") or []
    return [str(n) for n in names] if len(names) == count else [str(i) for i in range(count)]


def _write_npz(path: Path, names: list[str], y: np.ndarray, metadata: dict[str, Any]) -> None:
    result: dict[str, Any] = {"y": y, "files": np.asarray(names)}
    if metadata.get("task") == "classification":
        result["labels"] = np.argmax(y, axis=-1)
        if metadata.get("class_names"):
            result["class_names"] = np.asarray(metadata["class_names"])
    np.savez(path, **result)


def _write_csv(path: Path, names: list[str], y: np.ndarray, metadata: dict[str, Any]) -> None:
    if metadata.get("task") == "classification":
        classes = _class_names(metadata, y.shape[-1])
        header = ["file", "class", *(f"p_{c}" for c in classes)]
        rows = (
            [name, classes[int(np.argmax(p))], *(f"{v:.6g}" for v in p)]
            for name, p in zip(names, y)
        )
    else:
        targets = metadata.get("target_names") or []
        columns = (
            targets if len(targets) == y.shape[-1] else [f"target_{i}" for i in range(y.shape[-1])]
        )
        header = ["file", *columns]
        rows = ([name, *(f"{v:.6g}" for v in t)] for name, t in zip(names, y.reshape(len(y), -1)))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
