"""JSON Schemas for editors (``kerasbuild schema``, ``kerasbuild schema --job``).

The spec schema describes every form the loader accepts, derived from the pydantic models
and the layer registry (nothing is written per layer, so it cannot drift from the loader):

- canonical layer mappings, one member per registered type (its names, aliases, backend
  variants, Keras spellings and ``layers.``-prefixed names), each refusing unknown fields;
- Lasagne tuples ``[name, Type, {params}]`` and ``[Type, {name: ..., params}]``, whose
  parameter mapping is refused field by field like a canonical mapping;
- ``use:`` block entries and ``blocks:`` definitions, whose layers take ``$param`` values;
- the ``input:`` / ``inputs:`` shorthand, and the ``auto`` sizes of :mod:`.auto`;
- nolearn's flat form: the training keywords at the top level and ``<layer>_<param>`` keys
  (a pattern over every parameter name a layer has);
- a ``{hp: ...}`` placeholder (or a ``$param`` inside a block) wherever a scalar may stand.

Field-level strictness is what the loader's is: an unknown layer type or a misspelt
parameter name is refused; values the loader checks beyond types (shapes, wiring, the
pattern of a layer name, which inside a block is only a suffix) are not expressed here.
"""

from __future__ import annotations

from typing import Any

from ..layers import entries
from ..schema.job import Job
from ..schema.train import TrainConfig
from .auto import AUTO, AUTO_FIELDS
from .forms import INPUT_KEYS, MODULE_PREFIXES, NOLEARN_TRAIN_KEYS
from .model import document_model
from .placeholders import HyperParam

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SCALARS = {"integer", "number", "string", "boolean"}
_VARIABLE = {"$ref": "#/$defs/Variable"}
_BLOCK_PARAM = {
    "type": "string",
    "pattern": r"^\$[A-Za-z_][A-Za-z0-9_]*$",
    "description": "A block parameter ($name), inside blocks: only.",
}


def job_schema() -> dict[str, Any]:
    """The search-job file (``tuning/*.yaml`` with ``spec:``)."""
    return {"$schema": DIALECT, **Job.model_json_schema()}


def spec_schema() -> dict[str, Any]:
    """The spec file in any of the forms the loader accepts (see the module docstring)."""
    base = document_model().model_json_schema()
    defs: dict[str, Any] = base.pop("$defs")
    layer_refs = sorted(
        set(base["properties"]["layers"]["items"]["anyOf"][0]["discriminator"]["mapping"].values())
    )
    layer_defs = [ref.rsplit("/", 1)[1] for ref in layer_refs]
    for name in layer_defs:
        _accept_prefixed_types(defs[name])
        _accept_auto(defs[name])
    for name in [*layer_defs, "BlockUse"]:  # a layer in a block is named by its suffix ('1_relu')
        defs[name]["properties"]["name"].pop("pattern", None)
    placeholder = HyperParam.model_json_schema()
    defs.update(placeholder.pop("$defs", {}))
    defs = {name: _with_placeholders(schema) for name, schema in defs.items()}
    defs["Placeholder"] = placeholder
    defs["Variable"] = {"anyOf": [{"$ref": "#/$defs/Placeholder"}, _BLOCK_PARAM]}
    members = []
    for (
        name
    ) in layer_defs:  # the def's fields; which of name and type are required depends on the form
        defs[name]["required"] = [
            r for r in defs[name].get("required", []) if r not in ("name", "type")
        ]
        ref = f"#/$defs/{name}"
        types = {"$ref": f"{ref}/properties/type"}
        members += [
            {"$ref": ref, "required": ["name", "type"]},
            {
                "type": "array",
                "minItems": 2,
                "maxItems": 3,
                "prefixItems": [
                    {"type": "string"},
                    types,
                    {
                        "$ref": ref,
                        "not": {"anyOf": [{"required": ["name"]}, {"required": ["type"]}]},
                    },
                ],
            },
            {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "prefixItems": [
                    types,
                    {"$ref": ref, "required": ["name"], "not": {"required": ["type"]}},
                ],
            },
        ]
    defs["Layer"] = {
        "description": "A layer: a mapping {name, type, ...}, a Lasagne tuple "
        "[name, Type, {params}] or [Type, {name, ...}], or a block use.",
        "anyOf": [*members, {"$ref": "#/$defs/BlockUse"}],
    }
    defs["Block"]["properties"]["layers"]["items"] = {"$ref": "#/$defs/Layer"}
    input_def = next(n for n in layer_defs if "InputLayer" in str(defs[n]["properties"]["type"]))
    defs["InputShorthand"] = {"$ref": f"#/$defs/{input_def}", "not": {"required": ["type"]}}

    properties = base["properties"]
    properties["layers"] = {**properties["layers"], "items": {"$ref": "#/$defs/Layer"}}
    properties["blocks"] = {
        "type": "object",
        "additionalProperties": {"$ref": "#/$defs/Block"},
        "description": "Named, parameterised groups of layers (use: NAME).",
    }
    properties["input"] = {"$ref": "#/$defs/InputShorthand"}
    properties["inputs"] = {"type": "array", "items": {"$ref": "#/$defs/InputShorthand"}}
    assert set(INPUT_KEYS) <= set(properties)
    train = defs[TrainConfig.__name__]["properties"]
    for key in train:
        if key in NOLEARN_TRAIN_KEYS or key.startswith("update"):
            properties.setdefault(key, train[key])
    properties = {k: _with_placeholders(v) for k, v in properties.items()}
    params = sorted(
        {p for e in entries() for p in e.schema.model_fields if p not in ("name", "type")}
    )
    flat = r"^[A-Za-z_][A-Za-z0-9_.\-]*_(" + "|".join(params) + ")$"
    return {
        "$schema": DIALECT,
        "title": "kerasbuild spec",
        "type": "object",
        "description": "A kerasbuild model spec (canonical, Lasagne tuple or nolearn flat form).",
        "properties": properties,
        "patternProperties": {flat: {}},
        "additionalProperties": False,
        "required": ["layers"],
        "$defs": defs,
    }


def _accept_prefixed_types(layer: dict[str, Any]) -> None:
    """``type: Conv2DLayer`` also as ``layers.Conv2DLayer``, ``lasagne.layers.Conv2DLayer``..."""
    prop = layer["properties"]["type"]
    names = prop.pop("enum", None) or [prop.pop("const")]
    prop["enum"] = [*names, *(prefix + n for prefix in MODULE_PREFIXES for n in names)]


def _accept_auto(layer: dict[str, Any]) -> None:
    """The sizes taken from the data (:data:`.auto.AUTO_FIELDS`) also take ``auto``."""
    types = set(layer["properties"]["type"]["enum"])
    for type_name, fields in AUTO_FIELDS.items():
        if type_name in types:
            for field in fields:
                if field in layer["properties"]:
                    prop = layer["properties"][field]
                    layer["properties"][field] = {
                        "anyOf": [prop, {"const": AUTO}],
                        "description": prop.get("description", ""),
                    }
                    layer["required"] = [r for r in layer.get("required", []) if r != field] + [
                        field
                    ]


def _with_placeholders(node: Any, key: str | None = None) -> Any:
    """Every scalar schema under ``node`` also accepts a placeholder or a ``$param``; a layer's
    or hook's ``type`` (what selects the member of a union) stays as it is."""
    if isinstance(node, list):
        return [_with_placeholders(item) for item in node]
    if not isinstance(node, dict) or key == "type":
        return node
    out = {}
    for k, value in node.items():
        if k in ("properties", "patternProperties"):
            out[k] = {name: _with_placeholders(v, name) for name, v in value.items()}
        elif k in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"):
            out[k] = _with_placeholders(value)
        else:
            out[k] = value
    if node.get("type") in _SCALARS or "enum" in node or "const" in node:
        return {"anyOf": [out, _VARIABLE]}
    return out
