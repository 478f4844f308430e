"""Check ``train.outputs`` and the data's targets against the model's output layers (pure
Python, no TensorFlow).

A model with one output trains as before. A model with several outputs needs
``train.outputs`` with one entry per output layer (an entry may be ``{}`` to take the top-level
``regression`` and ``metrics``); each output's metrics must fit its task; its targets come from
an npz file with one array per output (``data.y_key: {digit: y, size: y_size}``), the only
source that can give several targets.
"""

from __future__ import annotations

from typing import Any

from ..errors import Problem, SpecError, did_you_mean
from ..schema.train import REGRESSION_METRICS, output_is_regression, output_metrics
from .graph import Graph
from .source import Source


def check_outputs(spec: Any, graph: Graph, source: Source) -> None:
    """Raise a located :class:`SpecError` when ``train.outputs`` names a layer that is not an
    output, leaves an output of a several-output model out, or gives an output a metric of
    the other task; and when ``data:`` cannot give one target per output. A spec with neither
    ``data:`` nor ``train.outputs`` is only built, never trained here: it is not checked (the
    data given at training time is, by :func:`kerasbuild.data.paths.check_data`)."""
    if spec.data is None and spec.train.outputs is None:
        return
    problems = train_problems(spec.train, graph.outputs, source)
    if spec.data is not None:
        problems += data_problems(spec.data, graph.outputs, source)
    if problems:
        raise SpecError(problems)


def train_problems(train: Any, outputs: list[str], source: Source) -> list[Problem]:
    """Problems of ``train.outputs`` (and ``train.objective_l1/l2``) for the output layers
    ``outputs``."""
    if train.outputs is None:
        if len(outputs) < 2:
            return []
        example = ", ".join(f"{name}: {{}}" for name in outputs)
        return [
            source.problem(
                f"the model has {len(outputs)} outputs ({', '.join(outputs)}) and training "
                "cannot tell each one's loss and metrics; give one entry per output under "
                f"train.outputs, e.g. outputs: {{{example}}} (an empty entry takes "
                "train.regression and train.metrics)",
                ("train",),
            )
        ]
    problems = []
    for name in train.outputs:
        if name not in outputs:
            problems.append(
                source.problem(
                    f"'{name}' is not an output layer{did_you_mean(name, outputs)}; the model's "
                    f"outputs are: {', '.join(outputs)}",
                    ("train", "outputs", name),
                )
            )
            continue
        regression = output_is_regression(train, name)
        for metric in output_metrics(train, name):
            if (metric in REGRESSION_METRICS) != regression:
                task = "a regression" if regression else "a classification"
                fits = (
                    ", ".join(REGRESSION_METRICS)
                    if regression
                    else "accuracy, top5_accuracy, pixel_accuracy, mean_iou"
                )
                own = train.outputs[name].metrics is not None
                problems.append(
                    source.problem(
                        f"metric '{metric}' does not fit output '{name}', {task} output; "
                        f"use one of: {fits}",
                        ("train", "outputs", name, "metrics") if own else ("train", "metrics"),
                    )
                )
    missing = [name for name in outputs if name not in train.outputs]
    if missing:
        problems.append(
            source.problem(
                f"train.outputs has no entry for output layer(s) {', '.join(missing)}; give "
                "every output one (an empty entry {} takes train.regression and train.metrics)",
                ("train", "outputs"),
            )
        )
    for penalty in ("objective_l1", "objective_l2"):
        if getattr(train, penalty):
            problems.append(
                source.problem(
                    f"{penalty} applies to a single output's loss; with train.outputs use "
                    "weight regularisation on the layers instead",
                    ("train", penalty),
                )
            )
    return problems


def data_problems(data: Any, outputs: list[str], source: Source) -> list[Problem]:
    """Problems of ``data`` as the targets of the output layers ``outputs``: several outputs
    need an npz source with ``y_key`` naming one array per output; one output needs one
    array name."""
    per_output = isinstance(data.y_key, dict)
    if len(outputs) < 2:
        if per_output:
            return [
                source.problem(
                    "y_key names one array per output, but the model has one output; give "
                    "one array name, e.g. y_key: y",
                    ("data", "y_key"),
                )
            ]
        return []
    if data.kind != "npz":
        return [
            source.problem(
                f"the model has {len(outputs)} outputs ({', '.join(outputs)}) but a "
                f"{data.kind} source gives one target per example; use an npz file with one "
                "target array per output (data.y_key: {"
                + ", ".join(f"{name}: ARRAY" for name in outputs)
                + "})",
                ("data", "source"),
            )
        ]
    if not per_output:
        return [
            source.problem(
                f"the model has {len(outputs)} outputs; name one npz array per output, e.g. "
                "y_key: {" + ", ".join(f"{name}: y_{name}" for name in outputs) + "}",
                ("data", "y_key"),
            )
        ]
    problems = [
        source.problem(
            f"'{name}' is not an output layer{did_you_mean(name, outputs)}; the model's outputs "
            f"are: {', '.join(outputs)}",
            ("data", "y_key", name),
        )
        for name in data.y_key
        if name not in outputs
    ]
    missing = [name for name in outputs if name not in data.y_key]
    if missing:
        problems.append(
            source.problem(
                f"y_key names no array for output layer(s) {', '.join(missing)}",
                ("data", "y_key"),
            )
        )
    return problems
