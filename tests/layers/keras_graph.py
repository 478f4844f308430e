"""Build a loaded spec's graph node by node with each entry's ``build``, keeping every layer's
Keras output tensor so tests can compare it with the pure-Python inference."""

from __future__ import annotations

from typing import Any


def build_nodes(loaded) -> tuple[Any, dict[str, Any]]:
    """``(keras.Model, {layer name: Keras tensor})`` for ``loaded`` (a LoadedSpec)."""
    import keras

    from kerasbuild.layers import keras_layers  # noqa: F401  (registers the custom layers)

    graph = loaded.graph
    tensors: dict[str, Any] = {}
    pending = sorted(graph.nodes, key=lambda n: n.index)
    while pending:
        ready = [n for n in pending if all(r in tensors for r in n.inputs)]
        assert ready, "graph order was validated by load_spec"
        for node in ready:
            tensors[node.name] = node.entry.build(node.params, node.name)([tensors[r] for r in node.inputs])
        pending = [n for n in pending if n not in ready]
    inputs = [tensors[n.name] for n in graph.inputs]
    outputs = [tensors[name] for name in graph.outputs]
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0],
                        outputs if len(outputs) > 1 else outputs[0])
    return model, tensors


def example_batch(loaded, batch: int = 2, seed: int = 0) -> Any:
    """Random inputs for every InputLayer (unknown sizes become 5; int inputs in range)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = []
    for node in loaded.graph.inputs:
        shape = (batch, *(5 if d is None else d for d in node.shape))
        if node.params.dtype.startswith("int"):
            vocab = min(n.params.input_size for n in loaded.graph.nodes
                        if n.entry.name == "EmbeddingLayer")
            arrays.append(rng.integers(0, vocab, size=shape).astype(node.params.dtype))
        else:
            arrays.append(rng.normal(size=shape).astype("float32"))
    return arrays if len(arrays) > 1 else arrays[0]


def matches(actual: tuple[int, ...], inferred: tuple[int | None, ...]) -> bool:
    """A concrete array shape (without batch) agrees with an inferred one (``None``: any size)."""
    return len(actual) == len(inferred) and all(d is None or a == d for a, d in zip(actual, inferred))


def run(model, batch) -> Any:
    """The model's inference output as numpy, called eagerly (no tf.function tracing)."""
    import keras

    return keras.ops.convert_to_numpy(model(batch, training=False))
