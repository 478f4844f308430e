"""Example inputs for a loaded spec and shape comparisons, for tests that run the models
:mod:`kerasbuild.build` builds."""

from __future__ import annotations

from typing import Any


def build_probe(loaded) -> tuple[Any, dict[str, Any]]:
    """``(keras.Model, {layer name: Keras tensor})`` built by kerasbuild's own builder."""
    from kerasbuild.build import assemble_model, build_tensors

    tensors = build_tensors(loaded.graph)
    return assemble_model(loaded.graph, tensors, loaded.name), tensors


def example_batch(loaded, batch: int = 2, seed: int = 0) -> Any:
    """Random inputs for every InputLayer (unknown sizes become 5; int inputs in range)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = []
    for node in loaded.graph.inputs:
        shape = (batch, *(5 if d is None else d for d in node.shape))
        if node.params.dtype.startswith("int"):
            vocab = min(
                n.params.input_size for n in loaded.graph.nodes if n.entry.name == "EmbeddingLayer"
            )
            arrays.append(rng.integers(0, vocab, size=shape).astype(node.params.dtype))
        else:
            arrays.append(rng.normal(size=shape).astype("float32"))
    return arrays if len(arrays) > 1 else arrays[0]


def matches(actual: tuple[int, ...], inferred: tuple[int | None, ...]) -> bool:
    """A concrete array shape (without batch) agrees with an inferred one (``None``: any size)."""
    return len(actual) == len(inferred) and all(
        d is None or a == d for a, d in zip(actual, inferred)
    )


def run(model, batch) -> Any:
    """The model's inference output as numpy, called eagerly (no tf.function tracing)."""
    import keras

    return keras.ops.convert_to_numpy(model(batch, training=False))
