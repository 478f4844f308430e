"""Layers that merge several inputs: element-wise sums/merges and concatenation.

Wired with ``incomings: [a, b, ...]``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import LayerBase
from .registry import Inferred, KerasForm, ShapeError, Shapes, register


def _same_shapes(shapes, what: str) -> tuple:
    first = tuple(shapes[0])
    for other in shapes[1:]:
        if len(other) != len(first) or any(
            a is not None and b is not None and a != b for a, b in zip(first, other)
        ):
            raise ShapeError(
                f"{what} needs inputs of the same shape, got "
                + ", ".join(str(list(s)) for s in shapes)
            )
    return tuple(a if a is not None else b for a, b in zip(first, shapes[-1]))


class ElemwiseSumParams(LayerBase):
    """ElemwiseSumLayer(incomings, coeffs=1): ``sum_i coeffs[i] * x_i`` (ResNet skip connections).

    All inputs must have the same shape, which is the output shape; no parameters.
    ``coeffs``: one number for all inputs or one per input. Example:
    ``{name: add, type: ElemwiseSumLayer, incomings: [shortcut, bn3]}``.
    """

    coeffs: float | list[float] = Field(1.0, description="Scale of each input.")


def _infer_sum(p: ElemwiseSumParams, shapes) -> Inferred:
    if isinstance(p.coeffs, list) and len(p.coeffs) != len(shapes):
        raise ShapeError(f"coeffs has {len(p.coeffs)} entries for {len(shapes)} inputs")
    return Inferred(_same_shapes(shapes, "an element-wise sum"), 0)


def _build_sum(p: ElemwiseSumParams, name: str, shapes: Shapes):
    import keras

    def make(inputs):
        coeffs = p.coeffs if isinstance(p.coeffs, list) else [p.coeffs] * len(inputs)
        if all(c == 1.0 for c in coeffs):
            return keras.layers.Add(name=name)(inputs)
        from .keras_layers import WeightedSum

        return WeightedSum(coeffs, name=name)(inputs)

    return make


register(
    "ElemwiseSumLayer",
    positional=("coeffs",),
    schema=ElemwiseSumParams,
    infer=_infer_sum,
    build=_build_sum,
    keras={"Add": KerasForm()},
    min_inputs=2,
    max_inputs=None,
)

_MERGES = {
    "mul": "Multiply",
    "max": "Maximum",
    "min": "Minimum",
    "sub": "Subtract",
    "add": "Add",
    "mean": "Average",
}


class ElemwiseMergeParams(LayerBase):
    """ElemwiseMergeLayer(incomings, merge_function): element-wise ``mul``, ``max``, ``min``,
    ``sub`` (two inputs), ``add`` or ``mean`` of same-shaped inputs; no parameters.

    Axes of size 1 broadcast (same rank): ``(H, W, C) * (1, 1, C)`` is a squeeze-and-excitation
    gate.

    Example: ``{name: gate, type: ElemwiseMergeLayer, incomings: [a, b], merge_function: mul}``.
    """

    merge_function: Literal["mul", "max", "min", "sub", "add", "mean"]


def _infer_merge(p: ElemwiseMergeParams, shapes) -> Inferred:
    if p.merge_function == "sub" and len(shapes) != 2:
        raise ShapeError(f"merge_function: sub takes exactly 2 inputs, got {len(shapes)}")
    return Inferred(_broadcast_shapes(shapes, f"an element-wise {p.merge_function}"), 0)


def _broadcast_shapes(shapes, what: str) -> tuple:
    """The common shape of same-rank inputs whose axes agree or are 1 (broadcast)."""
    if len({len(s) for s in shapes}) != 1:
        return _same_shapes(shapes, what)
    out = []
    for sizes in zip(*shapes):
        known = {d for d in sizes if d is not None and d != 1}
        if len(known) > 1:
            return _same_shapes(shapes, what)
        out.append(known.pop() if known else (None if None in sizes else 1))
    return tuple(out)


def _build_merge(p: ElemwiseMergeParams, name: str, shapes: Shapes):
    import keras

    layer = getattr(keras.layers, _MERGES[p.merge_function])(name=name)
    return lambda inputs: layer(inputs)


register(
    "ElemwiseMergeLayer",
    positional=("merge_function",),
    schema=ElemwiseMergeParams,
    infer=_infer_merge,
    build=_build_merge,
    min_inputs=2,
    max_inputs=None,
    keras={
        keras_name: KerasForm(fixed={"merge_function": fn})
        for fn, keras_name in _MERGES.items()
        if keras_name != "Add"
    },
)


class ConcatParams(LayerBase):
    """ConcatLayer(incomings, axis=-1): joins inputs along ``axis``.

    ``axis`` counts without the batch axis; the default ``-1`` is the channel axis in NHWC
    (Lasagne's default ``axis=1`` meant channels in NCHW). All other sizes must agree.
    Keras ``Concatenate(axis)`` counts the batch axis (``axis: 1`` is our ``axis: 0``).
    Example: ``{name: cat, type: ConcatLayer, incomings: [branch1, branch2]}``.
    """

    axis: int = -1


def _infer_concat(p: ConcatParams, shapes) -> Inferred:
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ShapeError(
            "concatenation needs inputs of the same rank, got "
            + ", ".join(str(list(s)) for s in shapes)
        )
    axis = p.axis if p.axis >= 0 else rank + p.axis
    if not 0 <= axis < rank:
        raise ShapeError(f"axis {p.axis} is outside the inputs' axes (rank {rank} without batch)")
    out = list(shapes[0])
    for other in shapes[1:]:
        for i, (a, b) in enumerate(zip(out, other)):
            if i != axis and a is not None and b is not None and a != b:
                raise ShapeError(
                    f"concatenation along axis {p.axis} needs equal sizes on the other "
                    "axes, got " + ", ".join(str(list(s)) for s in shapes)
                )
    sizes = [s[axis] for s in shapes]
    out[axis] = None if any(v is None for v in sizes) else sum(sizes)
    return Inferred(tuple(out), 0)


def _build_concat(p: ConcatParams, name: str, shapes: Shapes):
    import keras

    def make(inputs):
        axis = p.axis if p.axis < 0 else p.axis + 1
        return keras.layers.Concatenate(axis=axis, name=name)(inputs)

    return make


def _keras_axis(value: Any) -> dict[str, Any]:
    """Keras counts the batch axis: ``axis: 1`` is the first axis after it (ours: 0)."""
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ValueError(f"axis must be a non-zero integer (0 is the batch axis), got {value!r}")
    return {"axis": value - 1 if value > 0 else value}


register(
    "ConcatLayer",
    positional=("axis",),
    schema=ConcatParams,
    infer=_infer_concat,
    build=_build_concat,
    aliases=("ConcatenateLayer",),
    keras={"Concatenate": KerasForm(convert={"axis": _keras_axis})},
    min_inputs=2,
    max_inputs=None,
)
