"""Normalisation layers: batch normalisation (Lasagne ``BatchNormLayer``, Keras
``BatchNormalization``) and AlexNet's local response normalisation."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Init, LayerBase
from .registry import Inferred, KerasForm, ShapeError, Shapes, register


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


def _build(p: BatchNormParams, name: str, shapes: Shapes):
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


register("BatchNormLayer", positional=("axes", "epsilon", "alpha"), schema=BatchNormParams, infer=_infer, build=_build,
         keras={"BatchNormalization": KerasForm(
             rename={"beta_initializer": "beta", "gamma_initializer": "gamma"},
             convert={"momentum": lambda m: {"alpha": 1.0 - float(m)},
                      "center": _flag("beta"), "scale": _flag("gamma")},
             defaults={"epsilon": 1e-3, "alpha": 0.01})})


class LocalResponseNormParams(LayerBase):
    """LocalResponseNormalization2DLayer(alpha=1e-4, k=2, beta=0.75, n=5): AlexNet's
    normalisation across neighbouring channels.

    ``y_c = x_c / (k + alpha * sum_{|j - c| <= n // 2} x_j**2) ** beta`` over the channel (last)
    axis, as Lasagne computes it: ``alpha`` is not divided by ``n``. ``n`` (the window) is odd.
    Input ``(H, W, C)``, shape unchanged, no parameters.
    Example: ``{name: norm1, type: LocalResponseNormalization2DLayer}``.
    """

    alpha: float = Field(1e-4, ge=0, description="Scale of the sum of squares.")
    k: float = Field(2.0, gt=0, description="Additive constant.")
    beta: float = Field(0.75, ge=0, description="Exponent.")
    n: int = Field(5, ge=1, description="Number of adjacent channels summed (odd).")

    @field_validator("n")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"n must be odd (the window is centred on each channel), got {value}")
        return value


def _infer_lrn(p: LocalResponseNormParams, shapes) -> Inferred:
    (shape,) = shapes
    if len(shape) != 3 or shape[-1] is None:
        raise ShapeError("local response normalisation expects (height, width, channels) with "
                         f"known channels, got {list(shape)}")
    return Inferred(tuple(shape), 0)


def _build_lrn(p: LocalResponseNormParams, name: str, shapes: Shapes):
    from .keras_layers import LocalResponseNorm

    layer = LocalResponseNorm(p.alpha, p.k, p.beta, p.n, name=name)
    return lambda inputs: layer(inputs[0])


register("LocalResponseNormalization2DLayer", positional=("alpha", "k", "beta", "n"), schema=LocalResponseNormParams,
         infer=_infer_lrn, build=_build_lrn)
