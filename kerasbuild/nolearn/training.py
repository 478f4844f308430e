"""nolearn ``NeuralNet`` training arguments -> the spec's ``train:`` section.

``update=nesterov_momentum`` -> ``update: nesterov_momentum``; ``update_learning_rate`` /
``update_momentum`` / ``update_nesterov`` are kept (Theano shared variables unwrapped); any
other ``update_<name>`` goes to ``update_params`` under its Keras name (``update_beta1`` ->
``{beta_1: ...}``).
``AdjustVariable`` and ``EarlyStopping`` hooks, ``BatchIterator`` / ``FlipBatchIterator``
(with the ``flip_indices`` its class body defines), ``TrainSplit(eval_size)``, ``regression``,
``max_epochs``, ``verbose``, ``objective_l1``/``objective_l2`` translate one to one. nolearn's
default hold-out (``eval_size=0.2``) is written explicitly when the script does not give one.
"""

from __future__ import annotations

from typing import Any

from ..schema.train import OPTIMIZERS
from .report import Report
from .values import Call, Symbol, Untranslatable, to_data

TRAIN_KEYS = (
    "update",
    "max_epochs",
    "regression",
    "verbose",
    "on_epoch_finished",
    "batch_iterator_train",
    "batch_iterator_test",
    "eval_size",
    "train_split",
    "objective_l1",
    "objective_l2",
    "objective_loss_function",
    "objective",
    "on_training_finished",
    "on_training_started",
    "on_batch_finished",
    "custom_scores",
    "scores_train",
    "scores_valid",
    "y_tensor_type",
    "use_label_encoder",
    "check_input",
    "more_params",
)
"""``NeuralNet`` keyword arguments that are not layer parameters (plus every ``update_*``)."""

KEPT_UPDATE_KEYS = ("update_learning_rate", "update_momentum", "update_nesterov")
KERAS_UPDATE_NAMES = {"beta1": "beta_1", "beta2": "beta_2"}
"""Lasagne update-function arguments whose Keras optimiser argument is spelt differently."""
NOLEARN_EVAL_SIZE = 0.2
HARMLESS = {
    "use_label_encoder": "kerasbuild encodes class labels itself",
    "check_input": "kerasbuild checks its inputs itself",
    "batch_iterator_test": "it only sets the evaluation batch size",
}
LOSSES = {"squared_error": True, "categorical_crossentropy": False}
"""Loss functions that agree with ``regression`` (True: mean squared error)."""


def is_train_key(key: str) -> bool:
    return key in TRAIN_KEYS or key.startswith("update_")


def train_section(
    kwargs: dict[str, tuple[Any, int]], report: Report, lines: dict[tuple[Any, ...], int]
) -> dict[str, Any]:
    """Translate the training keyword arguments; ``lines`` gets ``("train", key)`` -> line."""
    train: dict[str, Any] = {}
    for key, (value, line) in kwargs.items():
        try:
            result = _translate(key, value, line, kwargs, report)
        except Untranslatable as exc:
            report.problem(exc.line, f"{key}: {exc.message}")
            continue
        for out_key, out_value in result.items():
            if out_key == "update_params":
                train.setdefault("update_params", {}).update(out_value)
            else:
                train[out_key] = out_value
            lines[("train", out_key)] = line
    train.setdefault("eval_size", NOLEARN_EVAL_SIZE)
    return train


def _translate(
    key: str, value: Any, line: int, kwargs: dict[str, tuple[Any, int]], report: Report
) -> dict[str, Any]:
    if key == "update":
        if isinstance(value, Symbol) and value.last in OPTIMIZERS:
            return {"update": value.last}
        raise Untranslatable(
            line, f"update function {_what(value)}: expected one of {', '.join(OPTIMIZERS)}"
        )
    if key in KEPT_UPDATE_KEYS:
        return {key: to_data(value, line)}
    if key.startswith("update_"):
        name = key[len("update_") :]
        return {"update_params": {KERAS_UPDATE_NAMES.get(name, name): to_data(value, line)}}
    if key == "on_epoch_finished":
        hooks = value if isinstance(value, list) else [value]
        out = []
        for hook in hooks:
            try:
                out.append(_hook(hook, line))
            except Untranslatable as exc:
                report.problem(
                    exc.line, f"on_epoch_finished: {exc.message} (the other hooks are kept)"
                )
        return {"on_epoch_finished": out} if out else {}
    if key == "batch_iterator_train":
        return _iterator(value, line)
    if key == "train_split":
        if isinstance(value, Call) and value.name == "TrainSplit":
            size = value.args[0] if value.args else value.kwargs.get("eval_size", NOLEARN_EVAL_SIZE)
            extra = sorted(set(value.kwargs) - {"eval_size"})
            if extra:
                report.problem(
                    line,
                    f"TrainSplit({extra[0]}=...) has no kerasbuild counterpart; "
                    "only eval_size is kept",
                )
            return {"eval_size": to_data(size, line)}
        raise Untranslatable(
            line, f"train_split {_what(value)}: only TrainSplit(eval_size=...) is translated"
        )
    if key in HARMLESS:
        report.note(line, f"{key} dropped ({HARMLESS[key]})")
        return {}
    if key == "objective_loss_function":
        regression = kwargs.get("regression", (False, line))[0]
        if isinstance(value, Symbol) and LOSSES.get(value.last) == regression:
            report.note(
                line,
                f"objective_loss_function={value.last} dropped (regression: "
                f"{str(regression).lower()} implies it)",
            )
            return {}
        raise Untranslatable(
            line,
            f"loss {_what(value)} is not the one regression="
            f"{regression} implies; set the loss in train: by hand",
        )
    if key in ("max_epochs", "regression", "verbose", "eval_size", "objective_l1", "objective_l2"):
        return {key: to_data(value, line)}
    if key in ("on_training_finished", "on_training_started", "on_batch_finished"):
        if value in ([], None):
            return {}
        raise Untranslatable(
            line,
            "custom callbacks have no kerasbuild counterpart; only "
            "AdjustVariable and EarlyStopping in on_epoch_finished are",
        )
    raise Untranslatable(line, f"{_what(value)} has no kerasbuild counterpart")


def _hook(hook: Any, line: int) -> dict[str, Any]:
    if isinstance(hook, Call) and hook.name == "AdjustVariable":
        names = ("name", "start", "stop")
        given = dict(zip(names, hook.args))
        given.update(hook.kwargs)
        given.setdefault("start", 0.03)
        given.setdefault("stop", 0.001)
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise Untranslatable(hook.line, f"AdjustVariable has no parameter {unknown[0]!r}")
        return {
            "type": "AdjustVariable",
            **{k: to_data(given[k], hook.line) for k in names if k in given},
        }
    if isinstance(hook, Call) and hook.name == "EarlyStopping":
        patience = hook.args[0] if hook.args else hook.kwargs.get("patience", 100)
        return {"type": "EarlyStopping", "patience": to_data(patience, hook.line)}
    raise Untranslatable(getattr(hook, "line", line), f"hook {_what(hook)} cannot be translated")


def _iterator(value: Any, line: int) -> dict[str, Any]:
    if not (isinstance(value, Call) and value.name in ("BatchIterator", "FlipBatchIterator")):
        raise Untranslatable(
            line,
            f"batch iterator {_what(value)}: only BatchIterator and "
            "FlipBatchIterator are translated",
        )
    size = to_data(value.args[0] if value.args else value.kwargs.get("batch_size", 128), value.line)
    if value.name == "BatchIterator":
        return {"batch_size": size}
    iterator: dict[str, Any] = {"type": "FlipBatchIterator", "batch_size": size}
    flips = value.owner.attributes.get("flip_indices") if value.owner else None
    if flips is not None:
        iterator["flip_indices"] = to_data(flips, value.line)
    return {"batch_size": size, "batch_iterator_train": iterator}


def _what(value: Any) -> str:
    if isinstance(value, Symbol):
        return value.dotted
    if isinstance(value, Call):
        return f"{value.name}(...)"
    return (
        repr(value)
        if isinstance(value, (int, float, str, bool, type(None)))
        else type(value).__name__
    )
