"""``init:``: load saved weights into a spec's model, layer by layer.

A layer of the model takes the arrays of the file's layer with its name (for a Keras 3
``.weights.h5``, with its Keras key: :func:`~.weights_file.keras_keys`) when their shapes
agree. The layers left on both sides are then paired in order, as long as their shapes
agree (a spec whose layer names differ from the file's, such as a keras.applications net
written as a spec). With ``strict`` any layer left on either side is an error; otherwise it is
skipped and named in the one-line report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from .weights_file import keras_keys, model_layers, read_layers

Shapes = list[tuple[int, ...]]


@dataclass
class Matching:
    """``pairs``: (model layer index, file layer index, ``"name"`` or ``"order"``);
    ``skipped``: model layers left, with why; ``unused``: file layers left (but those a
    skipped layer names)."""

    pairs: list[tuple[int, int, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)


def match_layers(model: list[tuple[str, Shapes]], file: list[tuple[str, Shapes]]) -> Matching:
    """Pair ``(key, weight shapes)`` of the model's layers with the file's: by key where the
    shapes agree, then the rest in order while the shapes agree."""
    index = {key: i for i, (key, _) in enumerate(file)}
    result = Matching()
    used: set[int] = set()
    left: list[int] = []
    for t, (key, shapes) in enumerate(model):
        s = index.get(key)
        if s is not None and file[s][1] == shapes:
            result.pairs.append((t, s, "name"))
            used.add(s)
        else:
            left.append(t)
    rest = [s for s in range(len(file)) if s not in used]
    paired = 0
    for t, s in zip(left, rest, strict=False):
        if model[t][1] != file[s][1]:
            break
        result.pairs.append((t, s, "order"))
        used.add(s)
        paired += 1
    for t in left[paired:]:
        key, shapes = model[t]
        s = index.get(key)
        why = (
            f"shapes {_shapes(shapes)} here, {_shapes(file[s][1])} in the file"
            if s is not None
            else "no layer of that name in the file"
        )
        result.skipped.append((key, why))
    named = {key for key, _ in result.skipped}  # reported with their shapes already
    result.unused = [
        file[s][0] for s in range(len(file)) if s not in used and file[s][0] not in named
    ]
    return result


def _shapes(shapes: Shapes) -> str:
    return ", ".join("x".join(map(str, shape)) for shape in shapes)


def load_initial_weights(model: Any, path: Path, *, strict: bool = True) -> str:
    """Copy the weights at ``path`` into ``model`` (see the module docstring) and return the
    one-line report. Raises KerasbuildError when ``strict`` and a layer is left unmatched,
    or when nothing matches at all."""
    source = read_layers(path)
    layers = [layer for layer in model_layers(model) if layer.weights]
    keys = keras_keys(model_layers(model)) if source.by_keras_key else None
    if keys is not None:
        key_of = dict(zip(map(id, model_layers(model)), keys, strict=True))
        names = [key_of[id(layer)] for layer in layers]
    else:
        names = [layer.name for layer in layers]
    ours = [
        (name, [tuple(w.shape) for w in layer.weights])
        for name, layer in zip(names, layers, strict=True)
    ]
    theirs = [(key, [a.shape for a in arrays]) for key, arrays in source.layers]
    matching = match_layers(ours, theirs)
    report = _report(path, matching, len(layers))
    if not matching.pairs or (strict and (matching.skipped or matching.unused)):
        hint = (
            "; set init.strict: false to load what matches and skip the rest"
            if matching.pairs and strict
            else ""
        )
        raise KerasbuildError(f"init: {report}{hint}")
    for t, s, _ in matching.pairs:
        layers[t].set_weights([np.asarray(a) for a in source.layers[s][1]])
    return report


def _report(path: Path, matching: Matching, total: int) -> str:
    by_name = sum(1 for *_, how in matching.pairs if how == "name")
    by_order = len(matching.pairs) - by_name
    text = (
        f"loaded {len(matching.pairs)} of {total} layers from {path} ({by_name} by name, "
        f"{by_order} by order)"
    )
    if matching.skipped:
        text += f"; skipped {len(matching.skipped)}: " + ", ".join(
            f"{name} ({why})" for name, why in matching.skipped
        )
    if matching.unused:
        text += f"; unused in the file: {', '.join(matching.unused)}"
    return text
