"""Input layers. Shapes are NHWC without the batch axis; a Lasagne shape with a leading
``null`` batch axis is NCHW and converted (``[null, 1, 28, 28]`` -> ``[28, 28, 1]``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .base import LayerBase
from .registry import Inferred, KerasForm, Shapes, register


def lasagne_to_nhwc(shape: list[Any]) -> tuple[int | None, ...]:
    """``[null, C, H, W]`` -> ``(H, W, C)``; ``[null, C, L]`` -> ``(L, C)``; ``[null, F]`` ->
    ``(F,)``."""
    dims = list(shape[1:])
    if len(dims) >= 2:
        dims = dims[1:] + dims[:1]
    return tuple(dims)


class InputLayerParams(LayerBase):
    """InputLayer(shape): a model input.

    ``shape``: NHWC without the batch axis, e.g. ``[28, 28, 1]``; or Lasagne's NCHW with a
    leading ``null`` batch axis, ``[null, 1, 28, 28]``, converted to NHWC. ``null`` inside
    marks an unknown size. ``layout`` says how to read ``shape`` when that is ambiguous:
    ``lasagne`` (batch axis first, channels second), ``nhwc`` (no batch axis, e.g. ``[null,
    16]`` for sequences of unknown length with 16 features; Keras ``Input`` reads shapes this
    way), or ``null``: ``lasagne`` when the shape starts with ``null``. ``dtype``: float32 or
    int32 (token ids).
    """

    shape: tuple[int | None, ...] = Field(description="Input shape, NHWC without the batch axis.")
    dtype: str = Field("float32", pattern="^(float32|float16|int32|int64|uint8)$")
    layout: Literal["lasagne", "nhwc"] | None = Field(
        None,
        description="How to read shape: lasagne (batch first, NCHW), nhwc (no batch axis); "
        "null: lasagne if shape starts with null.",
    )

    @model_validator(mode="after")
    def _nhwc(self) -> InputLayerParams:
        lasagne = self.layout == "lasagne" or (
            self.layout is None and len(self.shape) >= 2 and self.shape[0] is None
        )
        if lasagne:
            if len(self.shape) < 2:
                raise ValueError(
                    f"a Lasagne shape starts with the batch axis, then at least one "
                    f"more axis; got {list(self.shape)}"
                )
            self.shape = lasagne_to_nhwc(list(self.shape))
            self.layout = "nhwc"
        if not self.shape:
            raise ValueError("shape must have at least one axis besides the batch axis")
        if any(d is not None and d < 1 for d in self.shape):
            raise ValueError(
                f"every size must be >= 1 (or null for unknown), got {list(self.shape)}"
            )
        return self


def _infer(p: InputLayerParams, shapes) -> Inferred:
    return Inferred(tuple(p.shape), 0)


def _build(p: InputLayerParams, name: str, shapes: Shapes):
    import keras

    def make(_inputs):
        return keras.Input(shape=p.shape, name=name, dtype=p.dtype)

    return make


register(
    "InputLayer",
    positional=("shape",),
    schema=InputLayerParams,
    infer=_infer,
    build=_build,
    keras={"Input": KerasForm(defaults={"layout": "nhwc"})},
    min_inputs=0,
    max_inputs=0,
)
