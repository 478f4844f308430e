"""Normalisation layers: batch normalisation (Lasagne ``BatchNormLayer``, Keras
``BatchNormalization``)."""

from __future__ import annotations

from pydantic import Field

from .base import Init, LayerBase
from .registry import Inferred, KerasForm, ShapeError, register


class BatchNormParams(LayerBase):
    """BatchNormLayer(axes=auto, epsilon=1e-4, alpha=0.1, beta=0, gamma=1).

    Normalises each channel (the last axis) over the batch and spatial axes. Lasagne's
    ``alpha`` (weight of the new batch in the running averages) is Keras ``momentum = 1 - alpha``;
    ``epsilon`` has the same meaning. Shape unchanged; parameters ``4 * C`` (``gamma``, ``beta``
    trainable; running mean and variance not). ``beta: null`` / ``gamma: null`` drop them.
    Example: ``{name: bn1, type: BatchNormLayer}``.
    """

    epsilon: float = Field(1e-4, gt=0, description="Added to the variance for stability.")
    alpha: float = Field(0.1, gt=0, le=1, description="Running-average update weight (Keras: 1 - momentum).")
    beta: Init | None = 0.0
    gamma: Init | None = 1.0


def _infer(p: BatchNormParams, shapes) -> Inferred:
    (shape,) = shapes
    channels = shape[-1]
    if channels is None:
        raise ShapeError("batch normalisation needs a known channel (last) axis")
    trainable = channels * ((p.beta is not None) + (p.gamma is not None))
    return Inferred(tuple(shape), trainable + 2 * channels, trainable)


def _build(p: BatchNormParams, name: str):
    import keras

    from . import keras_parts as kp

    layer = keras.layers.BatchNormalization(
        axis=-1, momentum=1.0 - p.alpha, epsilon=p.epsilon,
        center=p.beta is not None, scale=p.gamma is not None,
        beta_initializer=kp.initializer(p.beta) if p.beta is not None else "zeros",
        gamma_initializer=kp.initializer(p.gamma) if p.gamma is not None else "ones", name=name)
    return lambda inputs: layer(inputs[0])


def _flag(field: str):
    def convert(value):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return {} if value else {field: None}
    return convert


register("BatchNormLayer", family="norm", schema=BatchNormParams, infer=_infer, build=_build,
         keras={"BatchNormalization": KerasForm(
             rename={"beta_initializer": "beta", "gamma_initializer": "gamma"},
             convert={"momentum": lambda m: {"alpha": 1.0 - float(m)},
                      "center": _flag("beta"), "scale": _flag("gamma")},
             defaults={"epsilon": 1e-3, "alpha": 0.01})})
