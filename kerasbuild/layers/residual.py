"""Parts of residual and transformer branches: stochastic depth, layer scale, a learned class
token and learned position embeddings (custom Keras layers in
:mod:`kerasbuild.layers.keras_layers`; Keras has none of them)."""

from __future__ import annotations

from pydantic import Field

from .base import LayerBase
from .registry import Inferred, ShapeError, Shapes, register


class StochasticDepthParams(LayerBase):
    """StochasticDepth(rate=0.1): in training, drops the whole input of an example (a residual
    branch) with probability ``rate`` and scales the rest by ``1 / (1 - rate)``; the identity at
    inference (Huang et al. 2016).

    Put it on the branch before the sum. Shape unchanged, no parameters. Example:
    ``{name: drop_path, type: StochasticDepth, rate: 0.1}``.
    """

    rate: float = Field(0.1, ge=0, lt=1, description="Probability of dropping the branch.")


def _same(p, shapes) -> Inferred:
    return Inferred(tuple(shapes[0]), 0)


def _build_stochastic_depth(p: StochasticDepthParams, name: str, shapes: Shapes):
    from .keras_layers import StochasticDepth

    layer = StochasticDepth(p.rate, name=name)
    return lambda inputs: layer(inputs[0])


register(
    "StochasticDepth",
    schema=StochasticDepthParams,
    infer=_same,
    build=_build_stochastic_depth,
    positional=("rate",),
)


class LayerScaleParams(LayerBase):
    """LayerScale(init_values=1e-6): multiplies each channel (the last axis) by a learned factor
    initialised to ``init_values`` (CaiT, ConvNeXt).

    Shape unchanged; parameters ``C``. Example: ``{name: scale, type: LayerScale}``.
    """

    init_values: float = Field(1e-6, description="Initial factor.")


def _last_axis(shape, what: str) -> int:
    if not shape or shape[-1] is None:
        raise ShapeError(f"{what} needs a known last (channel) axis, got shape {list(shape)}")
    return shape[-1]


def _infer_layer_scale(p: LayerScaleParams, shapes) -> Inferred:
    (shape,) = shapes
    return Inferred(tuple(shape), _last_axis(shape, "LayerScale"))


def _build_layer_scale(p: LayerScaleParams, name: str, shapes: Shapes):
    from .keras_layers import LayerScale

    layer = LayerScale(p.init_values, name=name)
    return lambda inputs: layer(inputs[0])


register(
    "LayerScale",
    schema=LayerScaleParams,
    infer=_infer_layer_scale,
    build=_build_layer_scale,
    positional=("init_values",),
)


class PositionEmbeddingParams(LayerBase):
    """PositionEmbedding(): adds a learned vector per position to a sequence ``(T, D)``.

    ``T`` must be known. Shape unchanged; parameters ``T * D``. Example (ViT):
    ``{name: pos, type: PositionEmbedding}``.
    """

    stddev: float = Field(0.02, gt=0, description="Standard deviation of the initial vectors.")


def _infer_position(p: PositionEmbeddingParams, shapes) -> Inferred:
    (shape,) = shapes
    if len(shape) != 2 or None in shape:
        raise ShapeError(
            f"PositionEmbedding expects a sequence (steps, features) of known size, "
            f"got shape {list(shape)}"
        )
    return Inferred(tuple(shape), shape[0] * shape[1])


def _build_position(p: PositionEmbeddingParams, name: str, shapes: Shapes):
    import keras

    from .keras_layers import PositionEmbedding

    layer = PositionEmbedding(keras.initializers.RandomNormal(stddev=p.stddev), name=name)
    return lambda inputs: layer(inputs[0])


register(
    "PositionEmbedding",
    schema=PositionEmbeddingParams,
    infer=_infer_position,
    build=_build_position,
)


class ClassTokenParams(LayerBase):
    """ClassToken(): prepends one learned token to a sequence, ``(T, D)`` -> ``(T + 1, D)``
    (ViT's class token; read it back with ``SliceLayer, indices: 0, axis: 0``).

    Parameters ``D``. Example: ``{name: cls, type: ClassToken}``.
    """


def _infer_class_token(p: ClassTokenParams, shapes) -> Inferred:
    (shape,) = shapes
    if len(shape) != 2:
        raise ShapeError(
            f"ClassToken expects a sequence (steps, features), got shape {list(shape)}"
        )
    steps = None if shape[0] is None else shape[0] + 1
    return Inferred((steps, shape[1]), _last_axis(shape, "ClassToken"))


def _build_class_token(p: ClassTokenParams, name: str, shapes: Shapes):
    from .keras_layers import ClassToken

    layer = ClassToken(name=name)
    return lambda inputs: layer(inputs[0])


register("ClassToken", schema=ClassTokenParams, infer=_infer_class_token, build=_build_class_token)
