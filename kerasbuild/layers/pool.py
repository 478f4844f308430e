"""Pooling over 1, 2 or 3 spatial axes (Lasagne ``Pool{1,2,3}DLayer``/``MaxPool{1,2,3}DLayer``,
Keras ``MaxPooling{1,2,3}D``/``AveragePooling{1,2,3}D``), global pooling, feature pooling
(maxout) and upscaling.

Input ``(*spatial, C)`` -> ``(*spatial_out, C)`` with ``(L + 2*pad - pool_size) // stride + 1``
per axis (``ignore_border: true``, Lasagne's default); no parameters. Modes: ``max``,
``average_inc_pad`` (padding zeros count), ``average_exc_pad`` (they do not), ``l2``
(``sqrt`` of the sum of squares, Nielsen's L2 pooling).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .base import LayerBase, conv_output_length, int_tuple, require_rank
from .registry import Inferred, KerasForm, ShapeError, Shapes, register


class PoolParams(LayerBase):
    """Pool2DLayer(pool_size, stride=None, pad=0, mode=max, ignore_border=True).

    ``stride`` defaults to ``pool_size`` (non-overlapping windows). ``pad``: 0, ``same`` or
    integers per axis; explicit padding is only supported with ``mode: max`` and
    ``average_inc_pad``. Example: ``{name: pool1, type: MaxPool2DLayer, pool_size: 2}``.
    """

    rank: ClassVar[int] = 2
    pool_size: int | tuple[int, ...] = Field(description="Window size per spatial axis.")
    stride: int | tuple[int, ...] | None = Field(
        None, description="Step per axis; null: pool_size."
    )
    pad: Literal["valid", "same"] | int | tuple[int, ...] = 0
    mode: Literal["max", "average_inc_pad", "average_exc_pad", "l2"] = "max"
    ignore_border: bool = True

    @field_validator("ignore_border")
    @classmethod
    def _border(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "ignore_border: false (partial windows at the border) is not supported; "
                "use pad: same to keep border pixels"
            )
        return value

    @field_validator("pad", mode="before")
    @classmethod
    def _pad(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _pad_mode(self) -> PoolParams:
        explicit = not isinstance(self.pad, str) and self.pad not in (0, (0,) * self.rank)
        if explicit and self.mode in ("average_exc_pad", "l2"):
            raise ValueError(
                f"explicit pad is not supported with mode {self.mode!r}; use pad: same "
                "or mode: average_inc_pad"
            )
        return self

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...]]:
        pool = int_tuple(self.pool_size, self.rank, "pool_size")
        stride = pool if self.stride is None else int_tuple(self.stride, self.rank, "stride")
        pads = (
            (self.pad,) * self.rank
            if isinstance(self.pad, str)
            else int_tuple(self.pad, self.rank, "pad", 0)
        )
        return pool, stride, pads


def _infer(p: PoolParams, shapes) -> Inferred:
    (shape,) = shapes
    try:
        pool, stride, pads = p.sizes()
    except ValueError as exc:
        raise ShapeError(str(exc)) from None
    require_rank(shape, p.rank + 1, f"a {p.rank}D pooling layer")
    out = []
    for axis, (length, k, s, pad) in enumerate(zip(shape[:-1], pool, stride, pads)):
        size = conv_output_length(length, k, s, pad)
        if size is not None and size < 1:
            raise ShapeError(
                f"pool_size {list(pool)} is larger than the input along spatial axis "
                f"{axis} (size {length}); it would shrink that side below 1"
            )
        out.append(size)
    return Inferred((*out, shape[-1]), 0)


def _build(p: PoolParams, name: str, shapes: Shapes):
    import keras

    from .keras_layers import L2Pooling

    pool, stride, pads = p.sizes()
    padding = "same" if all(x == "same" for x in pads) else "valid"
    explicit = None if isinstance(pads[0], str) or not any(pads) else pads
    if p.mode == "l2":
        layer = L2Pooling(pool, stride, padding, name=name)
    else:
        kind = "Max" if p.mode == "max" else "Average"
        size = pool[0] if p.rank == 1 else pool
        steps = stride[0] if p.rank == 1 else stride
        layer = getattr(keras.layers, f"{kind}Pooling{p.rank}D")(
            size, steps, padding=padding, name=name
        )
    padder = None
    if explicit is not None:
        pad_cls = getattr(keras.layers, f"ZeroPadding{p.rank}D")
        padder = pad_cls(explicit[0] if p.rank == 1 else explicit, name=f"{name}_pad")

    def make(inputs):
        (x,) = inputs
        if padder is not None:
            x = padder(x)
        return layer(x)

    return make


_KERAS_NAMES = {"strides": "stride", "padding": "pad"}

for _rank in (1, 2, 3):
    _schema = type(
        f"Pool{_rank}DLayerParams",
        (PoolParams,),
        {
            "__doc__": PoolParams.__doc__.replace("Pool2DLayer", f"Pool{_rank}DLayer"),
            "rank": _rank,
            "__module__": __name__,
        },
    )
    register(
        f"Pool{_rank}DLayer",
        positional=("pool_size", "stride", "pad", "ignore_border", "mode"),
        schema=_schema,
        infer=_infer,
        build=_build,
        fixed={f"MaxPool{_rank}DLayer": {"mode": "max"}},
        variants=dict.fromkeys(
            {2: ("MaxPool2DDNNLayer", "MaxPool2DCCLayer"), 3: ("MaxPool3DDNNLayer",)}.get(
                _rank, ()
            ),
            f"MaxPool{_rank}DLayer",
        ),
        keras={
            f"MaxPooling{_rank}D": KerasForm(
                rename=_KERAS_NAMES, defaults={"pad": "valid"}, fixed={"mode": "max"}
            ),
            f"AveragePooling{_rank}D": KerasForm(
                rename=_KERAS_NAMES, defaults={"pad": "valid"}, fixed={"mode": "average_inc_pad"}
            ),
        },
    )


class GlobalPoolParams(LayerBase):
    """GlobalPoolLayer(pool_function=mean): pools every spatial axis away.

    Input ``(*spatial, C)`` -> ``(C,)``, or ``(1, ..., 1, C)`` with ``keepdims: true`` (for
    squeeze-and-excitation); no parameters. ``pool_function``: ``mean`` or ``max``.
    Example: ``{name: gap, type: GlobalPoolLayer}``.
    """

    pool_function: Literal["mean", "max"] = "mean"
    keepdims: bool = Field(False, description="Keep the spatial axes, each of size 1.")


def _infer_global(p: GlobalPoolParams, shapes) -> Inferred:
    (shape,) = shapes
    if len(shape) < 2:
        raise ShapeError(f"global pooling needs spatial axes and channels, got shape {list(shape)}")
    return Inferred((*(1,) * (len(shape) - 1) * p.keepdims, shape[-1]), 0)


def _build_global(p: GlobalPoolParams, name: str, shapes: Shapes):
    import keras

    def make(inputs):
        (x,) = inputs
        rank = len(shapes.inputs[0]) - 1
        kind = "Average" if p.pool_function == "mean" else "Max"
        return getattr(keras.layers, f"Global{kind}Pooling{rank}D")(keepdims=p.keepdims, name=name)(
            x
        )

    return make


register(
    "GlobalPoolLayer",
    positional=("pool_function",),
    schema=GlobalPoolParams,
    infer=_infer_global,
    build=_build_global,
    keras={
        f"Global{kind}Pooling{rank}D": KerasForm(fixed={"pool_function": fn})
        for rank in (1, 2, 3)
        for kind, fn in (("Average", "mean"), ("Max", "max"))
    },
)


class FeaturePoolParams(LayerBase):
    """FeaturePoolLayer(pool_size, axis=-1, pool_function=max): maxout (Goodfellow et al. 2013).

    Pools groups of ``pool_size`` consecutive channels: ``(..., C)`` -> ``(..., C / pool_size)``;
    ``C`` must be a multiple of ``pool_size``. ``axis`` counts without the batch axis (the
    default ``-1`` is the channel axis in NHWC; Lasagne's ``axis=1`` meant channels in NCHW).
    No parameters. Example: ``{name: maxout1, type: FeaturePoolLayer, pool_size: 2}``.
    """

    pool_size: int = Field(ge=1, description="Number of channels pooled into one.")
    axis: int = -1
    pool_function: Literal["max", "mean"] = "max"


def _infer_feature(p: FeaturePoolParams, shapes) -> Inferred:
    (shape,) = shapes
    if not -len(shape) <= p.axis < len(shape):
        raise ShapeError(
            f"axis {p.axis} is outside the input's axes (rank {len(shape)} without batch)"
        )
    size = shape[p.axis]
    if size is None or size % p.pool_size:
        raise ShapeError(
            f"feature pooling needs the size of axis {p.axis} ({size}) to be a known "
            f"multiple of pool_size {p.pool_size}"
        )
    out = list(shape)
    out[p.axis] = size // p.pool_size
    return Inferred(tuple(out), 0)


def _build_feature(p: FeaturePoolParams, name: str, shapes: Shapes):
    from .keras_layers import FeaturePool

    layer = FeaturePool(p.pool_size, p.axis, p.pool_function, name=name)
    return lambda inputs: layer(inputs[0])


register(
    "FeaturePoolLayer",
    positional=("pool_size", "axis", "pool_function"),
    schema=FeaturePoolParams,
    infer=_infer_feature,
    build=_build_feature,
)


class UpscaleParams(LayerBase):
    """Upscale2DLayer(scale_factor, mode=repeat): repeats each row and column ``scale_factor``
    times (nearest-neighbour upsampling).

    ``(H, W, C)`` -> ``(H * s_h, W * s_w, C)``; no parameters. ``mode: repeat`` is Lasagne's
    default; ``bilinear`` interpolates (2D only; Keras ``UpSampling2D(interpolation='bilinear')``).
    Lasagne's ``mode: dilate`` (zeros between pixels) is not supported.
    Example: ``{name: up, type: Upscale2DLayer, scale_factor: 2}``.
    """

    rank: ClassVar[int] = 2
    scale_factor: int | tuple[int, ...] = Field(description="Factor per spatial axis.")
    mode: Literal["repeat", "bilinear"] = "repeat"

    @field_validator("mode", mode="before")
    @classmethod
    def _dilate(cls, value: Any) -> Any:
        if value == "dilate":
            raise ValueError(
                "mode: dilate (zeros between pixels) is not supported; use mode: repeat, "
                "or a TransposedConv2DLayer with stride"
            )
        return value

    @model_validator(mode="after")
    def _bilinear_2d(self) -> UpscaleParams:
        if self.mode == "bilinear" and self.rank != 2:
            raise ValueError(
                f"mode: bilinear is only available in 2D, not in Upscale{self.rank}DLayer"
            )
        return self

    def factors(self) -> tuple[int, ...]:
        return int_tuple(self.scale_factor, self.rank, "scale_factor")


def _interpolation(value: Any) -> dict[str, Any]:
    if value not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be nearest or bilinear, got {value!r}")
    return {"mode": "repeat" if value == "nearest" else "bilinear"}


def _infer_upscale(p: UpscaleParams, shapes) -> Inferred:
    (shape,) = shapes
    try:
        factors = p.factors()
    except ValueError as exc:
        raise ShapeError(str(exc)) from None
    require_rank(shape, p.rank + 1, f"Upscale{p.rank}DLayer", " (spatial axes, then channels)")
    return Inferred(
        tuple(None if d is None else d * f for d, f in zip(shape[:-1], factors)) + (shape[-1],), 0
    )


def _build_upscale(p: UpscaleParams, name: str, shapes: Shapes):
    import keras

    factors = p.factors()
    if p.rank == 1:
        layer = keras.layers.UpSampling1D(factors[0], name=name)
    elif p.rank == 2:
        layer = keras.layers.UpSampling2D(
            factors, interpolation="nearest" if p.mode == "repeat" else "bilinear", name=name
        )
    else:
        layer = keras.layers.UpSampling3D(factors, name=name)
    return lambda inputs: layer(inputs[0])


for _rank in (1, 2, 3):
    _schema = type(
        f"Upscale{_rank}DLayerParams",
        (UpscaleParams,),
        {
            "__doc__": UpscaleParams.__doc__.replace("Upscale2DLayer", f"Upscale{_rank}DLayer"),
            "rank": _rank,
            "__module__": __name__,
        },
    )
    register(
        f"Upscale{_rank}DLayer",
        positional=("scale_factor", "mode"),
        schema=_schema,
        infer=_infer_upscale,
        build=_build_upscale,
        keras={
            f"UpSampling{_rank}D": KerasForm(
                rename={"size": "scale_factor"},
                convert={"interpolation": _interpolation} if _rank == 2 else {},
            )
        },
    )
