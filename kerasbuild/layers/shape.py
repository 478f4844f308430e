"""Layers that only rearrange values: flatten, reshape, dimshuffle (permute), pad and slice.

None has parameters. Shapes exclude the batch axis (NHWC), except where Lasagne's own
parameters include it (``ReshapeLayer.shape``, ``DimshuffleLayer.pattern``), as noted.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from .base import LayerBase, product
from .registry import Inferred, KerasForm, ShapeError, Shapes, register


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
            raise ValueError(
                f"only outdim: 2 is supported, got outdim={value}; use ReshapeLayer instead"
            )
        return value


def _infer_flatten(p: FlattenParams, shapes) -> Inferred:
    (shape,) = shapes
    if any(d is None for d in shape):
        raise ShapeError(f"cannot flatten an input of unknown size {list(shape)}")
    return Inferred((product(shape),), 0)


def _build_flatten(p: FlattenParams, name: str, shapes: Shapes):
    import keras

    layer = keras.layers.Flatten(name=name)
    return lambda inputs: layer(inputs[0])


register(
    "FlattenLayer",
    positional=("outdim",),
    schema=FlattenParams,
    infer=_infer_flatten,
    build=_build_flatten,
    keras={"Flatten": KerasForm()},
)


ShapeItem = int | list[int] | None


class ReshapeParams(LayerBase):
    """ReshapeLayer(shape): rearranges the values into a new shape with the same size.

    As in Lasagne, ``shape`` starts with the batch axis, which must stay: ``[0]`` (a reference
    to input axis 0), ``-1`` or ``null``; then the NHWC sizes. An entry may be an integer, a
    reference ``[i]`` to input axis ``i`` (counting the batch axis as 0), or ``-1`` (at most
    one: inferred from the others). The number of values per example must not change.
    Keras ``Reshape(target_shape)`` gives the shape without the batch axis.
    Example: ``{name: to_map, type: ReshapeLayer, shape: [[0], 7, 7, 16]}``.
    """

    shape: tuple[ShapeItem, ...] = Field(description="New shape, batch axis first.")

    @field_validator("shape")
    @classmethod
    def _entries(cls, value: tuple[ShapeItem, ...]) -> tuple[ShapeItem, ...]:
        if len(value) < 2:
            raise ValueError(
                "shape needs the batch axis ([0], -1 or null) and at least one more axis"
            )
        if value[0] not in ([0], -1, None):
            raise ValueError(
                f"the first entry of shape is the batch axis and must be [0], -1 or null "
                f"(the batch size cannot change), got {value[0]!r}"
            )
        for item in value[1:]:
            if isinstance(item, list):
                if len(item) != 1 or item[0] < 1:
                    raise ValueError(
                        f"a reference must be [i] with i >= 1 (an input axis after the "
                        f"batch axis), got {item!r}"
                    )
            elif item is None or (item < 1 and item != -1):
                raise ValueError(
                    f"sizes must be >= 1, -1 (inferred) or [i] (input axis i), got {item!r}"
                )
        if sum(1 for item in value if item == -1) > 1:
            raise ValueError(f"at most one entry of shape may be -1, got {list(value)}")
        return value


def _keras_target_shape(value: Any) -> dict[str, Any]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"target_shape must be a list of sizes, got {value!r}")
    return {"shape": [[0], *value]}


def _reshape_target(p: ReshapeParams, shape: tuple[int | None, ...]) -> list[int]:
    """Sizes without the batch axis, references resolved; ``-1`` for the one inferred size."""
    target = []
    for item in p.shape[1:]:
        if isinstance(item, list):
            if item[0] > len(shape):
                raise ShapeError(
                    f"reference {item} points past the input's last axis "
                    f"({len(shape)} axes after the batch axis)"
                )
            size = shape[item[0] - 1]
            target.append(-1 if size is None else size)
        else:
            target.append(item)
    if target.count(-1) > 1:
        raise ShapeError(
            f"shape {list(p.shape)} leaves more than one size unknown for input "
            f"{list(shape)}; give explicit sizes"
        )
    return target


def _infer_reshape(p: ReshapeParams, shapes) -> Inferred:
    (shape,) = shapes
    target = _reshape_target(p, shape)
    unknown_inputs = [d for d in shape if d is None]
    known = product(d for d in target if d != -1)
    if unknown_inputs:
        refs = [
            item for item in p.shape[1:] if isinstance(item, list) and shape[item[0] - 1] is None
        ]
        if len(unknown_inputs) != 1 or len(refs) != 1:
            raise ShapeError(
                f"cannot reshape an input of unknown size {list(shape)} unless its one "
                "unknown axis is kept with a reference [i]"
            )
        if product(d for d in shape if d is not None) != known:
            raise ShapeError(f"shape {list(p.shape)} does not keep the size of input {list(shape)}")
        return Inferred(tuple(None if d == -1 else d for d in target), 0)
    total = product(shape)
    if -1 in target:
        if total % known:
            raise ShapeError(
                f"cannot reshape {total} values per example into {list(p.shape)}: "
                f"{total} is not a multiple of {known}"
            )
        target = [total // known if d == -1 else d for d in target]
    elif known != total:
        raise ShapeError(
            f"shape {list(p.shape)} holds {known} values per example, the input "
            f"{list(shape)} has {total}"
        )
    return Inferred(tuple(target), 0)


def _build_reshape(p: ReshapeParams, name: str, shapes: Shapes):
    import keras

    def make(inputs):
        (x,) = inputs
        return keras.layers.Reshape(_reshape_target(p, shapes.inputs[0]), name=name)(x)

    return make


register(
    "ReshapeLayer",
    positional=("shape",),
    schema=ReshapeParams,
    infer=_infer_reshape,
    build=_build_reshape,
    keras={"Reshape": KerasForm(convert={"target_shape": _keras_target_shape})},
)


class DimshuffleParams(LayerBase):
    """DimshuffleLayer(pattern): permutes the axes.

    As in Lasagne, ``pattern`` includes the batch axis, which must stay first: ``[0, 2, 1]``
    swaps the two axes of an ``(L, C)`` input, giving ``(C, L)``. Lasagne's ``'x'`` (a new
    broadcastable axis) and dropping axes are not supported. Keras ``Permute(dims)`` gives the
    pattern without the batch axis, 1-based. Example: ``{name: swap, type: DimshuffleLayer,
    pattern: [0, 2, 1]}``.
    """

    pattern: tuple[int | str, ...] = Field(
        description="Input axis for each output axis, batch axis 0 first."
    )

    @field_validator("pattern")
    @classmethod
    def _permutation(cls, value: tuple[int | str, ...]) -> tuple[int | str, ...]:
        if any(isinstance(v, str) for v in value):
            raise ValueError(
                f"'x' (a new broadcastable axis) is not supported in pattern {list(value)}; "
                "use ReshapeLayer to add an axis of size 1"
            )
        if not value or value[0] != 0:
            raise ValueError(
                f"pattern must start with 0 (the batch axis stays first), got {list(value)}"
            )
        if sorted(value) != list(range(len(value))):
            raise ValueError(
                f"pattern must be a permutation of 0..{len(value) - 1}, got {list(value)}"
            )
        return value


def _infer_dimshuffle(p: DimshuffleParams, shapes) -> Inferred:
    (shape,) = shapes
    if len(p.pattern) != len(shape) + 1:
        raise ShapeError(
            f"pattern {list(p.pattern)} has {len(p.pattern)} axes, the input has "
            f"{len(shape) + 1} (batch axis included)"
        )
    return Inferred(tuple(shape[i - 1] for i in p.pattern[1:]), 0)


def _build_dimshuffle(p: DimshuffleParams, name: str, shapes: Shapes):
    import keras

    layer = keras.layers.Permute(tuple(p.pattern[1:]), name=name)
    return lambda inputs: layer(inputs[0])


def _keras_dims(value: Any) -> dict[str, Any]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"dims must be a list of axis numbers starting at 1, got {value!r}")
    return {"pattern": [0, *value]}


register(
    "DimshuffleLayer",
    positional=("pattern",),
    schema=DimshuffleParams,
    infer=_infer_dimshuffle,
    build=_build_dimshuffle,
    keras={"Permute": KerasForm(convert={"dims": _keras_dims})},
)

PadWidth = int | tuple[int | tuple[int, int], ...]


class PadParams(LayerBase):
    """PadLayer(width, val=0, batch_ndim=2): pads the spatial axes with zeros.

    ``width``: one integer for every side, one per spatial axis, or ``[before, after]`` pairs per
    axis. Input ``(*spatial, C)`` with 1 to 3 spatial axes; the channel axis is never padded
    (Lasagne's ``batch_ndim: 2`` skipped batch and channels in NCHW). Only ``val: 0`` is supported
    (Keras ``ZeroPadding1D/2D/3D``). Example: ``{name: pad1, type: PadLayer, width: 2}``.
    """

    width: PadWidth = Field(
        description="Padding per spatial axis: int, list, or [before, after] pairs."
    )
    val: float = 0.0
    batch_ndim: int = 2

    @model_validator(mode="after")
    def _zeros(self) -> PadParams:
        if self.val != 0:
            raise ValueError(f"only val: 0 is supported (Keras ZeroPadding), got val={self.val}")
        if self.batch_ndim != 2:
            raise ValueError(
                f"only batch_ndim: 2 is supported (batch and channel axes are never "
                f"padded), got {self.batch_ndim}"
            )
        return self

    def pairs(self, spatial: int) -> tuple[tuple[int, int], ...]:
        """``((before, after), ...)`` for ``spatial`` axes."""
        return side_pairs(self.width, spatial, "width", "padding")


def side_pairs(width: PadWidth, spatial: int, field: str, what: str) -> tuple[tuple[int, int], ...]:
    """``((before, after), ...)`` for ``spatial`` axes from one integer, one per axis or pairs."""
    sizes = (width,) * spatial if isinstance(width, int) else width
    if len(sizes) != spatial:
        raise ShapeError(
            f"{field} {_plain(width)} gives {len(sizes)} axes, the input has {spatial} spatial axes"
        )
    pairs = tuple((w, w) if isinstance(w, int) else tuple(w) for w in sizes)
    if any(v < 0 for pair in pairs for v in pair):
        raise ShapeError(f"{what} must be >= 0, got {_plain(width)}")
    return pairs


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def _infer_pad(p: PadParams, shapes) -> Inferred:
    (shape,) = shapes
    if not 2 <= len(shape) <= 4:
        raise ShapeError(
            f"PadLayer needs 1 to 3 spatial axes and a channel axis, got {list(shape)}"
        )
    pairs = p.pairs(len(shape) - 1)
    out = [None if d is None else d + a + b for d, (a, b) in zip(shape[:-1], pairs)]
    return Inferred((*out, shape[-1]), 0)


def _build_pad(p: PadParams, name: str, shapes: Shapes):
    import keras

    def make(inputs):
        (x,) = inputs
        spatial = len(shapes.inputs[0]) - 1
        pairs = p.pairs(spatial)
        cls = getattr(keras.layers, f"ZeroPadding{spatial}D")
        return cls(pairs[0] if spatial == 1 else pairs, name=name)(x)

    return make


register(
    "PadLayer",
    positional=("width", "val"),
    schema=PadParams,
    infer=_infer_pad,
    build=_build_pad,
    keras={f"ZeroPadding{r}D": KerasForm(rename={"padding": "width"}) for r in (1, 2, 3)},
)


class CropParams(LayerBase):
    """CropLayer(cropping): removes rows/columns from the ends of each spatial axis (Keras
    ``Cropping1D/2D/3D``).

    ``cropping``: one integer for every side, one per spatial axis, or ``[before, after]`` pairs
    per axis. Input ``(*spatial, C)`` with 1 to 3 spatial axes; no parameters. Example (U-Net
    skip connections): ``{name: crop1, type: Cropping2D, cropping: [[0, 1], [0, 1]]}``.
    """

    cropping: PadWidth = Field(
        description="Cropping per spatial axis: int, list, or [before, after] pairs."
    )


def _infer_crop(p: CropParams, shapes) -> Inferred:
    (shape,) = shapes
    if not 2 <= len(shape) <= 4:
        raise ShapeError(
            f"cropping needs 1 to 3 spatial axes and a channel axis, got {list(shape)}"
        )
    pairs = side_pairs(p.cropping, len(shape) - 1, "cropping", "cropping")
    out = [None if d is None else d - a - b for d, (a, b) in zip(shape[:-1], pairs)]
    if any(d is not None and d < 1 for d in out):
        raise ShapeError(
            f"cropping {_plain(p.cropping)} removes everything from input {list(shape)}"
        )
    return Inferred((*out, shape[-1]), 0)


def _build_crop(p: CropParams, name: str, shapes: Shapes):
    import keras

    spatial = len(shapes.inputs[0]) - 1
    pairs = side_pairs(p.cropping, spatial, "cropping", "cropping")
    layer = getattr(keras.layers, f"Cropping{spatial}D")(
        pairs[0] if spatial == 1 else pairs, name=name
    )
    return lambda inputs: layer(inputs[0])


register(
    "CropLayer",
    positional=("cropping",),
    schema=CropParams,
    infer=_infer_crop,
    build=_build_crop,
    keras={f"Cropping{r}D": KerasForm() for r in (1, 2, 3)},
)


class SliceParams(LayerBase):
    """SliceLayer(indices, axis=-1): takes one index or a range along ``axis``.

    ``indices``: an integer (the axis is removed) or ``[start, stop]`` / ``[start, stop,
    step]`` (Python slice semantics; ``null`` for an open end). ``axis`` counts without the
    batch axis; ``-1`` is the last (channel) axis. Example: ``{name: last_step, type:
    SliceLayer, indices: -1, axis: 0}``.
    """

    indices: int | tuple[int | None, ...] = Field(description="Index, or [start, stop(, step)].")
    axis: int = -1

    @field_validator("indices")
    @classmethod
    def _slice(cls, value: int | tuple[int | None, ...]) -> int | tuple[int | None, ...]:
        if isinstance(value, tuple):
            if len(value) not in (2, 3):
                raise ValueError(
                    f"indices must be an integer or [start, stop(, step)], got {list(value)}"
                )
            if len(value) == 3 and value[2] == 0:
                raise ValueError("the slice step must not be 0")
        return value

    def as_slice(self) -> slice:
        return slice(*self.indices)


def _infer_slice(p: SliceParams, shapes) -> Inferred:
    (shape,) = shapes
    if not -len(shape) <= p.axis < len(shape):
        raise ShapeError(
            f"axis {p.axis} is outside the input's axes (rank {len(shape)} without batch)"
        )
    out = list(shape)
    size = shape[p.axis]
    if isinstance(p.indices, int):
        if size is not None and not -size <= p.indices < size:
            raise ShapeError(f"index {p.indices} is outside axis {p.axis} of size {size}")
        del out[p.axis]
        if not out:
            raise ShapeError(
                "taking one index of the only axis would leave a scalar per example; "
                "use indices: [i, i+1] to keep the axis"
            )
    elif size is not None:
        out[p.axis] = len(range(size)[p.as_slice()])
        if out[p.axis] == 0:
            raise ShapeError(f"slice {list(p.indices)} of axis {p.axis} (size {size}) is empty")
    return Inferred(tuple(out), 0)


def _build_slice(p: SliceParams, name: str, shapes: Shapes):
    from .keras_layers import Slice

    if isinstance(p.indices, int):
        layer = Slice(p.axis, index=p.indices, name=name)
    else:
        s = p.as_slice()
        layer = Slice(p.axis, start=s.start, stop=s.stop, step=s.step, name=name)
    return lambda inputs: layer(inputs[0])


register(
    "SliceLayer",
    positional=("indices", "axis"),
    schema=SliceParams,
    infer=_infer_slice,
    build=_build_slice,
)
