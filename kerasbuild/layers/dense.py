"""Fully connected layer (Lasagne ``DenseLayer``, Keras ``Dense``)."""

from __future__ import annotations

from pydantic import Field

from .base import Init, LayerBase, Nonlinearity, product
from .registry import Inferred, KerasForm, ShapeError, Shapes, register
from .regularize import WeightPenalties

_KERAS_NAMES = {
    "units": "num_units",
    "activation": "nonlinearity",
    "kernel_initializer": "W",
    "bias_initializer": "b",
}


class DenseLayerParams(LayerBase, WeightPenalties):
    """DenseLayer(num_units, nonlinearity=rectify, W=GlorotUniform, b=0, num_leading_axes=1).

    Input ``(d1, ..., dk)`` -> output ``(num_units,)``: with ``num_leading_axes: 1`` (Lasagne's
    default) the input is flattened first, so a conv feature map feeds a dense layer directly;
    ``num_leading_axes: -1`` applies the layer to the last axis only (Keras ``Dense``; Lasagne's
    ``NINLayer``, a 1x1 convolution, is this form).
    Parameters: ``prod(d) * num_units + num_units`` (no bias when ``b: null``).
    Example: ``{name: hidden, type: DenseLayer, num_units: 500, nonlinearity: rectify}``.
    """

    num_units: int = Field(ge=1, description="Number of output units.")
    nonlinearity: Nonlinearity = "rectify"
    W: Init = "GlorotUniform"
    b: Init | None = 0.0
    num_leading_axes: int = Field(
        1, description="1: flatten the input first; -1: act on the last axis."
    )


def _infer(p: DenseLayerParams, shapes) -> Inferred:
    (shape,) = shapes
    if p.num_leading_axes == 1:
        if any(d is None for d in shape):
            raise ShapeError(
                f"cannot flatten an input of unknown size {list(shape)} into a dense layer"
            )
        fan_in, out = product(shape), (p.num_units,)
    elif p.num_leading_axes == -1:
        fan_in, out = shape[-1], (*shape[:-1], p.num_units)
        if fan_in is None:
            raise ShapeError(f"the last axis of the input must be known, got {list(shape)}")
    else:
        raise ShapeError(f"num_leading_axes must be 1 or -1, got {p.num_leading_axes}")
    return Inferred(out, fan_in * p.num_units + (p.num_units if p.b is not None else 0))


def _build(p: DenseLayerParams, name: str, shapes: Shapes):
    import keras

    from . import keras_parts as kp

    dense = keras.layers.Dense(
        p.num_units,
        activation=kp.activation_arg(p.nonlinearity),
        **kp.weight_args(p.W, p.b, p, 0),
        name=name,
    )
    separate = (
        kp.activation_layer(p.nonlinearity, f"{name}_act")
        if kp.needs_separate_activation(p.nonlinearity)
        else None
    )

    def make(inputs):
        (x,) = inputs
        if p.num_leading_axes == 1 and len(shapes.inputs[0]) > 1:
            x = keras.layers.Flatten(name=f"{name}_flatten")(x)
        x = dense(x)
        return separate(x) if separate is not None else x

    return make


register(
    "DenseLayer",
    positional=("num_units",),
    schema=DenseLayerParams,
    infer=_infer,
    build=_build,
    fixed={"NINLayer": {"num_leading_axes": -1}},
    keras={
        "Dense": KerasForm(
            rename=_KERAS_NAMES, defaults={"nonlinearity": None, "num_leading_axes": -1}
        )
    },
)
