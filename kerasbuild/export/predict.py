"""Predict with an exported version directory (SavedModel, ONNX or TFLite), as a client would.

``models/NAME`` (the parent of the versions) means its highest version. Importing this module
registers :func:`exported_loader` with :mod:`kerasbuild.runs.predict`, so ``kerasbuild
predict models/NAME/3 x.npz -o y.npz`` works like it does for a run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from ..runs.predict import Predictor, register_loader
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


def predict_exported(
    path: str | Path, x: np.ndarray | dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Run the exported model at ``path`` on inputs as the signature takes them.

    ``x``: one array ``(N, *input_shape)`` (NHWC for images; raw values when the export bakes
    in the preprocessing) or arrays by input name. Returns the signature's outputs by name:
    ``probabilities`` ``(N, K)`` and ``classes`` ``(N,)`` for a classifier, ``predictions``
    for a regressor.
    """
    version_dir = _version_dir(path)
    fmt = export_format(version_dir)
    if not isinstance(x, dict):
        names = [i["name"] for i in read_metadata(version_dir).get("inputs", [])]
        if len(names) != 1:
            raise KerasbuildError(
                f"{version_dir}: pass inputs by name (the model's inputs: {names or 'unknown'})"
            )
        x = {names[0]: x}
    return dict(FORMATS[fmt].runner(version_dir)(x))


def exported_loader(path: Path) -> Predictor | None:
    """A :class:`~kerasbuild.runs.predict.Predictor` for an exported version, or ``None``.

    Takes raw inputs like a run directory does: when the export was made with
    ``--no-preprocessing`` the run's preprocessing is applied here instead of in the graph.
    Returns probabilities ``(N, K)`` or regression targets ``(N, K)`` in the target's units.
    """
    version_dir = resolve_version_dir(path)
    if version_dir is None:
        return None
    metadata = read_metadata(version_dir)
    if len(metadata.get("inputs", [])) != 1:
        raise KerasbuildError(
            f"{version_dir}: kerasbuild predict needs assets/export.json and a "
            "single-input model; use predict_exported() with inputs by name"
        )
    name = metadata["inputs"][0]["name"]
    client = metadata.get("client_preprocessing") or {}
    run = FORMATS[export_format(version_dir)].runner(version_dir)
    several = bool(metadata.get("targets")) or metadata["outputs"] not in (
        ["probabilities", "classes"],
        ["predictions"],
    )  # a model with several outputs: the signature names its output layers
    output = (
        "probabilities"
        if metadata.get("task") in ("classification", "segmentation")
        else metadata["outputs"][0]
    )

    def predict(x: np.ndarray) -> np.ndarray | dict[str, np.ndarray]:
        from ..data.splits import preprocess_inputs, restore_targets

        got = run({name: preprocess_inputs(x, client) if client else x})
        if several:  # one array per output, by the signature's (the layers') names
            return {key: np.asarray(got[key]) for key in metadata["outputs"]}
        y = np.asarray(got[output])
        return restore_targets(y, client) if metadata.get("task") == "regression" else y

    info: dict[str, Any] = {
        **metadata,
        "class_names": read_labels(version_dir),
        "preprocessing": metadata.get("preprocessing") or client,
    }
    return Predictor(predict, info, version_dir)


def _version_dir(path: str | Path) -> Path:
    version_dir = resolve_version_dir(path)
    if version_dir is None:
        raise KerasbuildError(
            f"{path}: not an exported version (expected saved_model.pb, model.onnx "
            "or model.tflite, or integer version directories holding one)"
        )
    return version_dir


register_loader(exported_loader)
