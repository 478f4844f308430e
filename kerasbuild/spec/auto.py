"""``auto`` sizes: sizes a spec leaves to the data (``input: {shape: auto}``,
``num_units: auto`` on an output layer).

Loading checks everything else: each ``auto`` stands in for a small valid value while the
fields are validated, and the graph treats the layers whose sizes depend on it as unknown
(no shape, no parameter count). Training, tuning and exporting call :func:`resolve` with
the sizes the data has, which writes the numbers into the spec, so a run's spec.yaml
records fixed sizes. Pure Python, no TensorFlow.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import SpecError
from ..layers import lookup
from .source import Source

if TYPE_CHECKING:
    from .loader import LoadedSpec

AUTO = "auto"
SIZED = {"InputLayer": ("shape",), "DenseLayer": ("num_units",)}
"""Canonical layer type -> the fields that may be ``auto`` (Lasagne names)."""
AUTO_FIELDS: dict[str, tuple[str, ...]] = {}
"""Every type name of those layers (aliases, Keras spellings) -> its ``auto`` fields as that
spelling names them (``Dense``: ``units``)."""


def auto_fields(type_name: Any) -> tuple[str, ...]:
    """The fields of a layer spelled ``type_name`` that may be ``auto`` (none for most)."""
    entry = lookup(type_name) if isinstance(type_name, str) else None
    if entry is None or entry.name not in SIZED:
        return ()
    plain = entry.variants.get(type_name, type_name)
    form = entry.keras.get(plain)
    to_keras = {lasagne: keras for keras, lasagne in form.rename.items()} if form else {}
    return tuple(to_keras.get(f, f) for f in SIZED[entry.name])


def _fill_auto_fields() -> None:
    for canonical in SIZED:
        entry = lookup(canonical)
        if entry is not None:
            for type_name in entry.type_names:
                AUTO_FIELDS[type_name] = auto_fields(type_name)


_fill_auto_fields()


@dataclass(frozen=True)
class AutoSize:
    """One ``auto`` in the expanded spec: layer ``index``, ``field`` as spelled, and ``kind``:
    ``input_shape`` (one example's shape, NHWC) or ``output_units`` (classes or targets)."""

    index: int
    name: str
    field: str
    kind: Literal["input_shape", "output_units"]


STAND_INS = {"input_shape": [1], "output_units": 1}
"""What an ``auto`` is validated as (its layer's shape is then treated as unknown)."""


def find(source: Source) -> list[AutoSize]:
    """Every ``auto`` size in the expanded document; ``auto`` where no size may be taken from
    the data (a hidden layer's ``num_units``) is a located problem."""
    data = source.data
    layers = data.get("layers") if isinstance(data, dict) else None
    if not isinstance(layers, list):
        return []
    outputs = data.get("outputs")
    if not (isinstance(outputs, list) and all(isinstance(o, str) for o in outputs)):
        last = layers[-1] if layers and isinstance(layers[-1], dict) else {}
        outputs = [last.get("name")]
    found, problems = [], []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            continue
        kind = layer.get("type")
        for field in AUTO_FIELDS.get(kind, ()) if isinstance(kind, str) else ():
            if layer.get(field) != AUTO:
                continue
            if field == "shape":
                kind: Literal["input_shape", "output_units"] = "input_shape"
            elif layer.get("name") in outputs:
                kind = "output_units"
            else:
                problems.append(
                    source.problem(
                        f"{field}: auto takes the number of classes or targets from the data, so "
                        "only an "
                        f"output layer may use it; give layer '{layer.get('name')}' a number",
                        ("layers", i, field),
                    )
                )
                continue
            found.append(AutoSize(i, str(layer.get("name")), field, kind))
    if problems:
        raise SpecError(problems)
    return found


def stand_in(source: Source, autos: list[AutoSize]) -> Source:
    """``source`` with each ``auto`` replaced by its stand-in value, for validation."""
    if not autos:
        return source
    data = copy.deepcopy(source.data)
    for auto in autos:
        layer = data["layers"][auto.index]
        layer[auto.field] = copy.copy(STAND_INS[auto.kind])
        if auto.kind == "input_shape":
            layer["layout"] = "nhwc"
    return Source(data, source.file, source.positions)


def resolve(loaded: LoadedSpec, input_shape: tuple[int, ...], units: int) -> LoadedSpec:
    """``loaded`` with every ``auto`` replaced: input shapes by ``input_shape`` (one example,
    NHWC), output units by ``units``; validated and shape-checked again. The canonical
    document gets the same numbers where the layer is written out (not inside a block)."""
    from .graph import analyse
    from .loader import validate

    if not loaded.autos:
        return loaded
    values = {"input_shape": [int(d) for d in input_shape], "output_units": int(units)}
    data = copy.deepcopy(loaded.source.data)
    document = copy.deepcopy(loaded.document)
    written = {
        layer.get("name"): layer for layer in document.get("layers", []) if isinstance(layer, dict)
    }
    for auto in loaded.autos:
        data["layers"][auto.index][auto.field] = values[auto.kind]
        if auto.kind == "input_shape":
            data["layers"][auto.index]["layout"] = "nhwc"
        if written.get(auto.name, {}).get(auto.field) == AUTO:
            written[auto.name][auto.field] = values[auto.kind]
            if auto.kind == "input_shape":
                written[auto.name]["layout"] = "nhwc"
    source = Source(data, loaded.source.file, loaded.source.positions)
    try:
        spec = validate(source)
        graph = analyse(spec, source)
    except SpecError as exc:
        sizes = ", ".join(f"{a.name}.{a.field} = {values[a.kind]}" for a in loaded.autos)
        raise SpecError(
            [
                dataclasses.replace(
                    p, message=f"{p.message} (with the sizes taken from the data: {sizes})"
                )
                for p in exc.problems
            ]
        ) from None
    return dataclasses.replace(
        loaded, spec=spec, document=document, graph=graph, source=source, autos=[]
    )
