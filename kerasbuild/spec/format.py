"""Canonical YAML output of a spec document (``kerasbuild fmt``)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .loader import LoadedSpec


def _flow(value: Any) -> Any:
    """Mappings and lists as YAML structures; layer entries and short lists on one line."""
    if isinstance(value, dict):
        out = CommentedMap((k, _flow(v)) for k, v in value.items())
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_flow(v) for v in value)
        if all(not isinstance(v, (dict, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def canonical_yaml(loaded: LoadedSpec) -> str:
    """The canonical document as YAML: one flow mapping per layer, blocks and placeholders kept."""
    doc = _flow(loaded.document)
    for layer in doc.get("layers", []):
        if isinstance(layer, CommentedMap):
            layer.fa.set_flow_style()
    for block in (doc.get("blocks") or {}).values():
        if isinstance(block, CommentedMap) and isinstance(block.get("params"), CommentedMap):
            block["params"].fa.set_flow_style()
        for layer in block.get("layers", []) if isinstance(block, dict) else []:
            if isinstance(layer, CommentedMap):
                layer.fa.set_flow_style()
    yaml = YAML()
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
