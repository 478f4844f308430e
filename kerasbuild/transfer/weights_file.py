"""Read the layers of a weights source as ``(key, arrays)`` pairs, in the file's layer order.

- ``.keras``: the model, loaded in safe mode (:func:`kerasbuild.safe_load.load_keras_model`);
  keys are layer names.
- ``.h5`` / ``.hdf5`` written by Keras 2 (``model.save_weights`` or ``model.save``, e.g. the
  ``keras.applications`` files in ``~/.keras/models``): the arrays only, in the order of the
  ``layer_names`` / ``weight_names`` attributes; keys are layer names. The model config such
  a file may hold is never read, so no code in it can run.
- ``.weights.h5`` written by Keras 3: it stores no layer names; keys are Keras' own, the
  snake-cased class name and a counter in layer order (``conv2d``, ``conv2d_1``,
  ``batch_normalization``...), which :func:`keras_keys` computes for a model.

Arrays of a layer come in ``layer.weights`` order (kernel, bias; gamma, beta, moving mean,
moving variance).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from ..safe_load import load_keras_model


@dataclass
class SourceLayers:
    """``layers``: ``(key, arrays)`` for every layer that has weights; ``by_keras_key``: keys
    are Keras 3's class-and-counter keys rather than layer names."""

    layers: list[tuple[str, list[np.ndarray]]]
    by_keras_key: bool


def read_layers(path: Path) -> SourceLayers:
    """The layers with weights in ``path`` (see the module docstring for the formats)."""
    if path.suffix.lower() == ".keras":
        model = load_keras_model(path, compile=False)
        return SourceLayers(
            [(layer.name, layer.get_weights()) for layer in model_layers(model) if layer.weights],
            by_keras_key=False,
        )
    import h5py

    try:
        with h5py.File(path, "r") as file:
            if "layer_names" in file.attrs or "model_weights" in file:
                return SourceLayers(_legacy_layers(file), by_keras_key=False)
            if "layers" in file:
                return SourceLayers(_keras3_layers(file["layers"]), by_keras_key=True)
    except OSError as exc:
        raise KerasbuildError(f"{path}: not a readable HDF5 weights file ({exc})") from None
    raise KerasbuildError(
        f"{path}: no Keras weights in this HDF5 file (neither Keras 3 'layers' "
        "nor Keras 2 'layer_names')"
    )


def model_layers(model: Any) -> list[Any]:
    """``model``'s layers in order, a nested model replaced by its own layers."""
    import keras

    out = []
    for layer in model.layers:
        out += model_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return out


def keras_keys(layers: list[Any]) -> list[str]:
    """Keras 3's key of each layer in a ``.weights.h5`` file: the snake-cased class name,
    then ``_1``, ``_2``... for later layers of the same class (keras.saving's naming)."""
    from keras.src.utils.naming import to_snake_case

    used: dict[str, int] = {}
    keys = []
    for layer in layers:
        name = to_snake_case(type(layer).__name__)
        used[name] = used.get(name, -1) + 1
        keys.append(name if used[name] == 0 else f"{name}_{used[name]}")
    return keys


def _decoded(values: Any) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _legacy_layers(file: Any) -> list[tuple[str, list[np.ndarray]]]:
    root = file["model_weights"] if "model_weights" in file else file
    layers = []
    for name in _decoded(root.attrs["layer_names"]):
        group = root[name]
        arrays = [np.asarray(group[w]) for w in _decoded(group.attrs.get("weight_names", []))]
        if arrays:
            layers.append((name, arrays))
    return layers


def _keras3_layers(group: Any) -> list[tuple[str, list[np.ndarray]]]:
    layers = [(key, _group_arrays(group[key])) for key in sorted(group, key=_key_order)]
    return [(key, arrays) for key, arrays in layers if arrays]


def _key_order(key: str) -> tuple[str, int]:
    """``conv2d_10`` after ``conv2d_9``: class name, then counter."""
    match = re.fullmatch(r"(.*?)_(\d+)", key)
    return (match.group(1), int(match.group(2))) if match else (key, 0)


def _group_arrays(group: Any) -> list[np.ndarray]:
    """A layer's own ``vars/0..n``, then those of its sub-layers (private attributes last,
    as Keras saves them)."""
    own = group.get("vars")
    arrays = [np.asarray(own[k]) for k in sorted(own, key=int)] if own is not None else []
    for key in sorted(
        (k for k in group if k != "vars"), key=lambda k: ("~" + k) if k.startswith("_") else k
    ):
        arrays += _group_arrays(group[key])
    return arrays
