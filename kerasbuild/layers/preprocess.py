"""In-model preprocessing, as keras.applications models carry it: rescaling by constants
(Keras ``Rescaling``) and per-feature normalisation (Keras ``Normalization``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import LayerBase
from .registry import Inferred, ShapeError, Shapes, register


class RescalingParams(LayerBase):
    """Rescaling(scale, offset=0): ``x * scale + offset`` (e.g. ``scale: 0.00392156862745098``
    maps 0-255 pixels to 0-1). ``scale`` and ``offset``: a number or one per channel.

    Shape unchanged, no parameters. Example: ``{name: rescale, type: Rescaling, scale: 0.0078125,
    offset: -1}``.
    """

    scale: float | list[float] = Field(description="Factor: one number or one per channel.")
    offset: float | list[float] = Field(
        0.0, description="Added after scaling: one number or one per channel."
    )


def _per_channel(value, shape, what: str) -> None:
    if isinstance(value, list) and (not shape or len(value) != shape[-1]):
        raise ShapeError(
            f"{what} has {len(value)} values; the input has {shape[-1] if shape else 0} channels"
        )


def _infer_rescaling(p: RescalingParams, shapes) -> Inferred:
    (shape,) = shapes
    _per_channel(p.scale, shape, "scale")
    _per_channel(p.offset, shape, "offset")
    return Inferred(tuple(shape), 0)


def _build_rescaling(p: RescalingParams, name: str, shapes: Shapes):
    import keras

    layer = keras.layers.Rescaling(p.scale, p.offset, name=name)
    return lambda inputs: layer(inputs[0])


register(
    "Rescaling",
    schema=RescalingParams,
    infer=_infer_rescaling,
    build=_build_rescaling,
    positional=("scale", "offset"),
)


class NormalizationParams(LayerBase):
    """Normalization(mean=null, variance=null, invert=false): ``(x - mean) / sqrt(variance)``
    per channel (the last axis); ``invert: true`` undoes it.

    Given ``mean`` and ``variance`` (a number or one per channel) they are constants and the
    layer has no parameters. Without them the layer holds ``2 * C + 1`` non-trainable values
    (mean, variance and Keras' sample count; initially 0, 1 and 0), as EfficientNet does, which
    loaded weights fill in. Example: ``{name: norm, type: Normalization, mean: [0.485, 0.456,
    0.406], variance: [0.052, 0.050, 0.051]}``.
    """

    mean: float | list[float] | None = None
    variance: float | list[float] | None = None
    invert: bool = False

    @model_validator(mode="after")
    def _both(self) -> NormalizationParams:
        if (self.mean is None) != (self.variance is None):
            raise ValueError("give both mean and variance, or neither (then they are weights)")
        variances = self.variance if isinstance(self.variance, list) else [self.variance or 1.0]
        if any(v <= 0 for v in variances):
            raise ValueError(f"variance must be > 0, got {self.variance}")
        return self


def _infer_normalization(p: NormalizationParams, shapes) -> Inferred:
    (shape,) = shapes
    if not shape or shape[-1] is None:
        raise ShapeError(f"Normalization needs a known channel (last) axis, got {list(shape)}")
    _per_channel(p.mean, shape, "mean")
    _per_channel(p.variance, shape, "variance")
    params = 0 if p.mean is not None else 2 * shape[-1] + 1
    return Inferred(tuple(shape), params, 0)


def _build_normalization(p: NormalizationParams, name: str, shapes: Shapes):
    import keras

    layer = keras.layers.Normalization(
        axis=-1, mean=p.mean, variance=p.variance, invert=p.invert, name=name
    )
    return lambda inputs: layer(inputs[0])


register(
    "Normalization",
    schema=NormalizationParams,
    infer=_infer_normalization,
    build=_build_normalization,
    positional=("mean", "variance"),
)
