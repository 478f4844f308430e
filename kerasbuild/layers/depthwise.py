"""Depthwise and depthwise-separable convolutions (Keras ``DepthwiseConv2D``,
``SeparableConv1D``/``SeparableConv2D``; Lasagne had neither, so the Keras names and fields).

Input ``(*spatial, C)`` -> ``(*spatial_out, C * depth_multiplier)`` (depthwise) or
``(*spatial_out, filters)`` (separable), each spatial size ``ceil(L / stride)`` for
``padding: same`` and ``(L - ((k-1)*dilation+1)) // stride + 1`` for ``valid``.
Parameters: depthwise ``prod(k) * C * m (+ C * m bias)``; separable adds a pointwise
``C * m * filters`` kernel (+ ``filters`` bias).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from .base import LayerBase, Nonlinearity, conv_output_length, int_tuple, product, require_rank
from .registry import Inferred, ShapeError, Shapes, register


class DepthwiseParams(LayerBase):
    """DepthwiseConv2D(kernel_size, strides=1, padding=valid, depth_multiplier=1,
    dilation_rate=1, activation=null, use_bias=true): one spatial filter per input channel
    (times ``depth_multiplier``), no mixing across channels.

    Example (MobileNet): ``{name: dw, type: DepthwiseConv2D, kernel_size: 3, use_bias: false}``.
    """

    rank: ClassVar[int] = 2
    kernel_size: int | tuple[int, ...] = Field(description="Kernel size per spatial axis.")
    strides: int | tuple[int, ...] = 1
    padding: Literal["valid", "same"] = "valid"
    depth_multiplier: int = Field(1, description="Output channels per input channel (>= 1).")
    dilation_rate: int | tuple[int, ...] = 1
    activation: Nonlinearity = None
    use_bias: bool = True

    @field_validator("depth_multiplier")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(
                f"depth_multiplier must be >= 1 (output channels per input channel), got {value}"
            )
        return value

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """``(kernel_size, strides, dilation_rate)``, one entry per spatial axis."""
        try:
            return (
                int_tuple(self.kernel_size, self.rank, "kernel_size"),
                int_tuple(self.strides, self.rank, "strides"),
                int_tuple(self.dilation_rate, self.rank, "dilation_rate"),
            )
        except ValueError as exc:
            raise ShapeError(str(exc)) from None

    def spatial_out(self, shape) -> tuple[int | None, ...]:
        """Output spatial sizes for an input ``(*spatial, C)``; checks rank and size."""
        require_rank(shape, self.rank + 1, f"{self.type}", " (spatial axes then channels)")
        if shape[-1] is None:
            raise ShapeError(f"{self.type} needs a known channel (last) axis")
        kernel, strides, dilation = self.sizes()
        out = []
        for axis, (length, k, s, d) in enumerate(zip(shape[:-1], kernel, strides, dilation)):
            size = conv_output_length(length, k, s, self.padding, d)
            if size is not None and size < 1:
                raise ShapeError(
                    f"kernel {list(kernel)} is larger than the input along spatial axis "
                    f"{axis} (size {length}); use padding: same or a smaller kernel"
                )
            out.append(size)
        return tuple(out)


def _infer_depthwise(p: DepthwiseParams, shapes) -> Inferred:
    (shape,) = shapes
    channels = shape[-1] if shape else None
    out = p.spatial_out(shape)
    kernel, _, _ = p.sizes()
    width = channels * p.depth_multiplier
    return Inferred((*out, width), product(kernel) * width + (width if p.use_bias else 0))


def _keras_args(p: DepthwiseParams) -> dict:
    from . import keras_parts as kp

    kernel, strides, dilation = p.sizes()
    return {
        "kernel_size": kernel,
        "strides": strides,
        "padding": p.padding,
        "depth_multiplier": p.depth_multiplier,
        "dilation_rate": dilation,
        "use_bias": p.use_bias,
        "activation": kp.activation_arg(p.activation),
    }


def _with_activation(layer, p: DepthwiseParams, name: str):
    """``inputs -> layer(x)`` followed by a separate activation layer where Keras needs one."""
    from . import keras_parts as kp

    separate = (
        kp.activation_layer(p.activation, f"{name}_act")
        if kp.needs_separate_activation(p.activation)
        else None
    )

    def make(inputs):
        x = layer(inputs[0])
        return separate(x) if separate is not None else x

    return make


def _build_depthwise(p: DepthwiseParams, name: str, shapes: Shapes):
    import keras

    return _with_activation(keras.layers.DepthwiseConv2D(**_keras_args(p), name=name), p, name)


register(
    "DepthwiseConv2D",
    schema=DepthwiseParams,
    infer=_infer_depthwise,
    build=_build_depthwise,
    positional=("kernel_size",),
    aliases=("DepthwiseConv2DLayer",),
)


class SeparableParams(DepthwiseParams):
    """SeparableConv2D(filters, kernel_size, strides=1, padding=valid, depth_multiplier=1,
    dilation_rate=1, activation=null, use_bias=true): a depthwise convolution followed by a
    1x1 (pointwise) convolution to ``filters`` channels; one bias, after the pointwise step.

    Example (Xception): ``{name: sep1, type: SeparableConv2D, filters: 128, kernel_size: 3,
    padding: same, use_bias: false}``.
    """

    filters: int = Field(ge=1, description="Output channels of the pointwise convolution.")


def _infer_separable(p: SeparableParams, shapes) -> Inferred:
    (shape,) = shapes
    out = p.spatial_out(shape)
    kernel, _, _ = p.sizes()
    width = shape[-1] * p.depth_multiplier
    params = product(kernel) * width + width * p.filters + (p.filters if p.use_bias else 0)
    return Inferred((*out, p.filters), params)


def _build_separable(p: SeparableParams, name: str, shapes: Shapes):
    import keras

    cls = getattr(keras.layers, f"SeparableConv{p.rank}D")
    args = _keras_args(p)
    if p.rank == 1:
        args = {k: v[0] if isinstance(v, tuple) else v for k, v in args.items()}
    return _with_activation(cls(p.filters, **args, name=name), p, name)


for _rank in (1, 2):
    _schema = type(
        f"SeparableConv{_rank}DParams",
        (SeparableParams,),
        {
            "__doc__": SeparableParams.__doc__.replace("SeparableConv2D", f"SeparableConv{_rank}D"),
            "rank": _rank,
            "__module__": __name__,
        },
    )
    register(
        f"SeparableConv{_rank}D",
        schema=_schema,
        infer=_infer_separable,
        build=_build_separable,
        positional=("filters", "kernel_size"),
        aliases=(f"SeparableConv{_rank}DLayer",),
    )
