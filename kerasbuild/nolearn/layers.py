"""nolearn's three ways of giving ``layers=`` -> canonical kerasbuild layer entries.

1. ``[('input', InputLayer), ('hidden', DenseLayer), ...]`` with flat ``<layer>_<param>``
   keyword arguments of ``NeuralNet`` (``hidden_num_units=100``).
2. ``[(InputLayer, {'shape': (None, 1, 28, 28)}), (DenseLayer, {'num_units': 100}), ...]``;
   unnamed layers get nolearn's names (``input0``, ``dense1``: class name without ``Layer``,
   lower case, plus the position).
3. A Lasagne layer object built in the script (``l = InputLayer(...); l = DenseLayer(l, ...)``)
   passed as ``layers=l``: every layer it is built from, in creation order.

Parameter values become spec data: Lasagne's NCHW ``shape`` ``(None, C, H, W)`` becomes NHWC
``[H, W, C]``; Lasagne axes (NCHW, batch axis 0) become kerasbuild axes (NHWC without the batch
axis); Theano-only parameters are dropped with a note, untranslatable ones reported.
"""

from __future__ import annotations

from typing import Any

from ..layers import lookup
from ..layers.inputs import lasagne_to_nhwc
from ..spec.auto import AUTO
from .report import Report
from .values import (
    DictValue,
    LayerCall,
    LayerRef,
    Symbol,
    Untranslatable,
    UserClass,
    to_data,
)

DROPPED = {
    "flip_filters": "kerasbuild trains from scratch, so filter flipping changes nothing",
    "partial_sum": "a cuda-convnet speed setting",
    "dimshuffle": "a cuda-convnet layout setting",
}
"""Parameters with no effect on what is learned, dropped with a note."""

OLD_NAMES = {
    "filter_length": ("filter_size", ("Conv1DLayer",)),
    "ds": ("pool_size", ("Pool1DLayer", "Pool2DLayer", "Pool3DLayer")),
    "border_mode": (
        "pad",
        ("Conv1DLayer", "Conv2DLayer", "Conv3DLayer", "Pool1DLayer", "Pool2DLayer", "Pool3DLayer"),
    ),
}
"""Parameter names of older Lasagne releases -> today's name and the layers that had them."""

MERGE_FUNCTIONS = {"mul": "mul", "maximum": "max", "minimum": "min", "sub": "sub", "add": "add"}

Lines = dict[tuple[Any, ...], int]


class LayerTranslator:
    """Builds the ``layers:`` list; ``lines`` maps spec paths to script lines for later messages."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.layers: list[dict[str, Any]] = []
        self.lines: Lines = {}
        self.sequence = False
        """True for nets with recurrent or embedding layers: Lasagne's ``(batch, time, features)``
        is Keras's layout too, so shapes and axes only lose the batch axis."""
        self.images = False
        """True once an input of rank >= 3 (NCHW images or NCL signals) was seen."""

    # ------------------------------------------------------------------ the three forms
    def from_value(
        self, value: Any, flat: dict[str, tuple[Any, int]], line: int
    ) -> dict[str, tuple[Any, int]]:
        """Translate a ``layers=`` value; returns the flat arguments no layer claimed."""
        if isinstance(value, LayerRef):
            self._from_graph(value.node)
            return flat
        if not isinstance(value, list) or not value:
            self.report.problem(
                line,
                "layers= must be a list of (name, LayerClass) or "
                "(LayerClass, {params}) tuples, or a Lasagne layer",
            )
            return flat
        items = []
        for position, item in enumerate(value):
            parsed = self._list_item(item, position, line)
            if parsed is not None:
                items.append(parsed)
        self.sequence = any(_is_sequence(_class_name(cls)) for _, cls, *_ in items)
        names = sorted((name for name, *_ in items), key=len, reverse=True)
        claimed: dict[str, dict[str, tuple[Any, int]]] = {name: {} for name in names}
        rest: dict[str, tuple[Any, int]] = {}
        for key, value_line in flat.items():
            owner = next(
                (n for n in names if key.startswith(n + "_") and len(key) > len(n) + 1), None
            )
            if owner is None:
                rest[key] = value_line
            else:
                claimed[owner][key[len(owner) + 1 :]] = value_line
        for name, cls, params, item_line in items:
            for key, value_line in claimed[name].items():
                if key in params:
                    self.report.problem(
                        value_line[1], f"'{name}_{key}' repeats the layer's '{key}'"
                    )
                params[key] = value_line
            self._add(cls, name, params, item_line)
        return rest

    def _list_item(self, item: Any, position: int, line: int) -> tuple[str, Any, dict, int] | None:
        try:
            return self._parse_item(item, position, line)
        except Untranslatable as exc:
            self.report.problem(exc.line, f"layers entry {position + 1}: {exc.message}")
            return None

    def _parse_item(self, item: Any, position: int, line: int) -> tuple[str, Any, dict, int] | None:
        if (
            isinstance(item, list)
            and len(item) in (2, 3)
            and isinstance(item[0], str)
            and _is_class(item[1])
        ):
            params = _params(item[2], line) if len(item) == 3 else {}
            return item[0], item[1], params, _line_of(item[1], line)
        if (
            isinstance(item, list)
            and len(item) == 2
            and _is_class(item[0])
            and isinstance(item[1], DictValue)
        ):
            params = _params(item[1], line)
            name = params.pop("name", (None, 0))[0]
            if not isinstance(name, str):
                name = _class_name(item[0]).lower().replace("layer", "") + str(position)
            return name, item[0], params, _line_of(item[0], line)
        self.report.problem(
            line,
            f"layers entry {position + 1} must be ('name', LayerClass) or (LayerClass, {{params}})",
        )
        return None

    def _from_graph(self, output: LayerCall) -> None:
        """Form 3: ``output`` and every layer it is built from, in creation order."""
        found: dict[int, LayerCall] = {}
        stack = [output]
        while stack:
            node = stack.pop()
            if node.index not in found:
                found[node.index] = node
                stack.extend(node.incoming)
        ordered = [found[i] for i in sorted(found)]
        self.sequence = any(_is_sequence(node.type_name) for node in ordered)
        names: dict[int, str] = {}
        for node in ordered:
            for line, message in node.problems:
                self.report.problem(line, f"{node.type_name}: {message}")
        for position, node in enumerate(ordered):
            given = node.params.get("name", (None, 0))[0]
            names[node.index] = (
                given
                if isinstance(given, str)
                else (_canonical(node.type_name).lower().replace("layer", "") + str(position))
            )
        previous: LayerCall | None = None
        for node in ordered:
            params = {k: v for k, v in node.params.items() if k != "name"}
            incoming = [names[n.index] for n in node.incoming]
            entry = lookup(node.type_name)
            if len(incoming) > 1 or (entry is not None and entry.max_inputs != 1 and incoming):
                params["incomings"] = (incoming, node.line)
            elif incoming and (previous is None or node.incoming[0] is not previous):
                params["incoming"] = (incoming[0], node.line)
            self._add(node.type_name, names[node.index], params, node.line, custom=node.custom)
            previous = node

    # ------------------------------------------------------------------ one layer
    def _add(
        self,
        cls: Any,
        name: str,
        params: dict[str, tuple[Any, int]],
        line: int,
        custom: bool = False,
    ) -> None:
        type_name = _class_name(cls)
        custom = custom or isinstance(cls, UserClass) or lookup(type_name) is None
        index = len(self.layers)
        if any(layer["name"] == name for layer in self.layers):
            self.report.problem(line, f"two layers are named '{name}'")
        if custom:
            self.report.problem(
                line,
                f"layer '{name}': {type_name} is not a layer kerasbuild knows "
                "(a custom layer?); it is kept under its name, so the spec does "
                "not validate until you replace it with a kerasbuild layer",
            )
        out: dict[str, Any] = {"name": name, "type": _canonical(type_name)}
        if out["type"] == "LSTMLayer" and "peepholes" not in params:
            self.report.problem(
                line,
                f"layer '{name}': Lasagne's LSTMLayer has peepholes by default, "
                "Keras's LSTM has none; the converted layer has none (write "
                "peepholes=False in the script to accept that)",
            )
        if out["type"] == "SliceLayer" and "axis" not in params and self.images:
            self.report.problem(
                line,
                f"layer '{name}': Lasagne's default axis=-1 is the last NCHW "
                "axis (columns) but kerasbuild's is the channel axis; give axis",
            )
        self.lines[("layers", index)] = line
        for key, (value, value_line) in params.items():
            if key in DROPPED:
                self.report.note(value_line, f"layer '{name}': {key} dropped ({DROPPED[key]})")
                continue
            key = self._current_name(out["type"], name, key, value_line)
            try:
                converted = self._param(out["type"], key, value, value_line)
            except Untranslatable as exc:
                self.report.problem(exc.line, f"layer '{name}': {key}: {exc.message}")
                continue
            if converted is not _DROP:
                out[key] = converted
                self.lines[("layers", index, key)] = value_line
        self.layers.append(_ordered(out))

    def _current_name(self, type_name: str, layer: str, key: str, line: int) -> str:
        """An older Lasagne parameter name (``filter_length``, ``ds``, ``border_mode``) ->
        today's."""
        entry = lookup(type_name)
        new, owners = OLD_NAMES.get(key, (key, ()))
        if entry is None or entry.name not in owners:
            return key
        self.report.note(line, f"layer '{layer}': {key} is older Lasagne's name for {new}")
        return new

    def _param(self, type_name: str, key: str, value: Any, line: int) -> Any:
        entry = lookup(type_name)
        canonical = entry.name if entry else type_name
        if key == "shape" and canonical == "InputLayer":
            return self._shape(to_data(value, line), line)
        if key == "axis" and canonical in ("ConcatLayer", "FeaturePoolLayer", "SliceLayer"):
            return _axis(to_data(value, line), line, sequence=self.sequence)
        if key == "shared_axes" and isinstance(to_data(value, line), list):
            return [
                _axis(a, line, channels_ok=False, sequence=self.sequence)
                for a in to_data(value, line)
            ]
        if key == "axes" and canonical == "BatchNormLayer":
            if to_data(value, line) == "auto":
                return _DROP
            raise Untranslatable(
                line, "only axes='auto' (normalise over all but the channel axis) is supported"
            )
        if key == "pool_function" and isinstance(value, Symbol):
            if value.last in ("mean", "max"):
                return value.last
            raise Untranslatable(
                line, f"pool_function {value.dotted}: only mean or max is available"
            )
        if key == "merge_function" and isinstance(value, Symbol):
            if value.last in MERGE_FUNCTIONS:
                return MERGE_FUNCTIONS[value.last]
            raise Untranslatable(
                line, f"merge_function {value.dotted}: expected one of {', '.join(MERGE_FUNCTIONS)}"
            )
        if key == "shape" and canonical == "ReshapeLayer":
            return self._reshape(to_data(value, line), line)
        if key == "pattern" and canonical == "DimshuffleLayer" and not self.sequence:
            self.report.problem(
                line,
                f"DimshuffleLayer pattern {to_data(value, line)} counts Lasagne's "
                "NCHW axes; it is kept as written: rewrite it for NHWC",
            )
            return to_data(value, line)
        if key in ("input_var", "convolution"):
            raise Untranslatable(line, f"{key} is a Theano object with no kerasbuild counterpart")
        return to_data(value, line)

    def _shape(self, shape: Any, line: int) -> Any:
        """Lasagne ``(None, C, H, W)`` -> ``[H, W, C]`` (NHWC, no batch axis); ``auto`` (a size
        the script knows only when it runs) stays ``auto``."""
        if shape == AUTO:
            return shape
        if not isinstance(shape, list) or len(shape) < 2:
            raise Untranslatable(
                line, f"shape must be (None, ...) with the batch axis first, got {shape!r}"
            )
        if shape[0] is not None:
            self.report.note(
                line,
                f"shape {shape}: the fixed batch size {shape[0]} is dropped "
                "(kerasbuild takes batch_size from train:)",
            )
        if self.sequence:
            return list(shape[1:])
        self.images = self.images or len(shape) >= 3
        return list(lasagne_to_nhwc([None, *shape[1:]]))

    def _reshape(self, shape: Any, line: int) -> Any:
        """ReshapeLayer ``(batch, C, H, W)`` -> ``(batch, H, W, C)`` when the sizes are plain
        numbers; references to input axes (``[1]``) are kept and reported."""
        if not isinstance(shape, list) or len(shape) < 2 or self.sequence:
            return shape
        if any(isinstance(item, list) for item in shape[1:]):
            self.report.problem(
                line,
                f"ReshapeLayer shape {shape} refers to NCHW input axes; it is "
                "kept as written: rewrite it for NHWC",
            )
            return shape
        return [shape[0], *lasagne_to_nhwc(shape)]


class _Drop:
    pass


_DROP = _Drop()


def _ordered(layer: dict[str, Any]) -> dict[str, Any]:
    """name, type, wiring, then the parameters in the layer schema's order."""
    entry = lookup(layer["type"])
    order = ["name", "type", "incoming", "incomings", *(entry.schema.model_fields if entry else ())]
    rank: dict[str, int] = {}
    for i, key in enumerate(order):
        rank.setdefault(key, i)
    return dict(sorted(layer.items(), key=lambda item: rank.get(item[0], len(rank))))


def _is_class(value: Any) -> bool:
    return isinstance(value, (Symbol, UserClass))


def _class_name(value: Any) -> str:
    if isinstance(value, Symbol):
        return value.last
    if isinstance(value, UserClass):
        return value.name
    return str(value)


def _canonical(type_name: str) -> str:
    """cuda-convnet / cuDNN variants and aliases written as the plain Lasagne layer."""
    entry = lookup(type_name)
    return entry.plain_name(type_name) if entry is not None else type_name


def _line_of(value: Any, default: int) -> int:
    return getattr(value, "line", default)


def _params(value: Any, line: int) -> dict[str, tuple[Any, int]]:
    if not isinstance(value, DictValue):
        raise Untranslatable(line, "layer parameters must be a literal mapping")
    return {k: (v, value.lines.get(k, line)) for k, v in value.items.items()}


def _is_sequence(type_name: str) -> bool:
    entry = lookup(type_name)
    return entry is not None and entry.family in ("recurrent", "embedding")


def _axis(axis: Any, line: int, channels_ok: bool = True, sequence: bool = False) -> int:
    """A Lasagne axis (NCHW with the batch axis 0) -> kerasbuild's (NHWC without it); in a
    sequence net (same layout) only the batch axis goes."""
    if sequence and isinstance(axis, int) and not isinstance(axis, bool) and axis != 0:
        return axis - 1 if axis > 0 else axis
    if isinstance(axis, bool) or not isinstance(axis, int) or axis < 1:
        raise Untranslatable(
            line,
            f"axis {axis!r}: only the channel axis 1 or spatial axes >= 2 "
            "of Lasagne's (batch, channels, rows, columns) can be translated",
        )
    if axis == 1:
        if not channels_ok:
            raise Untranslatable(
                line,
                "a shared channel axis (1) depends on the input rank; "
                "give shared_axes by hand in NHWC",
            )
        return -1
    return axis - 2
