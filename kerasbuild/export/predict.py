"""Predict with an exported version directory (SavedModel, ONNX or TFLite), as a client would:
raw inputs in, named outputs out. ``models/NAME`` (the parent of the versions) means its
highest version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from .assets import read_labels, read_metadata
from .exporter import FORMATS, export_format
from .versions import version_numbers


def resolve_version_dir(path: str | Path) -> Path | None:
    """``path`` itself when it is an exported version, its highest version when it is a model
    directory of versions, else ``None``."""
    path = Path(path)
    if not path.is_dir():
        return None
    if export_format(path):
        return path
    versions = version_numbers(path)
    if versions and export_format(path / str(versions[-1])):
        return path / str(versions[-1])
    return None


def is_exported(path: str | Path) -> bool:
    """Whether ``path`` is an exported version or a directory of versions."""
    return resolve_version_dir(path) is not None


def predict_exported(path: str | Path, x: np.ndarray | dict[str, np.ndarray]) -> dict[str, Any]:
    """Run the exported model at ``path`` on raw inputs.

    ``x``: one array ``(N, *input_shape)`` (NHWC for images, raw values when the export bakes
    in preprocessing) or arrays by input name. Returns the signature's outputs by name
    (``probabilities`` ``(N, K)`` and ``classes`` ``(N,)`` for a classifier, ``predictions``
    for a regressor) plus ``class_names`` (the labels, possibly empty).
    """
    version_dir = resolve_version_dir(path)
    if version_dir is None:
        raise KerasbuildError(f"{path}: not an exported version (expected saved_model.pb, model.onnx "
                              "or model.tflite, or integer version directories holding one)")
    fmt = export_format(version_dir)
    names = [i["name"] for i in read_metadata(version_dir).get("inputs", [])]
    if not isinstance(x, dict):
        if len(names) > 1:
            raise KerasbuildError(f"{version_dir}: the model has inputs {names}; pass arrays by name")
        x = {names[0] if names else _only_input(version_dir, fmt): x}
    outputs = dict(FORMATS[fmt].runner(version_dir)(x))
    outputs["class_names"] = read_labels(version_dir)
    return outputs


def _only_input(version_dir: Path, fmt: str) -> str:
    if fmt == "savedmodel":
        import tensorflow as tf

        specs = tf.saved_model.load(str(version_dir)).signatures["serving_default"].structured_input_signature[1]
        return next(iter(specs))
    raise KerasbuildError(f"{version_dir}: assets/export.json is missing; pass inputs by name")
