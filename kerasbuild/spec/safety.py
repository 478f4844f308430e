"""Refuse, by name, anything in a spec that would make Keras (or Python) load code.

A spec file is plain data: layer types come from kerasbuild's registry and nothing else.
Keras itself can deserialise layers that run arbitrary Python (``Lambda`` pickles a
function, ``TFSMLayer`` loads a SavedModel graph) or import classes by ``module`` /
``class_name`` / ``registered_name``. Those names are not merely "unknown" here: they are
refused with a message saying that code-loading layers are not allowed, before pydantic
validation, so the user sees why and no lookup by import path is ever attempted.

Checked over the canonical document (``layers``, ``blocks``, ``train``, ``outputs``; the free
text fields and ``data`` are left to their own validation):

- ``type`` values that name a code-loading layer (``Lambda``, ``TFSMLayer``,
  ``keras.layers.Lambda``, any case) or that are Python import paths (``os.system``,
  ``pkg.mod:attr``);
- keys that carry code or import paths in Keras' serialisation (``module``, ``class_name``,
  ``function``, ``registered_name``...);
- import paths or ``lambda`` source given where a function is chosen by name
  (``nonlinearity``, ``activation``, initialisers, ``update``, ``*_function``...).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import FieldPath, Problem, SpecError
from .source import Source

CODE_LOADING_TYPES = frozenset(
    {
        "lambda",
        "lambdalayer",
        "tfsmlayer",
        "tfsm",
        "torchmodulewrapper",
        "jaxlayer",
        "flaxlayer",
        "hublayer",
        "keraslayer",
        "pyfunc",
        "py_function",
        "numpy_function",
        "functional",
        "sequential",
        "model",
        "savedmodel",
    }
)
"""Lower-cased type names (last dotted component) that would run or load foreign code."""

CODE_FIELDS = frozenset(
    {
        "module",
        "class_name",
        "registered_name",
        "function",
        "function_type",
        "fn",
        "func",
        "callable",
        "output_shape_module",
        "output_shape_type",
        "import",
        "code",
        "eval",
        "exec",
        "lambda",
        "pickle",
        "call_endpoint",
    }
)
"""Keys that, in Keras configs or elsewhere, name code to import or carry code to run."""

FUNCTION_KEYS = frozenset(
    {
        "type",
        "nonlinearity",
        "activation",
        "W",
        "b",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "update",
        "objective",
        "objective_loss_function",
        "loss",
        "metric",
        "metrics",
        "custom_scores",
    }
)
"""Keys whose string value picks a function or class by name."""

SKIPPED_TOP_LEVEL = ("name", "description", "reference", "data")

_IMPORT_PATH = re.compile(
    r"^\s*[A-Za-z_]\w*(\s*\.\s*[A-Za-z_]\w*)+\s*(:\s*[A-Za-z_][\w.]*)?\s*$"
    r"|^\s*[A-Za-z_][\w.]*\s*:\s*[A-Za-z_][\w.]*\s*$"
)
_LAMBDA_SOURCE = re.compile(r"^\s*(lambda\b|def\s|import\s|__import__|exec\s*\(|eval\s*\()")


def check_no_code(source: Source) -> None:
    """Raise :class:`SpecError` listing every code-loading name in the canonical document."""
    problems: list[Problem] = []
    data = source.data if isinstance(source.data, dict) else {}
    for key, value in data.items():
        if key not in SKIPPED_TOP_LEVEL:
            _walk(value, (key,), source, problems)
    if problems:
        raise SpecError(problems)


def _walk(node: Any, path: FieldPath, source: Source, problems: list[Problem]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            where = path + (key,)
            if isinstance(key, str) and key.lower() in CODE_FIELDS:
                problems.append(
                    source.problem(
                        f"field '{key}' would load code by name; code-loading fields are not "
                        "allowed "
                        "in spec files (spec files are plain data: use a registered layer type "
                        "and its parameters)",
                        where,
                    )
                )
                continue
            if key in FUNCTION_KEYS or (isinstance(key, str) and key.endswith("_function")):
                for value_path, text in _strings(value, where):
                    message = _code_name_message(str(key), text)
                    if message:
                        problems.append(source.problem(message, value_path))
                        break
                else:
                    _walk(value, where, source, problems)
                continue
            _walk(value, where, source, problems)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, path + (i,), source, problems)


def _strings(value: Any, path: FieldPath) -> list[tuple[FieldPath, str]]:
    """The string itself, or the choices of a search-space placeholder standing for it."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict) and "hp" in value and isinstance(value.get("values"), list):
        return [
            (path + ("values", i), v) for i, v in enumerate(value["values"]) if isinstance(v, str)
        ]
    return []


def _code_name_message(key: str, text: str) -> str | None:
    last = re.split(r"[.:]", text.strip())[-1].strip()
    if key == "type" and last.lower() in CODE_LOADING_TYPES:
        return (
            f"layer type '{text}' is refused: code-loading layers (Lambda, TFSMLayer and the "
            "like run or load arbitrary Python) are not allowed in spec files; express the "
            "computation with registered layer types (run 'kerasbuild schema' for the list)"
        )
    if _LAMBDA_SOURCE.match(text):
        return (
            f"{key}: {text[:60]!r} looks like Python source; spec files never run code, "
            "write a registered name instead"
        )
    if _IMPORT_PATH.match(text):
        instead = (
            "a registered layer type (run 'kerasbuild schema' for the list)"
            if key == "type"
            else f"the registered name (e.g. '{last}')"
        )
        return (
            f"'{text[:120]}' is a Python import path; spec files never import code by path "
            f"(code-loading names are not allowed), write {instead}"
        )
    return None
