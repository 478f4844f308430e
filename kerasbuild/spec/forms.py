"""Normalise the three accepted spec forms into the canonical document.

1. Canonical: ``layers:`` is a list of mappings ``{name, type, ...params}``.
2. Lasagne tuple list: ``- [conv1, Conv2DLayer, {num_filters: 32}]``.
3. nolearn flat form: ``layers: [[input, InputLayer], [conv1, Conv2DLayer], ...]`` with the
   parameters as top-level ``<layer>_<param>`` keys (``conv1_num_filters: 32``,
   ``input_shape: [null, 1, 96, 96]``, ``output_nonlinearity: null``) and the training keys
   (``update_learning_rate``, ``max_epochs``, ``on_epoch_finished``...) at the top level.

Top-level ``input: {shape, name}`` / ``inputs: [...]`` become ``InputLayer`` entries at the
front of ``layers``; nolearn training keys move under ``train:``. The result is canonical:
normalising it again changes nothing. Positions follow the values to their new paths, so
errors point at the line the user wrote.
"""

from __future__ import annotations

from typing import Any

from ..errors import FieldPath, Problem, SpecError, did_you_mean
from ..layers import lookup
from .source import Source

TOP_LEVEL_KEYS = (
    "name",
    "description",
    "reference",
    "blocks",
    "layers",
    "outputs",
    "init",
    "train",
    "data",
)
INPUT_KEYS = ("input", "inputs")
MAX_LAYERS = 10_000
"""More layers than this in one spec are refused before any validation."""

MODULE_PREFIXES = ("layers.", "lasagne.layers.", "keras.layers.")
"""Module paths a pasted layer type may carry (``('hidden', layers.DenseLayer)``)."""

NOLEARN_TRAIN_KEYS = (
    "update",
    "max_epochs",
    "regression",
    "verbose",
    "on_epoch_finished",
    "on_training_finished",
    "batch_iterator_train",
    "batch_iterator_test",
    "eval_size",
    "train_split",
    "objective",
    "objective_l1",
    "objective_l2",
    "objective_loss_function",
    "custom_scores",
)
"""nolearn ``NeuralNet`` keyword arguments kept under ``train:`` (plus every ``update_*``)."""


class _Remapper:
    """Builds the new document's position map from the old one."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.positions: dict[FieldPath, tuple[int, int]] = {}
        self._by_prefix: dict[FieldPath, list[FieldPath]] = {}
        for path in source.positions:
            for i in range(len(path) + 1):
                self._by_prefix.setdefault(path[:i], []).append(path)

    def move(self, old: FieldPath, new: FieldPath) -> None:
        """Positions of ``old`` and everything under it now belong to ``new``."""
        for path in self._by_prefix.get(tuple(old), ()):
            self.positions[tuple(new) + path[len(old) :]] = self.source.positions[path]

    def point(self, old: FieldPath, new: FieldPath) -> None:
        """Only ``new`` itself is located at ``old`` (or its nearest located ancestor)."""
        line, column = self.source.locate(old)
        if line is not None:
            self.positions.setdefault(tuple(new), (line, column or 1))


def normalise(source: Source) -> Source:
    """Return a new :class:`Source` holding the canonical document."""
    data = source.data
    if not isinstance(data, dict):
        got = (
            "nothing (the document is empty or null)"
            if data is None
            else f"a {type(data).__name__}"
        )
        raise source.error(f"a spec must be a mapping with a 'layers' list, got {got}")
    remap = _Remapper(source)
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for key in TOP_LEVEL_KEYS:
        if key in data and key != "layers":
            out[key] = data[key]
            remap.move((key,), (key,))
    remap.point((), ())

    layers: list[dict[str, Any]] = []
    for key in INPUT_KEYS:
        if key in data:
            items = data[key] if key == "inputs" else [data[key]]
            if not isinstance(items, list):
                problems.append(
                    source.problem(f"'{key}' must be a list of {{shape, name}} mappings", (key,))
                )
                continue
            for i, item in enumerate(items):
                old = (key,) if key == "input" else (key, i)
                if not isinstance(item, dict):
                    problems.append(
                        source.problem(
                            "expected a mapping like {shape: [28, 28, 1], name: image}", old
                        )
                    )
                    continue
                entry = {
                    "name": item.get("name", "input" if len(items) == 1 else f"input{i + 1}"),
                    "type": "InputLayer",
                    **{k: v for k, v in item.items() if k != "name"},
                }
                new = ("layers", len(layers))
                remap.move(old, new)
                layers.append(entry)

    raw_layers = data.get("layers")
    if raw_layers is None:
        problems.append(source.problem("missing 'layers': a list of layers is required", ()))
        raw_layers = []
    elif not isinstance(raw_layers, list):
        problems.append(
            source.problem(f"'layers' must be a list, got {type(raw_layers).__name__}", ("layers",))
        )
        raw_layers = []
    elif not raw_layers:
        problems.append(
            source.problem("'layers' is empty; a spec needs at least one layer", ("layers",))
        )
    elif len(raw_layers) > MAX_LAYERS:
        raise source.error(
            f"'layers' has {len(raw_layers):,} entries; at most {MAX_LAYERS:,} layers are "
            "allowed (refused before building anything)",
            ("layers",),
        )
    for i, item in enumerate(raw_layers):
        new = ("layers", len(layers))
        converted = _layer_entry(item, ("layers", i), new, source, remap, problems)
        if converted is not None:
            layers.append(converted)
    for entry in layers:
        if "type" in entry:
            entry["type"] = _registered_type(entry["type"])
    if (
        "input_shape" in data
        and not any(_is_input(e) for e in layers)
        and not any(e.get("name") == "input" for e in layers)
    ):
        # Lasagne's NeuralNet(input_shape=...) without an input layer: the input, NCHW
        layers.insert(0, {"name": "input", "type": "InputLayer", "shape": data["input_shape"]})
        remap.positions = {
            (p[0], p[1] + 1, *p[2:]) if p[:1] == ("layers",) and len(p) > 1 else p: v
            for p, v in remap.positions.items()
        }
        remap.move(("input_shape",), ("layers", 0, "shape"))
        remap.point(("input_shape",), ("layers", 0))
    out["layers"] = layers

    layer_names = sorted(
        (e["name"] for e in layers if isinstance(e.get("name"), str)), key=len, reverse=True
    )
    train = out.get("train", {})
    train = dict(train) if isinstance(train, dict) else train
    for key, value in data.items():
        if (
            key in TOP_LEVEL_KEYS
            or key in INPUT_KEYS
            or (
                key == "input_shape"
                and layers[:1]
                and layers[0].get("name") == "input"
                and layers[0].get("shape") is data[key]
            )
        ):
            continue
        if key in NOLEARN_TRAIN_KEYS or key.startswith("update_") or key == "update":
            if not isinstance(train, dict):
                problems.append(source.problem("'train' must be a mapping", ("train",)))
                continue
            if key in train:
                problems.append(
                    source.problem(
                        f"'{key}' is given both at the top level and under train:", (key,)
                    )
                )
                continue
            train[key] = value
            remap.move((key,), ("train", key))
            continue
        owner = next(
            (n for n in layer_names if key.startswith(n + "_") and len(key) > len(n) + 1), None
        )
        if owner is None and key == "input_shape":
            problems.append(
                source.problem(
                    "input_shape sets the shape of a layer named 'input', and there is none; the "
                    "spec "
                    "already has an input layer: give its shape there, or write input: {shape: "
                    "[...]}",
                    (key,),
                )
            )
            continue
        if owner is None:
            known = [*TOP_LEVEL_KEYS, *INPUT_KEYS, *NOLEARN_TRAIN_KEYS]
            problems.append(
                source.problem(
                    "unknown top-level key "
                    f"'{key}'{did_you_mean(key, known) or _flat_key_hint(key, layer_names)}; "
                    "expected one of "
                    f"{', '.join(TOP_LEVEL_KEYS)}, a nolearn training key, or '<layer>_<param>' "
                    "for a "
                    f"layer named in 'layers'",
                    (key,),
                )
            )
            continue
        index = next(j for j, e in enumerate(layers) if e.get("name") == owner)
        param = key[len(owner) + 1 :]
        if param in layers[index] and param not in ("name", "type"):
            problems.append(source.problem(f"'{param}' of layer '{owner}' is given twice", (key,)))
            continue
        if param in ("name", "type"):
            problems.append(
                source.problem(f"'{key}' would change the layer's {param}; not allowed", (key,))
            )
            continue
        layers[index][param] = value
        remap.move((key,), ("layers", index, param))
    if train:
        out["train"] = train
    if problems:
        raise SpecError(problems)
    ordered = {k: out[k] for k in TOP_LEVEL_KEYS if k in out}
    return Source(ordered, source.file, remap.positions)


def _is_input(entry: dict[str, Any]) -> bool:
    type_entry = lookup(entry["type"]) if isinstance(entry.get("type"), str) else None
    return type_entry is not None and type_entry.name == "InputLayer"


def _registered_type(type_name: Any) -> Any:
    """``layers.DenseLayer`` / ``lasagne.layers.dnn.Conv2DDNNLayer`` / ``keras.layers.Dense``, as
    pasted from Python, -> the registered name; anything else is left for validation (an
    unregistered dotted name is refused as an import path, never imported)."""
    if not isinstance(type_name, str) or not type_name.startswith(MODULE_PREFIXES):
        return type_name
    short = type_name.rsplit(".", 1)[-1]
    return short if lookup(short) is not None else type_name


def _flat_key_hint(key: str, layer_names: list[str]) -> str:
    """``hiden_num_units`` with a layer ``hidden`` -> `` (did you mean 'hidden_num_units'?)``."""
    for i, char in enumerate(key):
        if char == "_" and 0 < i < len(key) - 1:
            close = did_you_mean(key[:i], layer_names)
            if close:
                owner = close.split("'")[1]
                return f" (did you mean '{owner}{key[i:]}'?)"
    return ""


def _layer_entry(
    item: Any,
    old: FieldPath,
    new: FieldPath,
    source: Source,
    remap: _Remapper,
    problems: list[Problem],
) -> dict[str, Any] | None:
    """One entry of ``layers`` in any form -> a canonical mapping (or a ``use:`` block entry)."""
    if isinstance(item, dict):
        remap.move(old, new)
        return dict(item)
    if isinstance(item, list):
        remap.point(old, new)
        if len(item) in (2, 3) and isinstance(item[0], str) and isinstance(item[1], str):
            entry: dict[str, Any] = {"name": item[0], "type": item[1]}
            remap.move(old + (0,), new + ("name",))
            remap.move(old + (1,), new + ("type",))
            if len(item) == 3:
                if not isinstance(item[2], dict):
                    problems.append(
                        source.problem(
                            "the third element of a Lasagne tuple must be a mapping of parameters",
                            old + (2,),
                        )
                    )
                    return None
                for key, value in item[2].items():
                    if key in ("name", "type"):
                        problems.append(
                            source.problem(
                                f"'{key}' goes in the tuple, not in its parameters", old + (2, key)
                            )
                        )
                        continue
                    entry[key] = value
                    remap.move(old + (2, key), new + (key,))
            return entry
        if len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], dict):
            entry = {"type": item[0], **item[1]}
            remap.move(old + (0,), new + ("type",))
            for key in item[1]:
                remap.move(old + (1, key), new + (key,))
            if "name" not in entry:
                problems.append(
                    source.problem("a [Type, {params}] layer needs a 'name' in its parameters", old)
                )
                return None
            return entry
        problems.append(
            source.problem(
                "a layer given as a list must be [name, Type], [name, Type, {params}] or "
                f"[Type, {{name: ..., params}}], got {item!r}"[:300],
                old,
            )
        )
        return None
    problems.append(source.problem(f"a layer must be a mapping or a list, got {item!r}"[:200], old))
    return None
