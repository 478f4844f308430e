"""Layers that only rearrange values: flatten (more in this family: reshape, permute, pad, slice)."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import LayerBase, product
from .registry import Inferred, KerasForm, ShapeError, register


class FlattenParams(LayerBase):
    """FlattenLayer(outdim=2): ``(d1, ..., dk)`` -> ``(d1*...*dk,)``; no parameters.

    Only Lasagne's default ``outdim: 2`` (batch axis + one) is supported.
    Example: ``{name: flat, type: FlattenLayer}``.
    """

    outdim: int = Field(2, description="Output rank including the batch axis; must be 2.")

    @field_validator("outdim")
    @classmethod
    def _two(cls, value: int) -> int:
        if value != 2:
            raise ValueError(f"only outdim: 2 is supported, got outdim={value}; use ReshapeLayer instead")
        return value


def _infer_flatten(p: FlattenParams, shapes) -> Inferred:
    (shape,) = shapes
    if any(d is None for d in shape):
        raise ShapeError(f"cannot flatten an input of unknown size {list(shape)}")
    return Inferred((product(shape),), 0)


def _build_flatten(p: FlattenParams, name: str):
    import keras

    layer = keras.layers.Flatten(name=name)
    return lambda inputs: layer(inputs[0])


register("FlattenLayer", family="shape", schema=FlattenParams, infer=_infer_flatten,
         build=_build_flatten, keras={"Flatten": KerasForm()})
