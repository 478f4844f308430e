"""Token embeddings (Lasagne ``EmbeddingLayer``, Keras ``Embedding``)."""

from __future__ import annotations

from pydantic import Field

from .base import Init, InitSpec, LayerBase
from .registry import Inferred, KerasForm, Shapes, register


class EmbeddingParams(LayerBase):
    """EmbeddingLayer(input_size, output_size, W=Normal(std=0.01)): looks up a learned vector
    for each integer token id in ``0 .. input_size - 1``.

    Input ``(L,)`` of int32 ids (an ``InputLayer`` with ``dtype: int32``) -> ``(L,
    output_size)``; any input shape gains a last axis of ``output_size``. Parameters
    ``input_size * output_size``. Keras ``Embedding(input_dim, output_dim)`` (initialised
    uniformly in [-0.05, 0.05]). Example: ``{name: embed, type: EmbeddingLayer, input_size:
    10000, output_size: 64}``.
    """

    input_size: int = Field(ge=1, description="Vocabulary size (number of distinct ids).")
    output_size: int = Field(ge=1, description="Length of each embedding vector.")
    W: Init = Field(InitSpec(type="Normal", std=0.01), description="Initial embedding matrix.")


def _infer(p: EmbeddingParams, shapes) -> Inferred:
    (shape,) = shapes
    return Inferred((*shape, p.output_size), p.input_size * p.output_size)


def _build(p: EmbeddingParams, name: str, shapes: Shapes):
    import keras

    from . import keras_parts as kp

    layer = keras.layers.Embedding(
        p.input_size, p.output_size, embeddings_initializer=kp.initializer(p.W), name=name
    )
    return lambda inputs: layer(inputs[0])


register(
    "EmbeddingLayer",
    positional=("input_size", "output_size", "W"),
    schema=EmbeddingParams,
    infer=_infer,
    build=_build,
    keras={
        "Embedding": KerasForm(
            rename={
                "input_dim": "input_size",
                "output_dim": "output_size",
                "embeddings_initializer": "W",
            },
            defaults={"W": "random_uniform"},
        )
    },
)
