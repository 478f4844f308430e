"""Compile a loaded spec into a ``keras.Model`` (functional API, channels-last)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .spec.loader import LoadedSpec, load_spec


def build_model(spec: LoadedSpec | str | Path | dict[str, Any], **load_kwargs: Any):
    """Build the Keras model for ``spec`` (a :class:`LoadedSpec`, a path or a mapping).

    Layer names in the model are the spec's layer names; helper layers a spec layer needs
    (implicit flatten, explicit padding, separate activations) are named ``<layer>_<role>``.
    """
    import keras

    from .layers import keras_layers  # noqa: F401  (registers the custom layers)

    loaded = spec if isinstance(spec, LoadedSpec) else load_spec(spec, **load_kwargs)
    graph = loaded.graph
    tensors: dict[str, Any] = {}
    by_index = sorted(graph.nodes, key=lambda n: n.index)
    pending = list(by_index)
    while pending:
        progressed = []
        for node in pending:
            if all(r in tensors for r in node.inputs):
                make = node.entry.build(node.params, node.name)
                tensors[node.name] = make([tensors[r] for r in node.inputs])
                progressed.append(node)
        if not progressed:
            raise RuntimeError("unreachable: graph order was validated")
        pending = [n for n in pending if n not in progressed]
    inputs = [tensors[n.name] for n in graph.inputs]
    outputs = [tensors[name] for name in graph.outputs]
    return keras.Model(inputs=inputs if len(inputs) > 1 else inputs[0],
                       outputs=outputs if len(outputs) > 1 else outputs[0], name=loaded.name)
