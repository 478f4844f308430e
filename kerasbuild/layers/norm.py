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
    alpha: float = Field(
        0.1, gt=0, le=1, description="Running-average update weight (Keras: 1 - momentum)."
    )
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
        axis=-1,
        momentum=1.0 - p.alpha,
        epsilon=p.epsilon,
        center=p.beta is not None,
        scale=p.gamma is not None,
        beta_initializer=kp.initializer(p.beta) if p.beta is not None else "zeros",
        gamma_initializer=kp.initializer(p.gamma) if p.gamma is not None else "ones",
        name=name,
    )
    return lambda inputs: layer(inputs[0])


def _flag(field: str):
    def convert(value):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return {} if value else {field: None}

    return convert


register(
    "BatchNormLayer",
    positional=("axes", "epsilon", "alpha"),
    schema=BatchNormParams,
    infer=_infer,
    build=_build,
    keras={
        "BatchNormalization": KerasForm(
            rename={"beta_initializer": "beta", "gamma_initializer": "gamma"},
            convert={
                "momentum": lambda m: {"alpha": 1.0 - float(m)},
                "center": _flag("beta"),
                "scale": _flag("gamma"),
            },
            defaults={"epsilon": 1e-3, "alpha": 0.01},
        )
    },
)


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
        raise ShapeError(
            "local response normalisation expects (height, width, channels) with "
            f"known channels, got {list(shape)}"
        )
    return Inferred(tuple(shape), 0)


def _build_lrn(p: LocalResponseNormParams, name: str, shapes: Shapes):
    from .keras_layers import LocalResponseNorm

    layer = LocalResponseNorm(p.alpha, p.k, p.beta, p.n, name=name)
    return lambda inputs: layer(inputs[0])


register(
    "LocalResponseNormalization2DLayer",
    positional=("alpha", "k", "beta", "n"),
    schema=LocalResponseNormParams,
    infer=_infer_lrn,
    build=_build_lrn,
)


class LayerNormParams(LayerBase):
    """LayerNormalization(epsilon=1e-3, center=true, scale=true): normalises each example over
    its last (feature) axis, then ``gamma * x + beta`` per feature (Ba et al. 2016).

    Shape unchanged; parameters ``2 * C`` (``C``: the last axis), ``C`` each without
    ``center`` or ``scale``. Example (ViT, ConvNeXt): ``{name: ln1, type: LayerNormalization,
    epsilon: 1e-6}``.
    """

    epsilon: float = Field(1e-3, gt=0, description="Added to the variance for stability.")
    center: bool = Field(True, description="Learn an offset beta per feature.")
    scale: bool = Field(True, description="Learn a factor gamma per feature.")


def _affine_count(p: LayerNormParams, shape, what: str) -> int:
    channels = shape[-1] if shape else None
    if channels is None:
        raise ShapeError(f"{what} needs a known last (feature) axis, got shape {list(shape)}")
    return channels * (int(p.center) + int(p.scale))


def _infer_layer_norm(p: LayerNormParams, shapes) -> Inferred:
    (shape,) = shapes
    return Inferred(tuple(shape), _affine_count(p, shape, "layer normalisation"))


def _build_layer_norm(p: LayerNormParams, name: str, shapes: Shapes):
    import keras

    layer = keras.layers.LayerNormalization(
        epsilon=p.epsilon, center=p.center, scale=p.scale, name=name
    )
    return lambda inputs: layer(inputs[0])


register(
    "LayerNormalization",
    schema=LayerNormParams,
    infer=_infer_layer_norm,
    build=_build_layer_norm,
    aliases=("LayerNormLayer",),
)


class GroupNormParams(LayerNormParams):
    """GroupNormalization(groups=32, epsilon=1e-3, center=true, scale=true): normalises each
    example over groups of ``C / groups`` channels (and the spatial axes) (Wu and He 2018).

    ``groups`` must divide the channels ``C``; ``groups: -1`` is one group per channel
    (instance normalisation). Shape unchanged; parameters ``2 * C``. Example:
    ``{name: gn1, type: GroupNormalization, groups: 8}``.
    """

    groups: int = Field(32, description="Number of channel groups (divides the channels; -1: C).")

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: int) -> int:
        if value == 0 or value < -1:
            raise ValueError(f"groups must be >= 1 or -1 (one per channel), got {value}")
        return value


def _infer_group_norm(p: GroupNormParams, shapes) -> Inferred:
    (shape,) = shapes
    params = _affine_count(p, shape, "group normalisation")
    if p.groups != -1 and shape[-1] % p.groups:
        raise ShapeError(
            f"groups={p.groups} must divide the channels ({shape[-1]}); use a divisor "
            f"of {shape[-1]}, e.g. {_largest_divisor(shape[-1], p.groups)}"
        )
    return Inferred(tuple(shape), params)


def _largest_divisor(n: int, at_most: int) -> int:
    return max(d for d in range(1, min(n, at_most) + 1) if n % d == 0)


def _build_group_norm(p: GroupNormParams, name: str, shapes: Shapes):
    import keras

    layer = keras.layers.GroupNormalization(
        groups=p.groups, epsilon=p.epsilon, center=p.center, scale=p.scale, name=name
    )
    return lambda inputs: layer(inputs[0])


register(
    "GroupNormalization",
    schema=GroupNormParams,
    infer=_infer_group_norm,
    build=_build_group_norm,
    aliases=("GroupNormLayer",),
)
