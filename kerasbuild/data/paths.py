"""Check a spec's ``data:`` section against the file system before anything loads
(:func:`check_data`) and the loaded data against the model (:func:`check_shapes`).

Problems come back as :class:`~kerasbuild.errors.SpecError` located in the spec file
(``spec.yaml:12:11: data.source: ... does not exist``). No TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..schema.data import DataConfig, augmentations_for
from ..spec.outputs import data_problems, train_problems
from .sources import glob_matches, resolve_path

if TYPE_CHECKING:
    from .splits import Splits


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
    (:func:`~kerasbuild.schema.data.augmentations_for`). Raises a located SpecError."""
    data = data if data is not None else loaded.spec.data
    if data is None:
        raise loaded.source.error(
            "the spec has no data: section; add one, e.g. 'data: {source: builtin:mnist_5k}'", ()
        )
    base = spec_dir(loaded)
    problems = []
    try:
        augmentations_for(data, loaded.spec.train)
    except SpecError as exc:
        problems += [loaded.source.problem(p.message, p.path) for p in exc.problems]
    outputs = loaded.graph.outputs
    problems += train_problems(loaded.spec.train, outputs, loaded.source)
    problems += data_problems(data, outputs, loaded.source)
    checks = [("source", data.source)] if data.is_path else []
    if data.masks:
        checks.append(("masks", data.masks))
    if data.data_dir:
        checks.append(("data_dir", data.data_dir))
    for field, value in checks:
        path = resolve_path(value, base)
        if not (
            path.exists() or (data.kind == "tfrecord" and field == "source" and glob_matches(path))
        ):
            where = (
                f" (relative to {base})"
                if base is not None and not Path(value).is_absolute()
                else ""
            )
            problems.append(loaded.source.problem(f"{path} does not exist{where}", ("data", field)))
    if problems:
        raise SpecError(problems)


def check_shapes(loaded: Any, splits: Splits) -> None:
    """The loaded data fits the model: one input whose shape matches the examples (``None``
    matches any size), and an output with one unit per class (classification; 1 unit also
    fits 2 classes) or per target column (regression). Raises a located SpecError."""
    graph = loaded.graph
    problems = []
    inputs = graph.inputs
    if len(inputs) != 1:
        problems.append(
            loaded.source.problem(
                f"a data: section feeds one input, but the model has {len(inputs)}", ("layers",)
            )
        )
    elif inputs[0].known:
        node = inputs[0]
        want, got = tuple(node.shape), tuple(splits.input_shape)
        if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
            hint = (
                f"; set data.resize: [{want[0]}, {want[1]}] or change the input shape"
                if len(want) == 3 and len(got) == 3 and want[2] == got[2]
                else ""
            )
            problems.append(
                loaded.source.problem(
                    f"the data's examples are {_dims(got)} but input layer '{node.name}' expects "
                    f"{_dims(want)}{hint}",
                    ("layers", node.index, "shape"),
                )
            )
    for name in graph.outputs:
        node = graph.by_name[name]
        units = node.shape[-1] if node.shape and node.known else None
        task, classes, targets = output_target(splits, name)
        if task == "segmentation":
            problems.extend(_mask_problems(loaded, splits, name, node))
            problems.extend(_class_id_problems(loaded, splits, name, node))
        elif task != "regression":
            if units is not None and units != classes and not (units == 1 and classes == 2):
                problems.append(
                    loaded.source.problem(
                        f"the data has {classes} classes but output layer '{name}' has {units} "
                        "units",
                        ("layers", node.index),
                    )
                )
        else:
            columns = targets.shape[1]
            if units is not None and units != columns:
                problems.append(
                    loaded.source.problem(
                        f"the data has {columns} target columns but output layer '{name}' has "
                        f"{units} units",
                        ("layers", node.index),
                    )
                )
    if problems:
        raise SpecError(problems)


def resolve_auto_sizes(loaded: Any, splits: Splits) -> Any:
    """``loaded`` with its ``auto`` sizes taken from ``splits``: the input shape from one
    example, an output's units from the number of classes (classification) or target columns
    (regression); checked against the data again. ``loaded`` itself when it has none."""
    if not loaded.autos:
        return loaded
    from ..spec.auto import resolve

    if getattr(splits, "outputs", None) is not None:
        sized = [a for a in loaded.autos if a.kind == "output_units"]
        if sized:
            raise loaded.source.error(
                "num_units: auto needs a model with one output; with several outputs give "
                "each output layer its number of units",
                ("layers", sized[0].index),
            )
        units = 0  # no output is auto: only the input shape is filled in
    else:
        units = splits.y_train.shape[1] if splits.task == "regression" else splits.num_classes
    resolved = resolve(loaded, tuple(splits.input_shape), units)
    check_shapes(resolved, splits)
    return resolved


def output_target(splits: Any, name: str) -> tuple[str, int | None, Any]:
    """``(task, number of classes or None, training targets)`` of output ``name``: the
    splits' own for a single output, the output's for several."""
    outputs = getattr(splits, "outputs", None)
    if outputs is None:
        return splits.task, splits.num_classes, splits.y_train
    return outputs[name].task, splits.output_classes(name), splits.y_train[name]


def _mask_problems(loaded: Any, splits: Splits, name: str, node: Any) -> list[Any]:
    """A problem when output ``name`` is not ``(H, W, classes)`` for the data's ``(H, W)`` masks."""
    masks = tuple(splits.mask_size)
    if node.known and node.shape and tuple(node.shape[:-1]) != masks:
        return [
            loaded.source.problem(
                f"the data's masks are {_dims(masks)} but output layer '{name}' is "
                f"{_dims(tuple(node.shape))}; a segmentation output is (height, width, classes) "
                "with the masks' height and width",
                ("layers", node.index),
            )
        ]
    return []


def _class_id_problems(loaded: Any, splits: Any, name: str, node: Any) -> list[Any]:
    """A problem when a mask holds a class id the output ``name`` has no channel for (an
    output with more channels than the masks' largest id + 1 is fine: a class may be
    absent)."""
    units = node.shape[-1] if node.shape and node.known else None
    classes = splits.num_classes
    if units is None or classes <= units:
        return []
    where = splits.largest_class_at() if hasattr(splits, "largest_class_at") else "the masks"
    return [
        loaded.source.problem(
            f"the masks hold class ids up to {classes - 1} (e.g. {where}) but output layer "
            f"'{name}' has {units} channels, one per class id 0..{units - 1}; give it "
            f"{classes} channels or fix the masks",
            ("layers", node.index),
        )
    ]


def _dims(shape: tuple) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)
