"""Nonlinearity layers (Lasagne ``NonlinearityLayer``, Keras ``Activation``) and the learned
parametric rectifier (Lasagne ``ParametricRectifierLayer``, Keras ``PReLU``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .affine import SHARED_AXES_DOC, SharedAxes, shared_axes, value_count
from .base import Init, LayerBase, Nonlinearity
from .registry import Inferred, KerasForm, Shapes, register


class NonlinearityParams(LayerBase):
    """NonlinearityLayer(nonlinearity=rectify): applies a nonlinearity element-wise.

    Shape unchanged, no parameters. Example: ``{name: relu1, type: NonlinearityLayer}``.
    """

    nonlinearity: Nonlinearity = "rectify"


def _build(p: NonlinearityParams, name: str, shapes: Shapes):
    import keras

    from . import keras_parts as kp

    layer = kp.activation_layer(p.nonlinearity, name) or keras.layers.Identity(name=name)
    return lambda inputs: layer(inputs[0])


register(
    "NonlinearityLayer",
    positional=("nonlinearity",),
    schema=NonlinearityParams,
    infer=lambda p, shapes: Inferred(tuple(shapes[0]), 0),
    build=_build,
    keras={"Activation": KerasForm(rename={"activation": "nonlinearity"})},
)


class ParametricRectifierParams(LayerBase):
    """ParametricRectifierLayer(alpha=0.25, shared_axes=auto): PReLU, ``max(x, 0) + alpha *
    min(x, 0)`` with a learned slope ``alpha`` (He et al. 2015).

    ``shared_axes``: ``auto`` (one slope per channel), ``all`` (one slope) or axes without the
    batch axis, 0-based. Shape unchanged; parameters: the product of the non-shared sizes.
    Keras ``PReLU`` (``shared_axes`` 1-based, default one slope per value, initial 0).
    Example: ``{name: prelu1, type: ParametricRectifierLayer}``.
    """

    alpha: Init = Field(0.25, description="Initial slope for negative inputs.")
    shared_axes: SharedAxes = Field("auto", description=SHARED_AXES_DOC)


def _infer_prelu(p: ParametricRectifierParams, shapes) -> Inferred:
    (shape,) = shapes
    return Inferred(tuple(shape), value_count(p.shared_axes, shape))


def _build_prelu(p: ParametricRectifierParams, name: str, shapes: Shapes):
    import keras

    from . import keras_parts as kp

    def make(inputs):
        (x,) = inputs
        shared = shared_axes(p.shared_axes, shapes.inputs[0])
        return keras.layers.PReLU(
            alpha_initializer=kp.initializer(p.alpha),
            shared_axes=[a + 1 for a in shared] or None,
            name=name,
        )(x)

    return make


def _keras_shared_axes(value: Any) -> dict[str, Any]:
    if value is None:
        return {"shared_axes": ()}
    axes = [value] if isinstance(value, int) else value
    if not isinstance(axes, list) or not all(isinstance(a, int) and a >= 1 for a in axes):
        raise ValueError(
            f"shared_axes must be axis numbers >= 1 (1 is the first axis after the "
            f"batch axis), got {value!r}"
        )
    return {"shared_axes": tuple(a - 1 for a in axes)}


register(
    "ParametricRectifierLayer",
    positional=("alpha", "shared_axes"),
    schema=ParametricRectifierParams,
    infer=_infer_prelu,
    build=_build_prelu,
    keras={
        "PReLU": KerasForm(
            rename={"alpha_initializer": "alpha"},
            convert={"shared_axes": _keras_shared_axes},
            defaults={"alpha": 0.0, "shared_axes": ()},
        )
    },
)
