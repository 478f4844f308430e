"""Nonlinearity-only layers (Lasagne ``NonlinearityLayer``, Keras ``Activation``)."""

from __future__ import annotations

from .base import LayerBase, Nonlinearity
from .registry import Inferred, KerasForm, register


class NonlinearityParams(LayerBase):
    """NonlinearityLayer(nonlinearity=rectify): applies a nonlinearity element-wise.

    Shape unchanged, no parameters. Example: ``{name: relu1, type: NonlinearityLayer}``.
    """

    nonlinearity: Nonlinearity = "rectify"


def _build(p: NonlinearityParams, name: str):
    import keras

    from . import keras_parts as kp

    layer = kp.activation_layer(p.nonlinearity, name) or keras.layers.Identity(name=name)
    return lambda inputs: layer(inputs[0])


register("NonlinearityLayer", family="activation", schema=NonlinearityParams,
         infer=lambda p, shapes: Inferred(tuple(shapes[0]), 0), build=_build,
         keras={"Activation": KerasForm(rename={"activation": "nonlinearity"})})
