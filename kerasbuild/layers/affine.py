"""Learned per-channel bias and scale (Lasagne ``BiasLayer``, ``ScaleLayer``).

LeNet-5's subsampling layers (average pooling times a trainable coefficient plus a trainable
bias per feature map) are ``Pool2DLayer`` + ``ScaleLayer`` + ``BiasLayer``. Also home of the
``shared_axes`` convention that ``ParametricRectifierLayer`` uses.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import Init, LayerBase, product
from .registry import Inferred, ShapeError, Shapes, register

SharedAxes = Literal["auto", "all"] | tuple[int, ...]
SHARED_AXES_DOC = (
    "Axes sharing one value, without the batch axis (0-based, negative from the end): "
    "auto = all but the channel (last) axis, all = one value, [] = one per position."
)


def shared_axes(value: SharedAxes, shape: tuple[int | None, ...]) -> tuple[int, ...]:
    """The shared axes as sorted non-negative indices into ``shape`` (no batch axis)."""
    rank = len(shape)
    if value == "auto":
        return tuple(range(rank - 1))
    if value == "all":
        return tuple(range(rank))
    for axis in value:
        if not -rank <= axis < rank:
            raise ShapeError(f"shared_axes entry {axis} is outside the input's axes 0..{rank - 1}")
    return tuple(sorted({a % rank for a in value}))


def value_count(value: SharedAxes, shape: tuple[int | None, ...]) -> int:
    """Number of learned values: the product of the non-shared sizes (which must be known)."""
    shared = shared_axes(value, shape)
    kept = [d for i, d in enumerate(shape) if i not in shared]
    if any(d is None for d in kept):
        raise ShapeError(
            f"the non-shared axes of the input must have known sizes, got {list(shape)} "
            f"with shared_axes {list(shared)}"
        )
    return product(kept)


class BiasParams(LayerBase):
    """BiasLayer(b=0, shared_axes=auto): adds a learned bias, one per channel by default.

    Shape unchanged; parameters: the product of the non-shared axes' sizes (``C`` for
    ``auto``). Example: ``{name: s2_bias, type: BiasLayer}``.
    """

    b: Init = Field(0.0, description="Initial bias.")
    shared_axes: SharedAxes = Field("auto", description=SHARED_AXES_DOC)


class ScaleParams(LayerBase):
    """ScaleLayer(scales=1, shared_axes=auto): multiplies by a learned scale, one per channel
    by default.

    Shape unchanged; parameters: the product of the non-shared axes' sizes (``C`` for
    ``auto``). Example: ``{name: s2_coeff, type: ScaleLayer}``.
    """

    scales: Init = Field(1.0, description="Initial scale.")
    shared_axes: SharedAxes = Field("auto", description=SHARED_AXES_DOC)


def _infer(p: BiasParams | ScaleParams, shapes) -> Inferred:
    (shape,) = shapes
    return Inferred(tuple(shape), value_count(p.shared_axes, shape))


def _builder(kind: str, init_field: str):
    def build(p: Any, name: str, shapes: Shapes):
        from . import keras_layers
        from . import keras_parts as kp

        cls = getattr(keras_layers, kind)

        def make(inputs):
            (x,) = inputs
            shared = shared_axes(p.shared_axes, shapes.inputs[0])
            return cls(shared, kp.initializer(getattr(p, init_field)), name=name)(x)

        return make

    return build


register(
    "BiasLayer",
    positional=("b", "shared_axes"),
    schema=BiasParams,
    infer=_infer,
    build=_builder("Bias", "b"),
)
register(
    "ScaleLayer",
    positional=("scales", "shared_axes"),
    schema=ScaleParams,
    infer=_infer,
    build=_builder("Scale", "scales"),
)
