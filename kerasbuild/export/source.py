"""What an export starts from: a run directory or a ``.keras`` file, read into one record.

A run directory (written by ``kerasbuild train``) holds ``model_best.keras``, the resolved
``spec.yaml`` and ``run.json`` (task, class names, preprocessing). A bare ``.keras`` file is
accepted too; a ``spec.yaml``/``run.json`` beside it is used when present, otherwise the task
is read from the model (a softmax or sigmoid output is a classifier) and there is no
preprocessing to bake in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from ..safe_load import load_keras_model
from .preprocess import Preprocessing, parse_preprocessing

MODEL_FILE = "model_best.keras"


@dataclass
class ExportSource:
    """A loaded Keras model plus what serving needs to know about it.

    ``task``: ``"classification"``, ``"segmentation"`` (per-pixel classes) or
    ``"regression"``. ``input_names``: the model's input names in order (the spec's input
    layer names, e.g. ``["image"]``). ``output_names``: the model's output layer names (as
    the run recorded them for a model with several outputs).
    ``class_names``: one per class (indices as strings when the run did not record names).
    ``spec_text``: the resolved spec YAML, or ``None``. ``targets``: for a model with several
    outputs, each output's ``{"task", "class_names"}`` as the run recorded them.
    """

    model: Any
    origin: Path
    task: str
    input_names: list[str]
    output_names: list[str]
    class_names: list[str] = field(default_factory=list)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    spec_text: str | None = None
    targets: dict[str, Any] = field(default_factory=dict)


def read_source(path: str | Path) -> ExportSource:
    """Read a run directory or a ``.keras`` file into an :class:`ExportSource`."""
    path = Path(path)
    if path.is_dir():
        model_path = path / MODEL_FILE
        if not model_path.is_file():
            raise KerasbuildError(
                f"{path}: not a run directory (no {MODEL_FILE}); pass a run "
                "directory written by 'kerasbuild train' or a .keras file"
            )
        run_dir = path
    elif path.exists() or path.suffix in (".keras", ".h5", ".hdf5"):
        model_path, run_dir = path, path.parent
    else:
        raise KerasbuildError(f"{path}: no such run directory or .keras file")
    model = load_keras_model(model_path, compile=False)
    run_info = _read_run_json(run_dir / "run.json")
    spec_file = run_dir / "spec.yaml"
    spec_text = spec_file.read_text() if spec_file.is_file() else None
    output_names = list(model.output_names)
    recorded = run_info.get("outputs")
    if isinstance(recorded, list) and len(recorded) == len(output_names) > 1:
        output_names = [str(name) for name in recorded]  # the spec's names, as trained
    task = run_info.get("task") or _task_from_spec(spec_text) or _task_from_model(model)
    if task not in ("classification", "segmentation", "regression"):
        raise KerasbuildError(
            f"{run_dir / 'run.json'}: task must be 'classification', 'segmentation' "
            f"or 'regression', got {task!r}"
        )
    class_names = [str(c) for c in run_info.get("class_names") or []]
    if task != "regression" and not class_names:
        class_names = [str(i) for i in range(_class_count(model))]
    return ExportSource(
        model=model,
        origin=path,
        task=task,
        input_names=[t.name for t in model.inputs],
        output_names=output_names,
        class_names=class_names,
        preprocessing=parse_preprocessing(run_info.get("preprocessing"), run_dir / "run.json"),
        spec_text=spec_text,
        targets=dict(run_info.get("targets") or {}),
    )


def _read_run_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise KerasbuildError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise KerasbuildError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _task_from_spec(spec_text: str | None) -> str | None:
    if not spec_text:
        return None
    from ..errors import SpecError
    from ..spec.source import parse_text

    try:  # the spec reader: a tampered spec.yaml is an error, never a constructed object
        data = parse_text(spec_text, "spec.yaml").data
    except SpecError as exc:
        raise KerasbuildError(f"the run's {exc.problems[0]}") from None
    train = data.get("train") if isinstance(data, dict) else None
    return "regression" if isinstance(train, dict) and train.get("regression") else None


def _task_from_model(model: Any) -> str:
    last = model.get_layer(model.output_names[-1])
    activation = last.get_config().get("activation")
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", "")
    if not name and last.__class__.__name__ == "Softmax":
        name = "softmax"
    return "classification" if name in ("softmax", "sigmoid") else "regression"


def _class_count(model: Any) -> int:
    return int(model.outputs[0].shape[-1])
