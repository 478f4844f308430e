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
    model = load_run_model(path)
    preprocessing = info.get("preprocessing") or {}

    def predict(x: np.ndarray) -> np.ndarray | dict[str, np.ndarray]:
        out = model.predict(preprocess_inputs(x, preprocessing), verbose=0, batch_size=256)
        if isinstance(out, (list, tuple, dict)):  # several outputs: one array each, by name
            values = out.values() if isinstance(out, dict) else out
            return {name: np.asarray(v) for name, v in zip(info["outputs"], values, strict=True)}
        out = np.asarray(out)
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
    probability column per class>`` or ``file,<one column per target>``. A model with several
    outputs writes each output's keys prefixed ``NAME/`` (npz) or its columns ``NAME``,
    ``NAME_p_<class>``... / ``NAME_<target>`` (csv)."""
    from .predict_inputs import input_batches

    predictor = load_predictor(model_path)
    names: list[str] = []
    batches = []
    for batch_names, x in input_batches([Path(i) for i in inputs], predictor.metadata, x_key=x_key):
        names += batch_names
        batches.append(predictor(x))
    heads = _heads(batches, predictor.metadata)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        _write_csv(output, names, heads)
    else:
        _write_npz(output, names, heads)
    shapes = {name: list(head.y.shape) for name, head in heads.items()}
    return {"n": len(names), "output": str(output), "shape": shapes.get("", shapes)}


@dataclass
class _Head:
    """One output's predictions: ``y`` ``(N, ...)``, its task and class names."""

    y: np.ndarray
    task: str | None
    class_names: list[str] | None
    target_names: list[str] | None = None


def _heads(batches: list, metadata: dict[str, Any]) -> dict[str, _Head]:
    """Concatenated predictions per output: ``{"": head}`` for a one-output model, else keyed
    by output layer name with each output's task and class names from run.json ``targets``."""
    if not batches or not isinstance(batches[0], dict):
        y = np.concatenate(batches) if batches else np.zeros((0,))
        return {
            "": _Head(
                y, metadata.get("task"), metadata.get("class_names"), metadata.get("target_names")
            )
        }
    targets = metadata.get("targets") or {}
    return {
        name: _Head(
            np.concatenate([b[name] for b in batches]),
            (targets.get(name) or {}).get("task"),
            (targets.get(name) or {}).get("class_names"),
        )
        for name in batches[0]
    }


def _class_names(names: list[str] | None, count: int) -> list[str]:
    names = names or []
    return [str(n) for n in names] if len(names) == count else [str(i) for i in range(count)]


def _write_npz(path: Path, names: list[str], heads: dict[str, _Head]) -> None:
    """One-output model: ``y``, ``labels``, ``class_names``; several: the same keys prefixed
    by the output's name (``digit/y``, ``digit/labels``, ``ink/y``)."""
    result: dict[str, Any] = {"files": np.asarray(names)}
    for name, head in heads.items():
        prefix = f"{name}/" if name else ""
        result[prefix + "y"] = head.y
        if head.task == "classification":
            result[prefix + "labels"] = np.argmax(head.y, axis=-1)
            if head.class_names:
                result[prefix + "class_names"] = np.asarray(head.class_names)
    np.savez(path, **result)


def _columns(name: str, head: _Head) -> tuple[list[str], Callable[[int], list[str]]]:
    """CSV header cells and a row function of one output (prefixed by ``name_`` when the model
    has several): ``class, p_<class>...`` or one column per target."""
    prefix = f"{name}_" if name else ""
    if head.task == "classification":
        classes = _class_names(head.class_names, head.y.shape[-1])
        header = [f"{name}" if name else "class", *(f"{prefix}p_{c}" for c in classes)]
        return header, lambda i: [
            classes[int(np.argmax(head.y[i]))],
            *(f"{v:.6g}" for v in head.y[i]),
        ]
    flat = head.y.reshape(len(head.y), -1)
    targets = head.target_names or []
    columns = (
        targets
        if len(targets) == flat.shape[-1]
        else [f"target_{i}" for i in range(flat.shape[-1])]
    )
    return [prefix + c for c in columns], lambda i: [f"{v:.6g}" for v in flat[i]]


def _write_csv(path: Path, names: list[str], heads: dict[str, _Head]) -> None:
    parts = [_columns(name, head) for name, head in heads.items()]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", *(cell for header, _ in parts for cell in header)])
        writer.writerows(
            [file, *(cell for _, row in parts for cell in row(i))] for i, file in enumerate(names)
        )
