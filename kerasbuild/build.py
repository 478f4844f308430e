"""Build a loaded spec's graph into a ``keras.Model`` (functional API, channels-last).

The graph was wired, ordered and shape-checked by :mod:`kerasbuild.spec.graph` without
TensorFlow; this module walks that order once and hands each layer's builder the shapes the
graph inferred (:class:`~kerasbuild.layers.registry.Shapes`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SpecError
from .layers import Shapes
from .precision import layer_policies
from .spec.freeze import frozen_layers, owner
from .spec.graph import Graph
from .spec.loader import LoadedSpec, load_spec


def build_model(spec: LoadedSpec | str | Path | dict[str, Any], **load_kwargs: Any):
    """Build the Keras model for ``spec`` (a :class:`LoadedSpec`, a path or a mapping).

    Layer names in the model are the spec's layer names; helper layers a spec layer needs
    (implicit flatten, explicit padding, separate activations) are named ``<layer>_<role>``.

    Layers marked ``trainable: false`` or matched by ``train.freeze`` are frozen.

    Every layer takes the global dtype policy (the run's ``precision``), except the output
    layers (with their helper layers), which are built under ``float32``
    (:func:`kerasbuild.precision.layer_policies`).
    """
    loaded = spec if isinstance(spec, LoadedSpec) else load_spec(spec, **load_kwargs)
    if loaded.autos:
        raise SpecError(
            [
                loaded.source.problem(
                    f"{a.field}: auto is known only from the data; train the spec (the run's "
                    "spec.yaml has "
                    f"the numbers) or write the size",
                    ("layers", a.index, a.field),
                )
                for a in loaded.autos
            ]
        )
    model = assemble_model(loaded.graph, build_tensors(loaded.graph), loaded.name)
    freeze_layers(model, loaded.graph, frozen_layers(loaded.spec, loaded.graph, loaded.source))
    return model


def freeze_layers(model: Any, graph: Graph, frozen: set[str]) -> None:
    """Freeze the Keras layers of the spec layers named in ``frozen`` (their helper layers
    included)."""
    names = {node.name for node in graph.nodes}
    for layer in model.layers:
        if owner(layer.name, names) in frozen:
            layer.trainable = False


def assemble_model(graph: Graph, tensors: dict[str, Any], name: str = "model"):
    """The ``keras.Model`` from ``graph``'s input layers to its outputs, given the tensors
    :func:`build_tensors` made."""
    import keras

    inputs = [tensors[n.name] for n in graph.inputs]
    outputs = [tensors[output] for output in graph.outputs]
    return keras.Model(
        inputs=inputs if len(inputs) > 1 else inputs[0],
        outputs=outputs if len(outputs) > 1 else outputs[0],
        name=name,
    )


def build_tensors(graph: Graph) -> dict[str, Any]:
    """``{layer name: its Keras output tensor}`` for every layer, built in ``graph.order``."""
    import keras

    from .layers import keras_layers  # noqa: F401  (registers the custom layers)

    policies = layer_policies(graph, keras.config.dtype_policy().name)
    tensors: dict[str, Any] = {}
    for node in graph.order:
        shapes = Shapes(tuple(graph.by_name[r].shape for r in node.inputs), node.shape)
        with _dtype_policy(policies[node.name]):
            make = node.entry.build(node.params, node.name, shapes)
            tensors[node.name] = make([tensors[r] for r in node.inputs])
    return tensors


@contextlib.contextmanager
def _dtype_policy(name: str) -> Iterator[None]:
    """Layers created inside take the dtype policy ``name`` (Keras has no policy scope)."""
    import keras

    previous = keras.config.dtype_policy()
    if previous.name == name:
        yield
        return
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
