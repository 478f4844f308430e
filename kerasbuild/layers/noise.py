"""Regularisation by noise: dropout, spatial dropout and additive Gaussian noise.

All are identities at inference time and have no parameters; shapes are unchanged.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import LayerBase
from .registry import Inferred, KerasForm, ShapeError, Shapes, register


class DropoutParams(LayerBase):
    """DropoutLayer(p=0.5, rescale=True, shared_axes=[]): zeroes each input with probability p.

    Kept units are scaled by ``1/(1-p)`` during training (Lasagne's ``rescale: true``; Keras
    always rescales, so ``rescale: false`` is refused). ``shared_axes``: axes (without the
    batch axis, 0-based) that share one mask, e.g. ``[0, 1]`` on NHWC drops whole feature maps.
    Example: ``{name: drop1, type: DropoutLayer, p: 0.5}``.
    """

    p: float = Field(0.5, ge=0, lt=1, description="Probability of dropping a unit.")
    rescale: bool = True
    shared_axes: tuple[int, ...] = ()

    @field_validator("rescale")
    @classmethod
    def _rescale(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "rescale: false is not supported (Keras always rescales kept units by 1/(1-p))"
            )
        return value


def _infer_dropout(p: DropoutParams, shapes) -> Inferred:
    (shape,) = shapes
    for axis in p.shared_axes:
        if not 0 <= axis < len(shape):
            raise ShapeError(
                f"shared_axes entry {axis} is outside the input's axes 0..{len(shape) - 1}"
            )
    return Inferred(tuple(shape), 0)


def _build_dropout(p: DropoutParams, name: str, shapes: Shapes):
    import keras

    def make(inputs):
        (x,) = inputs
        noise_shape = None
        if p.shared_axes:
            noise_shape = [None] + [
                1 if i in p.shared_axes else None for i in range(len(shapes.inputs[0]))
            ]
        return keras.layers.Dropout(p.p, noise_shape=noise_shape, name=name)(x)

    return make


register(
    "DropoutLayer",
    positional=("p", "rescale", "shared_axes"),
    schema=DropoutParams,
    infer=_infer_dropout,
    build=_build_dropout,
    keras={"Dropout": KerasForm(rename={"rate": "p"})},
)


class SpatialDropoutParams(LayerBase):
    """SpatialDropoutLayer(p=0.5): drops whole feature maps (every position of a channel at once).

    Lasagne's ``spatial_dropout`` (a DropoutLayer sharing the mask over the spatial axes); Keras
    ``SpatialDropout1D/2D/3D``, picked by the input's rank: ``(L, C)``, ``(H, W, C)`` or
    ``(D, H, W, C)``. Shape unchanged, no parameters; kept maps are scaled by ``1/(1-p)``.
    Example: ``{name: sdrop, type: SpatialDropoutLayer, p: 0.2}``.
    """

    p: float = Field(0.5, ge=0, lt=1, description="Probability of dropping a feature map.")


def _infer_spatial(p: SpatialDropoutParams, shapes) -> Inferred:
    (shape,) = shapes
    if not 2 <= len(shape) <= 4:
        raise ShapeError(
            "spatial dropout needs 1 to 3 spatial axes and a channel axis, got shape "
            f"{list(shape)}; use DropoutLayer for flat inputs"
        )
    return Inferred(tuple(shape), 0)


def _build_spatial(p: SpatialDropoutParams, name: str, shapes: Shapes):
    import keras

    def make(inputs):
        (x,) = inputs
        cls = getattr(keras.layers, f"SpatialDropout{len(shapes.inputs[0]) - 1}D")
        return cls(p.p, name=name)(x)

    return make


register(
    "SpatialDropoutLayer",
    positional=("p",),
    schema=SpatialDropoutParams,
    infer=_infer_spatial,
    build=_build_spatial,
    keras={f"SpatialDropout{r}D": KerasForm(rename={"rate": "p"}) for r in (1, 2, 3)},
)


class GaussianNoiseParams(LayerBase):
    """GaussianNoiseLayer(sigma=0.1): adds zero-mean Gaussian noise of std ``sigma`` in training.

    Example: ``{name: noise, type: GaussianNoiseLayer, sigma: 0.05}``.
    """

    sigma: float = Field(0.1, ge=0, description="Standard deviation of the noise.")


def _build_noise(p: GaussianNoiseParams, name: str, shapes: Shapes):
    import keras

    layer = keras.layers.GaussianNoise(p.sigma, name=name)
    return lambda inputs: layer(inputs[0])


register(
    "GaussianNoiseLayer",
    positional=("sigma",),
    schema=GaussianNoiseParams,
    infer=lambda p, shapes: Inferred(tuple(shapes[0]), 0),
    build=_build_noise,
    keras={"GaussianNoise": KerasForm(rename={"stddev": "sigma"})},
)
