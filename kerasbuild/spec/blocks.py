"""Reusable blocks: named, parameterised groups of layers instantiated with ``use:``.

.. code-block:: yaml

    blocks:
      conv_bn:
        params: {filters: null, stride: 1}      # null: required
        layers:
          - {name: conv, type: Conv2DLayer, num_filters: $filters, stride: $stride,
             filter_size: 3, pad: same, nonlinearity: linear, incoming: $input}
          - {name: bn, type: BatchNormLayer}
    layers:
      - {use: conv_bn, name: stem, with: {filters: 64}}
      - {use: conv_bn, name: body, repeat: 3, with: {filters: 128}}

A string value ``$p`` is replaced by parameter ``p``; ``$input`` is the layer feeding the block
(the previous layer, or the ``use`` entry's ``incoming``). Names are deterministic: layer
``conv`` of ``stem`` becomes ``stem_conv``; with ``repeat: n`` the k-th copy (k = 1..n) is
``body_k_conv``. Inner references are renamed; other names refer to outer layers. Later layers
may name the block (``stem``, or ``body_k``) to mean its last layer.

Blocks may use other blocks. A ``with`` value that names a layer of the enclosing block is
renamed like any inner reference, so a layer name can be passed down as a parameter (a
residual block's ``shortcut``); ``$input`` passed in ``with`` stays ``$input`` and so means
the input of the block that receives it (of each copy, with ``repeat``).
"""

from __future__ import annotations

from typing import Any

from ..errors import FieldPath, Problem, SpecError, did_you_mean
from .source import Source

MAX_EXPANDED_LAYERS = 10_000
MAX_NESTING = 8
USE_KEYS = ("use", "name", "with", "repeat", "incoming", "trainable")


def expand(source: Source) -> Source:
    """Return a :class:`Source` whose ``layers`` contain only concrete layers."""
    data = source.data
    blocks = data.get("blocks") or {}
    problems: list[Problem] = []
    if not isinstance(blocks, dict):
        raise source.error(
            "'blocks' must be a mapping from block name to {params, layers}", ("blocks",)
        )
    for bname, block in blocks.items():
        _check_block(source, bname, block, problems)
    if problems:
        raise SpecError(problems)
    if not any(isinstance(e, dict) and "use" in e for e in data["layers"]):
        return source

    positions = {p: v for p, v in source.positions.items() if p[:1] != ("layers",)}
    out_layers: list[dict[str, Any]] = []
    aliases: dict[str, str] = {}

    def emit(
        layer: dict[str, Any],
        origin: FieldPath,
        field_origin: FieldPath | None,
        from_with: dict[str, FieldPath] | None = None,
    ) -> None:
        """Locate the new layer at its ``use`` entry, each field at the template (or, for a
        ``$param`` given in ``with``, at that value)."""
        new = ("layers", len(out_layers))
        line, col = source.locate(origin)
        if line is not None:
            positions[new] = (line, col or 1)
        base = field_origin if field_origin is not None else origin
        for key in layer:
            line, col = source.locate((from_with or {}).get(key, base + (key,)))
            if line is not None:
                positions[new + (key,)] = (line, col or 1)
        out_layers.append(layer)
        if len(out_layers) > MAX_EXPANDED_LAYERS:
            raise source.error(
                f"blocks expand to more than {MAX_EXPANDED_LAYERS:,} layers; refused", origin
            )

    def instantiate(
        entry: dict[str, Any], origin: FieldPath, prev: str | None, depth: int
    ) -> str | None:
        bname = entry.get("use")
        if depth > MAX_NESTING:
            raise source.error(
                f"blocks nest deeper than {MAX_NESTING} levels (a block using itself?)", origin
            )
        unknown = [k for k in entry if k not in USE_KEYS]
        if unknown:
            raise source.error(
                f"unknown key '{unknown[0]}' in a block use{did_you_mean(unknown[0], USE_KEYS)}; "
                f"expected {', '.join(USE_KEYS)}",
                origin + (unknown[0],),
            )
        if not isinstance(bname, str) or bname not in blocks:
            raise source.error(
                f"unknown block '{bname}'{did_you_mean(str(bname), blocks)}; "
                f"defined blocks: {', '.join(blocks) or 'none'}",
                origin + ("use",),
            )
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise source.error(
                "a block use needs a 'name' (the prefix of its layers' names)", origin
            )
        repeat = entry.get("repeat", 1)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise source.error(
                f"repeat must be an integer >= 1, got {repeat!r}", origin + ("repeat",)
            )
        block = blocks[bname]
        params = dict(block.get("params") or {})
        given = entry.get("with") or {}
        if not isinstance(given, dict):
            raise source.error("'with' must be a mapping of block parameters", origin + ("with",))
        for key, value in given.items():
            if key not in params:
                raise source.error(
                    f"block '{bname}' has no parameter '{key}'{did_you_mean(key, params)}; "
                    f"its parameters: {', '.join(params) or 'none'}",
                    origin + ("with", key),
                )
            params[key] = value
        missing = [k for k, v in params.items() if v is None and k not in given]
        if missing:
            raise source.error(
                f"block '{bname}' needs a value for parameter '{missing[0]}' in 'with'",
                origin + ("with",),
            )
        trainable = entry.get("trainable", True)
        if not isinstance(trainable, bool):
            raise source.error(
                f"trainable must be true or false, got {trainable!r}", origin + ("trainable",)
            )
        current = entry.get("incoming", prev)
        for k in range(1, repeat + 1):
            prefix = name if repeat == 1 else f"{name}_{k}"
            current = _instantiate_once(
                bname,
                block,
                params,
                prefix,
                current,
                origin,
                depth,
                set(given),
                frozen=not trainable,
            )
            aliases[prefix] = current
        aliases[name] = current
        return current

    def _instantiate_once(
        bname, block, params, prefix, block_input, origin, depth, given, frozen: bool
    ) -> str | None:
        """One copy of the block; ``frozen`` (a ``trainable: false`` use) freezes all its layers."""
        inner = {
            layer["name"]
            for layer in block["layers"]
            if isinstance(layer, dict) and "name" in layer
        }
        last = block_input
        for t, template in enumerate(block["layers"]):
            tpath = ("blocks", bname, "layers", t)
            layer = _substitute(template, params, source, tpath)
            layer = _rename(layer, inner, prefix, block_input, last)
            if frozen:
                layer["trainable"] = False
            if "use" in layer:
                last = instantiate(layer, tpath, last, depth + 1)
                continue
            from_with = {
                key: origin + ("with", value[1:])
                for key, value in template.items()
                if isinstance(value, str) and value[1:] in given and value.startswith("$")
            }
            emit(layer, origin, tpath, from_with)
            last = layer["name"]
        return last

    prev: str | None = None
    for i, entry in enumerate(data["layers"]):
        if isinstance(entry, dict) and "use" in entry:
            prev = instantiate(entry, ("layers", i), prev, 1)
        else:
            new = ("layers", len(out_layers))
            for path, pos in source.positions.items():
                if path[:2] == ("layers", i):
                    positions[new + path[2:]] = pos
            out_layers.append(entry)
            prev = entry.get("name") if isinstance(entry, dict) else prev

    for layer in out_layers:
        for key in ("incoming",):
            if isinstance(layer.get(key), str) and layer[key] in aliases:
                layer[key] = aliases[layer[key]]
        if isinstance(layer.get("incomings"), list):
            layer["incomings"] = [
                aliases.get(n, n) if isinstance(n, str) else n for n in layer["incomings"]
            ]
    new_data = {k: v for k, v in data.items() if k != "blocks"}
    new_data["layers"] = out_layers
    if isinstance(data.get("outputs"), list):
        new_data["outputs"] = [
            aliases.get(n, n) if isinstance(n, str) else n for n in data["outputs"]
        ]
    return Source(new_data, source.file, positions)


def _check_block(source: Source, bname: str, block: Any, problems: list[Problem]) -> None:
    path = ("blocks", bname)
    if not isinstance(block, dict):
        problems.append(
            source.problem("a block must be a mapping with 'layers' (and optional 'params')", path)
        )
        return
    for key in block:
        if key not in ("params", "layers", "description"):
            problems.append(
                source.problem(
                    f"unknown key '{key}' in block{did_you_mean(key, ['params', 'layers'])}; "
                    "expected params, layers, description",
                    path + (key,),
                )
            )
    if not isinstance(block.get("layers"), list) or not block["layers"]:
        problems.append(source.problem("a block needs a non-empty 'layers' list", path))
    elif not all(
        isinstance(layer, dict) and isinstance(layer.get("name"), str) for layer in block["layers"]
    ):
        problems.append(
            source.problem(
                "every layer of a block must be a mapping with a 'name'", path + ("layers",)
            )
        )
    if "params" in block and not isinstance(block["params"], dict):
        problems.append(
            source.problem(
                "'params' must be a mapping of parameter names to defaults (null: required)",
                path + ("params",),
            )
        )


def _substitute(node: Any, params: dict[str, Any], source: Source, path: FieldPath) -> Any:
    if isinstance(node, str) and node.startswith("$") and node != "$input":
        key = node[1:]
        if key not in params:
            raise source.error(
                f"'{node}' is not a parameter of this block{did_you_mean(key, params)}; "
                f"its parameters: {', '.join(params) or 'none'}",
                path,
            )
        return params[key]
    if isinstance(node, dict):
        return {k: _substitute(v, params, source, path + (k,)) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, params, source, path + (i,)) for i, v in enumerate(node)]
    return node


def _rename(
    layer: dict[str, Any],
    inner: set[str],
    prefix: str,
    block_input: str | None,
    previous: str | None,
) -> dict[str, Any]:
    def ref(name: Any) -> Any:
        if name == "$input":
            return block_input
        if isinstance(name, str) and name in inner:
            return f"{prefix}_{name}"
        return name

    out = dict(layer)
    if "use" in out:
        out["name"] = f"{prefix}_{out['name']}"
        if "incoming" in out:
            out["incoming"] = ref(out["incoming"])
        if isinstance(out.get("with"), dict):
            out["with"] = {
                k: f"{prefix}_{v}" if isinstance(v, str) and v in inner else v
                for k, v in out["with"].items()
            }
        return out
    out["name"] = f"{prefix}_{layer['name']}"
    if "incoming" in out:
        out["incoming"] = ref(out["incoming"])
    elif "incomings" not in out and out.get("type") not in ("InputLayer", "Input"):
        out["incoming"] = previous
    if isinstance(out.get("incomings"), list):
        out["incomings"] = [ref(n) for n in out["incomings"]]
    return out
