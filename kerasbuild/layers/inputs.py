"""Input layers. Shapes are NHWC without the batch axis; a Lasagne shape with a leading
``null`` batch axis is NCHW and converted (``[null, 1, 28, 28]`` -> ``[28, 28, 1]``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from .base import LayerBase
from .registry import Inferred, KerasForm, register


def lasagne_to_nhwc(shape: list[Any]) -> tuple[int | None, ...]:
    """``[null, C, H, W]`` -> ``(H, W, C)``; ``[null, C, L]`` -> ``(L, C)``; ``[null, F]`` -> ``(F,)``."""
    dims = list(shape[1:])
    if len(dims) >= 2:
        dims = dims[1:] + dims[:1]
    return tuple(dims)


class InputLayerParams(LayerBase):
    """InputLayer(shape): a model input.

    ``shape``: NHWC without the batch axis, e.g. ``[28, 28, 1]``; or Lasagne's NCHW with a
    leading ``null`` batch axis, ``[null, 1, 28, 28]``, converted to NHWC. ``null`` inside
    marks an unknown size (e.g. sequence length). ``dtype``: float32 or int32 (token ids).
    """

    shape: tuple[int | None, ...] = Field(description="Input shape, NHWC without the batch axis.")
    dtype: str = Field("float32", pattern="^(float32|float16|int32|int64|uint8)$")

    @field_validator("shape", mode="before")
    @classmethod
    def _nchw(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)) and value and value[0] is None and len(value) >= 2:
            return lasagne_to_nhwc(list(value))
        return value

    @field_validator("shape")
    @classmethod
    def _positive(cls, value: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if not value:
            raise ValueError("shape must have at least one axis besides the batch axis")
        if any(d is not None and d < 1 for d in value):
            raise ValueError(f"every size must be >= 1 (or null for unknown), got {list(value)}")
        return value


def _infer(p: InputLayerParams, shapes) -> Inferred:
    return Inferred(tuple(p.shape), 0)


def _build(p: InputLayerParams, name: str):
    import keras

    def make(_inputs):
        return keras.Input(shape=p.shape, name=name, dtype=p.dtype)

    return make


register("InputLayer", family="input", schema=InputLayerParams, infer=_infer, build=_build,
         keras={"Input": KerasForm()}, min_inputs=0, max_inputs=0)
