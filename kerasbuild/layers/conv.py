"""Convolutions over 1, 2 or 3 spatial axes (Lasagne ``Conv{1,2,3}DLayer``, Keras ``Conv{1,2,3}D``).

Input ``(*spatial, channels)`` (channels-last) -> ``(*spatial_out, num_filters)`` where each
spatial size is ``(L + 2*pad - ((k-1)*dilation+1)) // stride + 1``; ``pad`` is ``valid`` (0),
``same`` (TensorFlow's SAME: ``ceil(L / stride)``), ``full`` (``k-1``) or explicit integers.
Parameters: ``prod(k) * (C / num_groups) * num_filters + num_filters``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from .base import (
    Init,
    LayerBase,
    Nonlinearity,
    conv_output_length,
    int_tuple,
    product,
    require_rank,
)
from .registry import Inferred, KerasForm, ShapeError, Shapes, register
from .regularize import WeightPenalties

_KERAS_NAMES = {
    "filters": "num_filters",
    "kernel_size": "filter_size",
    "strides": "stride",
    "padding": "pad",
    "dilation_rate": "dilation",
    "activation": "nonlinearity",
    "kernel_initializer": "W",
    "bias_initializer": "b",
    "groups": "num_groups",
}


class KernelParams(LayerBase, WeightPenalties):
    """The fields a convolution and a transposed convolution share: filters, kernel, stride,
    nonlinearity, weights and bias."""

    rank: ClassVar[int] = 2
    num_filters: int = Field(ge=1, description="Number of output channels.")
    filter_size: int | tuple[int, ...] = Field(description="Kernel size per spatial axis.")
    stride: int | tuple[int, ...] = 1
    untie_biases: bool = False
    nonlinearity: Nonlinearity = "rectify"
    W: Init = "GlorotUniform"
    b: Init | None = 0.0

    @field_validator("untie_biases")
    @classmethod
    def _tied(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "untie_biases: true (a bias per output position) is not supported by "
                "Keras convolutions; remove it or add a BiasLayer with shared_axes: []"
            )
        return value


class ConvParams(KernelParams):
    """Conv2DLayer(num_filters, filter_size, stride=1, pad=0, dilation=1, nonlinearity=rectify).

    ``filter_size``, ``stride``, ``dilation``: an integer or one per spatial axis.
    ``pad``: ``valid``/0, ``same``, ``full``, an integer or one integer per spatial axis
    (zeros added on both sides). ``untie_biases: true`` (one bias per position) has no Keras
    counterpart and is refused. Example: ``{name: conv1, type: Conv2DLayer, num_filters: 32,
    filter_size: 3}``.
    """

    pad: Literal["valid", "same", "full"] | int | tuple[int, ...] = 0
    dilation: int | tuple[int, ...] = 1
    num_groups: int = Field(
        1, ge=1, description="Grouped convolution: input channels split into groups."
    )

    @field_validator("pad", mode="before")
    @classmethod
    def _pad(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(value)
        return value

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return (
            int_tuple(self.filter_size, self.rank, "filter_size"),
            int_tuple(self.stride, self.rank, "stride"),
            int_tuple(self.dilation, self.rank, "dilation"),
        )

    def pads(self) -> tuple[Any, ...]:
        if isinstance(self.pad, str):
            return (self.pad,) * self.rank
        return int_tuple(self.pad, self.rank, "pad", minimum=0)


def _check(p: ConvParams) -> None:
    try:
        p.sizes()
        p.pads()
    except ValueError as exc:
        raise ShapeError(str(exc)) from None


def _infer(p: ConvParams, shapes) -> Inferred:
    (shape,) = shapes
    _check(p)
    require_rank(
        shape,
        p.rank + 1,
        f"a {p.rank}D convolution",
        " (spatial axes then channels; for Lasagne NCHW input use input_shape with a leading null)",
    )
    kernel, stride, dilation = p.sizes()
    channels = shape[-1]
    if channels is None:
        raise ShapeError("the channel axis of a convolution's input must be known")
    if channels % p.num_groups or p.num_filters % p.num_groups:
        raise ShapeError(
            f"num_groups={p.num_groups} must divide both the input channels ({channels}) "
            f"and num_filters ({p.num_filters})"
        )
    out = []
    for axis, (length, k, s, d, pad) in enumerate(
        zip(shape[:-1], kernel, stride, dilation, p.pads())
    ):
        size = conv_output_length(length, k, s, pad, d)
        if size is not None and size < 1:
            raise ShapeError(
                f"kernel {list(kernel)} (dilation {list(dilation)}) is larger than the "
                f"padded input along spatial axis {axis} (size {length}, pad {pad}); "
                "use a smaller filter_size or pad: same"
            )
        out.append(size)
    weights = product(kernel) * (channels // p.num_groups) * p.num_filters
    return Inferred((*out, p.num_filters), weights + (p.num_filters if p.b is not None else 0))


def _build(p: ConvParams, name: str, shapes: Shapes):
    import keras

    from . import keras_parts as kp

    kernel, stride, dilation = p.sizes()
    pads = p.pads()
    explicit = None
    padding = "valid"
    if all(x == "same" for x in pads):
        padding = "same"
    elif all(x == "valid" or x == 0 for x in pads):
        padding = "valid"
    else:
        explicit = tuple(
            (k - 1) * d if x == "full" else int(x) for x, k, d in zip(pads, kernel, dilation)
        )
    conv_cls = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}[p.rank]
    pad_cls = {
        1: keras.layers.ZeroPadding1D,
        2: keras.layers.ZeroPadding2D,
        3: keras.layers.ZeroPadding3D,
    }[p.rank]
    conv = conv_cls(
        p.num_filters,
        kernel,
        strides=stride,
        padding=padding,
        dilation_rate=dilation,
        groups=p.num_groups,
        activation=kp.activation_arg(p.nonlinearity),
        **kp.weight_args(p.W, p.b, p, list(range(p.rank + 1))),
        name=name,
    )
    padder = None
    if explicit is not None:
        padder = pad_cls(explicit[0] if p.rank == 1 else explicit, name=f"{name}_pad")
    separate = (
        kp.activation_layer(p.nonlinearity, f"{name}_act")
        if kp.needs_separate_activation(p.nonlinearity)
        else None
    )

    def make(inputs):
        (x,) = inputs
        if padder is not None:
            x = padder(x)
        x = conv(x)
        return separate(x) if separate is not None else x

    return make


def _conv_schema(rank: int) -> type[ConvParams]:
    doc = ConvParams.__doc__.replace("Conv2DLayer", f"Conv{rank}DLayer")
    return type(
        f"Conv{rank}DLayerParams",
        (ConvParams,),
        {"__doc__": doc, "rank": rank, "__module__": __name__},
    )


for _rank in (1, 2, 3):
    _backends = ("Conv2DDNNLayer", "Conv2DCCLayer", "Conv2DMMLayer") if _rank == 2 else ()
    register(
        f"Conv{_rank}DLayer",
        positional=("num_filters", "filter_size", "stride", "pad"),
        schema=_conv_schema(_rank),
        infer=_infer,
        build=_build,
        aliases=("DilatedConv2DLayer",) if _rank == 2 else (),
        variants=dict.fromkeys(_backends, "Conv2DLayer"),
        keras={
            f"Conv{_rank}D": KerasForm(
                rename=_KERAS_NAMES, defaults={"nonlinearity": None, "pad": "valid"}
            )
        },
    )


class TransposedConvParams(KernelParams):
    """TransposedConv2DLayer(num_filters, filter_size, stride=1, crop=0, output_padding=0,
    nonlinearity=rectify, W=GlorotUniform, b=0): the transpose of a 2D convolution (upsampling).

    Input ``(H, W, C)`` -> ``(H', W', num_filters)`` (3D: ``(D, H, W, C)``) with, per spatial axis,
    ``L' = (L - 1) * stride + filter_size - 2 * crop + output_padding``. ``crop``: ``valid``/0,
    ``same`` (``filter_size // 2``), ``full`` (``filter_size - 1``), an integer or one per axis.
    ``output_padding`` (``< stride``, Keras' name): rows/columns added at the end; ``null`` is
    Keras' automatic choice, ``L * stride`` for ``same`` and ``(L - 1) * stride +
    max(filter_size, stride)`` for ``valid``. Lasagne's ``output_size`` (the wanted ``L'`` per
    axis, when ``stride > 1`` allows several) sets ``output_padding`` from the input size.
    Parameters ``prod(filter_size) * C * num_filters + num_filters``. Example: ``{name: up1, type:
    TransposedConv2DLayer, num_filters: 16, filter_size: 3, stride: 2, crop: same}``.
    """

    crop: Literal["valid", "same", "full"] | int | tuple[int, ...] = 0
    output_padding: int | tuple[int, ...] | None = 0
    output_size: int | tuple[int, ...] | None = None

    @field_validator("crop", "output_padding", "output_size", mode="before")
    @classmethod
    def _tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    def sizes(
        self,
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...], tuple[int, ...] | None]:
        """``(filter_size, stride, crop per axis, output_padding per axis or None)``."""
        kernel = int_tuple(self.filter_size, self.rank, "filter_size")
        stride = int_tuple(self.stride, self.rank, "stride")
        crop = (
            (self.crop,) * self.rank
            if isinstance(self.crop, str)
            else int_tuple(self.crop, self.rank, "crop", 0)
        )
        extra = (
            None
            if self.output_padding is None
            else int_tuple(self.output_padding, self.rank, "output_padding", 0)
        )
        if extra is None and any(c not in ("valid", "same", 0) for c in crop):
            raise ValueError(
                "output_padding: null (Keras' automatic size) only goes with crop "
                f"valid or same, got crop {self.crop!r}; give output_padding: 0"
            )
        if self.output_size is not None and any(extra or (1,)):
            raise ValueError(
                "give either output_size (Lasagne) or output_padding (Keras), not both"
            )
        if extra is not None and any(e >= s for e, s in zip(extra, stride)):
            raise ValueError(
                f"output_padding {list(extra)} must be smaller than stride {list(stride)}"
            )
        return kernel, stride, crop, extra

    def extra_for(self, spatial: tuple[int | None, ...]) -> tuple[int, ...] | None:
        """``output_padding`` per axis for an input of spatial size ``spatial`` (``output_size``
        resolved); raises :class:`ShapeError` when that size cannot be reached."""
        try:
            kernel, stride, crop, extra = self.sizes()
            if self.output_size is None:
                return extra
            wanted = int_tuple(self.output_size, self.rank, "output_size")
        except ValueError as exc:
            raise ShapeError(str(exc)) from None
        if any(length is None for length in spatial):
            raise ShapeError(f"output_size needs known input sizes, got {list(spatial)}")
        smallest = [
            (length - 1) * s + k - 2 * _crop_amount(c, k)
            for length, k, s, c in zip(spatial, kernel, stride, crop)
        ]
        extra = tuple(w - m for w, m in zip(wanted, smallest))
        if any(not 0 <= e < s for e, s in zip(extra, stride)):
            options = [f"{m}..{m + s - 1}" for m, s in zip(smallest, stride)]
            raise ShapeError(
                f"output_size {list(wanted)} cannot be reached from input {list(spatial)}; "
                f"possible sizes per axis: {', '.join(options)}"
            )
        return extra


def _crop_amount(crop: Any, kernel: int) -> int:
    return {"valid": 0, "same": kernel // 2, "full": kernel - 1}.get(crop, crop)


def _infer_transposed(p: TransposedConvParams, shapes) -> Inferred:
    (shape,) = shapes
    try:
        kernel, stride, crop, extra = p.sizes()
    except ValueError as exc:
        raise ShapeError(str(exc)) from None
    require_rank(
        shape, p.rank + 1, f"a transposed {p.rank}D convolution", " (spatial axes, then channels)"
    )
    extra = p.extra_for(shape[:-1])
    channels = shape[-1]
    if channels is None:
        raise ShapeError("the channel axis of a transposed convolution's input must be known")
    out = []
    for axis, length in enumerate(shape[:-1]):
        k, s, c = kernel[axis], stride[axis], crop[axis]
        if length is None:
            out.append(None)
            continue
        if extra is None:
            size = length * s if c == "same" else (length - 1) * s + max(k, s)
        else:
            size = (length - 1) * s + k - 2 * _crop_amount(c, k) + extra[axis]
        if size < 1:
            raise ShapeError(
                f"crop {p.crop!r} removes everything along spatial axis {axis} "
                f"(size {length}, filter_size {k}); crop less"
            )
        out.append(size)
    weights = product(kernel) * channels * p.num_filters
    return Inferred((*out, p.num_filters), weights + (p.num_filters if p.b is not None else 0))


def _build_transposed(p: TransposedConvParams, name: str, shapes: Shapes):
    import keras

    from . import keras_parts as kp

    kernel, stride, crop, _ = p.sizes()
    separate = (
        kp.activation_layer(p.nonlinearity, f"{name}_act")
        if kp.needs_separate_activation(p.nonlinearity)
        else None
    )

    def make(inputs):
        (x,) = inputs
        extra = p.extra_for(shapes.inputs[0][:-1])
        # Keras' own 'same' only for its automatic size (L * stride); every other crop is a
        # 'valid' transposed convolution cropped explicitly (TensorFlow's 'same' fails for
        # some even kernels).
        same = extra is None and all(c == "same" for c in crop)
        x = getattr(keras.layers, f"Conv{p.rank}DTranspose")(
            p.num_filters,
            kernel,
            strides=stride,
            padding="same" if same else "valid",
            output_padding=extra,
            activation=kp.activation_arg(p.nonlinearity),
            **kp.weight_args(p.W, p.b, p, [*range(p.rank), p.rank + 1]),
            name=name,
        )(x)
        amounts = (0,) * p.rank if same else tuple(_crop_amount(c, k) for c, k in zip(crop, kernel))
        if any(amounts):
            x = getattr(keras.layers, f"Cropping{p.rank}D")(amounts, name=f"{name}_crop")(x)
        return separate(x) if separate is not None else x

    return make


for _rank in (2, 3):
    _schema = type(
        f"TransposedConv{_rank}DLayerParams",
        (TransposedConvParams,),
        {
            "__doc__": TransposedConvParams.__doc__.replace("2D", f"{_rank}D"),
            "rank": _rank,
            "__module__": __name__,
        },
    )
    register(
        f"TransposedConv{_rank}DLayer",
        positional=("num_filters", "filter_size", "stride", "crop"),
        schema=_schema,
        infer=_infer_transposed,
        build=_build_transposed,
        aliases=(f"Deconv{_rank}DLayer",),
        keras={
            f"Conv{_rank}DTranspose": KerasForm(
                rename={
                    **{
                        k: v
                        for k, v in _KERAS_NAMES.items()
                        if k not in ("dilation_rate", "groups", "padding")
                    },
                    "padding": "crop",
                },
                defaults={"nonlinearity": None, "crop": "valid", "output_padding": None},
            )
        },
    )
