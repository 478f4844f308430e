"""Load a spec: read -> normalise forms -> overrides -> placeholders -> blocks -> validate -> graph.

Every failure is a :class:`~kerasbuild.errors.SpecError` of located problems. Nothing here
imports TensorFlow.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import OverrideError, Problem, SpecError, did_you_mean
from ..layers import all_type_names, lookup
from . import auto, blocks, forms, freeze, outputs, placeholders, safety
from .graph import DEFAULT_MAX_ACTIVATIONS, DEFAULT_MAX_PARAMS, Graph, analyse
from .model import keras_form_models, spec_model
from .source import Source, from_mapping, parse_file, parse_text


@dataclass
class LoadedSpec:
    """A validated spec with everything derived from it.

    ``spec``: the pydantic model (concrete layers, placeholders replaced). ``document``: the
    canonical document before placeholder substitution and block expansion (what ``fmt``
    prints and what the tuner searches). ``graph``: shapes and parameter counts.
    """

    spec: Any
    document: dict[str, Any]
    placeholders: list[placeholders.Placeholder]
    graph: Graph
    source: Source
    path: str | None = None
    autos: list[auto.AutoSize] = field(default_factory=list)
    """Sizes left to the data (``auto``); :func:`kerasbuild.spec.auto.resolve` fills them in."""

    @property
    def name(self) -> str:
        return self.spec.name


def load_spec(
    path_or_mapping: str | Path | dict[str, Any],
    *,
    hp_values: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    max_params: int = DEFAULT_MAX_PARAMS,
    max_activations: int = DEFAULT_MAX_ACTIVATIONS,
) -> LoadedSpec:
    """Load and validate a spec file (YAML or JSON) or an in-memory mapping.

    ``hp_values``: values for search-space placeholders by name (others take their defaults).
    ``overrides``: dotted paths to values (``{"train.max_epochs": 5}``) applied to the
    canonical document first; list items are addressed by layer name or index.
    """
    if isinstance(path_or_mapping, dict):
        raw = from_mapping(copy.deepcopy(path_or_mapping))
    else:
        raw = parse_file(path_or_mapping)
    return load_from_source(
        raw,
        hp_values=hp_values,
        overrides=overrides,
        max_params=max_params,
        max_activations=max_activations,
    )


def load_text(text: str, file: str = "<string>.yaml", **kwargs: Any) -> LoadedSpec:
    """Like :func:`load_spec` for text held in memory (JSON when ``file`` ends in ``.json``)."""
    return load_from_source(parse_text(text, file), **kwargs)


def load_from_source(
    raw: Source,
    *,
    hp_values: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    max_params: int = DEFAULT_MAX_PARAMS,
    max_activations: int = DEFAULT_MAX_ACTIVATIONS,
) -> LoadedSpec:
    """The loading pipeline over already-parsed data (see :func:`load_spec`)."""
    source = forms.normalise(raw)
    if overrides:
        apply_overrides(source, overrides)
        source = forms.normalise(source)  # an override may break the form ('layers': 3)
    safety.check_no_code(source)
    document = copy.deepcopy(source.data)
    found = placeholders.find_placeholders(source)
    unknown = sorted(set(hp_values or {}) - {p.name for p in found})
    if unknown:
        raise SpecError(
            [
                Problem(
                    f"no placeholder named '{unknown[0]}'"
                    f"{did_you_mean(unknown[0], [p.name for p in found])}",
                    (),
                    raw.file,
                )
            ]
        )
    resolved = Source(
        placeholders.substitute(source.data, hp_values), source.file, source.positions
    )
    expanded = blocks.expand(resolved)
    safety.check_no_code(expanded)  # block parameters may name a type ('with: {kind: Lambda}')
    autos = auto.find(expanded)
    try:
        spec = validate(auto.stand_in(expanded, autos))
    except SpecError as exc:
        raise SpecError([_at_override(p, overrides or {}) for p in exc.problems]) from None
    graph = analyse(
        spec,
        expanded,
        max_params=max_params,
        max_activations=max_activations,
        unknown={a.name for a in autos},
    )
    freeze.mark_frozen(spec, graph, expanded)
    outputs.check_outputs(spec, graph, expanded)
    return LoadedSpec(spec, document, found, graph, expanded, raw.file, autos)


def validate(source: Source) -> BaseModel:
    """Validate the expanded document with pydantic; map errors to located problems."""
    try:
        return spec_model().model_validate(source.data)
    except ValidationError as exc:
        raise SpecError(_problems(exc, source)) from None


def _problems(exc: ValidationError, source: Source) -> list[Problem]:
    type_names = set(all_type_names())
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        if (
            len(loc) >= 3
            and loc[0] == "layers"
            and isinstance(loc[2], str)
            and loc[2] in type_names
        ):
            del loc[2]
        loc = _without_union_tags(loc, source.data)
        loc = _without_type_labels(loc, source.data)
        for i, part in enumerate(loc):
            if isinstance(part, str) and part.startswith("function-"):
                loc = loc[:i]
                break
        path = _keras_spelling(tuple(loc), err, source)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            item = _value_at(source.data, path)
            if isinstance(item, dict) and "type" in item:
                path = (*path, "type")
        if path in seen:  # a union reports each member's complaint: keep the first (the literal's)
            continue
        seen.add(path)
        problems.append(source.problem(_message(err, path, source), path))
    return _drop_missing_explained_by_misspelling(problems)


def _keras_spelling(path: tuple, err: dict[str, Any], source: Source) -> tuple:
    """A missing or invalid field of a Keras-spelled layer is named as the user spells it
    (``units``, not ``num_units``)."""
    layer = _layer_at(source, path)
    if layer is None or len(path) < 3 or err["type"] == "extra_forbidden":
        return path
    entry = lookup(str(layer.get("type")))
    form = entry.keras.get(str(layer.get("type"))) if entry is not None else None
    if form is None:
        return path
    to_keras = {lasagne: keras for keras, lasagne in form.rename.items()}
    if path[2] in to_keras and (err["type"] == "missing" or to_keras[path[2]] in layer):
        return (*path[:2], to_keras[path[2]], *path[3:])
    return path


def _drop_missing_explained_by_misspelling(problems: list[Problem]) -> list[Problem]:
    """``num_filter: 20`` gives both "unknown field 'num_filter' (did you mean 'num_filters'?)"
    and "missing required field 'num_filters'"; the first says it all."""
    suggested = {
        (p.path[:-1], p.message.split("(did you mean '", 1)[1].split("'", 1)[0])
        for p in problems
        if p.message.startswith("unknown field ") and "(did you mean '" in p.message
    }
    return [
        p
        for p in problems
        if not (
            p.message.startswith("missing required field ")
            and (p.path[:-1], p.path[-1]) in suggested
        )
    ]


def _message(err: dict[str, Any], path: tuple, source: Source) -> str:
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    layer = _layer_at(source, path)
    named = source.display_path(path)[1:2] != path[1:2]
    where = (
        f" (layer '{layer['name']}')"
        if layer and isinstance(layer.get("name"), str) and not named
        else ""
    )
    if kind == "extra_forbidden":
        field = str(path[-1])
        allowed = _allowed_fields(source, path)
        return (
            f"unknown field '{field}'{did_you_mean(field, allowed)}{where}; "
            f"expected one of: {', '.join(allowed)}"
        )
    if kind in ("union_tag_invalid", "union_tag_not_found") and path[:1] != ("layers",):
        tags = (err.get("ctx") or {}).get("expected_tags", "")
        if kind == "union_tag_not_found":
            return f"missing 'type'{'; expected one of: ' + tags if tags else ''}"
        given = str((err.get("ctx") or {}).get("tag"))
        return (
            f"unknown type '{given}'"
            f"{did_you_mean(given, [t.strip(chr(39) + ' ') for t in tags.split(',')])}; "
            f"expected one of: {tags}"
        )
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        given = layer.get("type") if layer else None
        if given is None:
            return "missing 'type': every layer needs a type, e.g. DenseLayer or Conv2DLayer"
        return (
            f"unknown layer type '{given}'{did_you_mean(str(given), all_type_names())}{where}; "
            "run 'kerasbuild schema' or see docs/spec-reference.md for the layer types"
        )
    if kind == "missing":
        return f"missing required field '{path[-1]}'{where}"
    if kind.startswith("literal_error"):
        return f"{msg}, got {err.get('input')!r}{where}"
    got = err.get("input")
    if kind in (
        "int_type",
        "float_type",
        "int_parsing",
        "float_parsing",
        "bool_type",
        "bool_parsing",
        "string_type",
        "list_type",
        "tuple_type",
        "dict_type",
        "int_from_float",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_short",
        "finite_number",
        "string_pattern_mismatch",
    ):
        return f"{msg}, got {got!r}{where}"
    return f"{msg}{where}"


def _layer_at(source: Source, path: tuple) -> dict[str, Any] | None:
    if len(path) >= 2 and path[0] == "layers" and isinstance(path[1], int):
        layers = source.data.get("layers") or []
        if path[1] < len(layers) and isinstance(layers[path[1]], dict):
            return layers[path[1]]
    return None


def _allowed_fields(source: Source, path: tuple) -> list[str]:
    layer = _layer_at(source, path)
    if layer is not None and len(path) == 3:
        entry = lookup(str(layer.get("type")))
        if entry is not None:
            if str(layer.get("type")) in entry.keras:
                return list(keras_form_models()[str(layer.get("type"))].model_fields)
            return list(entry.schema.model_fields)
    model: Any = spec_model()
    for k, part in enumerate(path[:-1]):
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        value = _value_at(source.data, path[: k + 1])
        if isinstance(value, list) and k + 1 < len(path) - 1 and isinstance(path[k + 1], int):
            value = _value_at(source.data, path[: k + 2])
        model = _inner_model(field.annotation, value)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _inner_model(annotation: Any, value: Any = None) -> Any:
    """The pydantic model inside ``annotation``; for a union of models, the one whose ``type``
    literal matches ``value['type']`` (hooks, augmentations), else the first."""
    import typing

    def models(ann: Any) -> list[Any]:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return [ann]
        return [m for arg in typing.get_args(ann) for m in models(arg)]

    found = models(annotation)
    tag = value.get("type") if isinstance(value, dict) else None
    for model in found:
        type_field = model.model_fields.get("type")
        if (
            tag is not None
            and type_field is not None
            and tag in typing.get_args(type_field.annotation)
        ):
            return model
    return found[0] if found else None


def _value_at(data: Any, path: Any) -> Any:
    """The value at ``path`` in plain data, or ``None`` when the path does not exist."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


_TYPE_LABELS = {
    "int",
    "float",
    "str",
    "bool",
    "list",
    "dict",
    "tuple",
    "none",
    "literal",
    "is-instance",
}


def _without_type_labels(loc: list[Any], data: Any) -> list[Any]:
    """Drop the union-member labels pydantic puts in error locations (``int``,
    ``tuple[int, ...]``): they name no field. A key the data really has is always kept."""
    out: list[Any] = []
    for part in loc:
        node = _value_at(data, out)
        is_key = isinstance(node, dict) and part in node
        if (
            isinstance(part, str)
            and not is_key
            and (part in _TYPE_LABELS or any(c in part for c in "[ ,"))
        ):
            continue
        out.append(part)
    return out


def _without_union_tags(loc: list[Any], data: Any) -> list[Any]:
    """Drop the discriminator values pydantic puts in error locations
    (``train.on_epoch_finished.0.EarlyStopping.patience`` -> ``...0.patience``)."""
    out: list[Any] = []
    for part in loc:
        if out and isinstance(out[-1], int) and isinstance(part, str):
            item = _value_at(data, out)
            if isinstance(item, dict) and item.get("type") == part:
                continue
        out.append(part)
    return out


def _at_override(problem: Problem, overrides: dict[str, Any]) -> Problem:
    """A problem in a value a ``--set`` put there is located at that ``--set`` argument
    (``--set data.expnd=1: data.expnd: ...``), not at a line of the file."""
    shown = [str(part) for part in problem.path]
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        if shown[: len(parts)] == parts:
            text = value if isinstance(value, str) else json.dumps(value)
            return Problem(problem.message, problem.path, f"--set {dotted}={text}")
    return problem


def apply_overrides(source: Source, overrides: dict[str, Any]) -> None:
    """Set dotted paths in the canonical document in place (``layers.fc1.num_units``)."""
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node: Any = source.data
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            if isinstance(node, list):
                index = next(
                    (
                        i
                        for i, item in enumerate(node)
                        if isinstance(item, dict) and item.get("name") == part
                    ),
                    None,
                )
                if index is None and part.lstrip("-").isdigit():
                    index = int(part)
                if index is None or not -len(node) <= index < len(node):
                    names = [i.get("name") for i in node if isinstance(i, dict) and i.get("name")]
                    raise OverrideError(
                        [
                            Problem(
                                f"override {dotted}: no item '{part}'{did_you_mean(part, names)}",
                                (),
                                source.file,
                            )
                        ]
                    )
                if last:
                    node[index] = value
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise OverrideError(
                    [
                        Problem(
                            f"override {dotted}: '{'.'.join(parts[:k])}' is not a mapping or list",
                            (),
                            source.file,
                        )
                    ]
                )
