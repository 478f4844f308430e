"""Building blocks shared by every layer schema: the base model, field types, shape helpers.

Parameter names and defaults follow Lasagne; Keras spellings are mapped onto them by the
registry's :class:`~kerasbuild.layers.registry.KerasForm`. Shapes exclude the batch axis and
are channels-last (NHWC, NLC, NDHWC).
"""

from __future__ import annotations

import math
import types
import typing
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from ..errors import did_you_mean
from ..schema.base import NAME_PATTERN, StrictModel
from .registry import Shape, ShapeError

# --------------------------------------------------------------------------- nonlinearities
NONLINEARITIES: dict[str, str | None] = {
    # Lasagne names -> Keras activation name (None: identity)
    "rectify": "relu",
    "leaky_rectify": "leaky_relu_0.01",
    "very_leaky_rectify": "leaky_relu_0.333",
    "elu": "elu",
    "selu": "selu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "softplus": "softplus",
    "linear": None,
    "identity": None,
    "scaled_tanh": "scaled_tanh",
    # Keras names
    "relu": "relu",
    "relu6": "relu6",
    "leaky_relu": "leaky_relu_0.2",
    "gelu": "gelu",
    "silu": "silu",
    "swish": "silu",
    "hard_sigmoid": "hard_sigmoid",
    "exponential": "exponential",
    "softsign": "softsign",
    "mish": "mish",
    "log_softmax": "log_softmax",
    "hard_silu": "hard_silu",
    "hard_swish": "hard_silu",
}


def _check_nonlinearity(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a nonlinearity name or null, got {value!r}")
    if value not in NONLINEARITIES:
        raise ValueError(
            f"unknown nonlinearity {value!r}{did_you_mean(value, NONLINEARITIES)}; "
            f"expected one of {', '.join(sorted(NONLINEARITIES))} or null"
        )
    return value


Nonlinearity = Annotated[
    str | None,
    BeforeValidator(_check_nonlinearity),
    Field(description="Nonlinearity name (Lasagne or Keras) or null for linear."),
]

# ------------------------------------------------------------------------------ initialisers
LASAGNE_INITS = {
    "GlorotUniform": {"gain"},
    "GlorotNormal": {"gain"},
    "HeUniform": {"gain"},
    "HeNormal": {"gain"},
    "Normal": {"std", "mean"},
    "Uniform": {"range", "std", "mean"},
    "Constant": {"val"},
    "Orthogonal": {"gain"},
}
KERAS_INITS = {
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "zeros",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "identity",
}


class InitSpec(StrictModel):
    """An initialiser with arguments, e.g. ``{type: HeNormal, gain: relu}``."""

    type: str
    gain: float | Literal["relu"] | None = None
    std: float | None = Field(None, gt=0)
    mean: float | None = None
    range: float | tuple[float, float] | None = None
    val: float | None = None

    @model_validator(mode="after")
    def _known(self) -> InitSpec:
        if self.type not in LASAGNE_INITS:
            raise ValueError(
                f"unknown initialiser {self.type!r}{did_you_mean(self.type, LASAGNE_INITS)}; "
                f"expected one of {', '.join(LASAGNE_INITS)}"
            )
        allowed = LASAGNE_INITS[self.type]
        given = {k for k in ("gain", "std", "mean", "range", "val") if getattr(self, k) is not None}
        extra = given - allowed
        if extra:
            raise ValueError(
                f"{self.type} takes {', '.join(sorted(allowed))}, not {', '.join(sorted(extra))}"
            )
        return self


def _check_init(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an initialiser name, a number or a mapping, got a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("initial value must be finite")
        return float(value)
    if isinstance(value, str):
        if value in LASAGNE_INITS or value in KERAS_INITS:
            return value
        raise ValueError(
            f"unknown initialiser {value!r}{did_you_mean(value, [*LASAGNE_INITS, *KERAS_INITS])}"
        )
    return value


Init = Annotated[
    float | str | InitSpec,
    BeforeValidator(_check_init),
    Field(
        description="Initialiser: Lasagne name (GlorotUniform), Keras name "
        "(he_normal), a constant, or {type: HeNormal, gain: relu}."
    ),
]

# ---------------------------------------------------------------------------- size tuples


def int_tuple(value: Any, n: int, what: str, minimum: int = 1) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)`` for ``n=2``; checks length and lower bound."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer or a list of {n} integers")
    if isinstance(value, int):
        value = (value,) * n
    if (
        not isinstance(value, (list, tuple))
        or len(value) != n
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"{what} must be an integer or a list of {n} integers, got {value!r}")
    if any(v < minimum for v in value):
        raise ValueError(f"{what} must be >= {minimum}, got {list(value)}")
    return tuple(value)


def conv_output_length(
    length: int | None, kernel: int, stride: int, pad: str | int, dilation: int = 1
) -> int | None:
    """Output length along one axis for Lasagne-style padding ('valid', 'same', 'full', int)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if pad == "same":
        return (length + stride - 1) // stride
    if pad == "valid":
        pad_total = 0
    elif pad == "full":
        pad_total = 2 * (effective - 1)
    else:
        pad_total = 2 * int(pad)
    out = (length + pad_total - effective) // stride + 1
    return out


def require_rank(shape: Shape, rank: int, layer: str, hint: str = "") -> None:
    if len(shape) != rank:
        raise ShapeError(
            f"{layer} expects an input of rank {rank} without the batch axis, got shape "
            f"{list(shape)}{hint}"
        )


def product(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def _use_bias(value: Any) -> dict[str, Any]:
    if not isinstance(value, bool):
        raise ValueError(f"use_bias must be true or false, got {value!r}")
    return {} if value else {"b": None}


class LayerBase(StrictModel):
    """Fields every layer has: ``name``, ``type`` and its wiring."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique layer name.")
    type: str
    incoming: str | None = Field(
        None, description="Input layer name (default: the previous layer)."
    )
    incomings: list[str] | None = Field(None, description="Input layer names, for merge layers.")
    trainable: bool = Field(
        True,
        description="false: training leaves the layer's weights unchanged "
        "(frozen; batch norm then also keeps its statistics).",
    )

    @model_validator(mode="before")
    @classmethod
    def _keras_spelling(cls, data: Any) -> Any:
        """Map a Keras type name's parameter names and defaults onto the Lasagne ones."""
        from .registry import lookup

        if not isinstance(data, dict):
            return data
        entry = lookup(data.get("type", ""))
        if entry is None:
            return data
        type_name = entry.variants.get(data["type"], data["type"])
        data = dict(data)
        if type_name in entry.keras:
            form = entry.keras[type_name]
            converters = dict(form.convert)
            if "b" in entry.schema.model_fields:
                converters.setdefault("use_bias", _use_bias)
            for keras_key, convert in converters.items():
                if keras_key in data:
                    data.update(convert(data.pop(keras_key)))
            for keras_key, lasagne_key in form.rename.items():
                if keras_key in data:
                    if lasagne_key in data and keras_key != lasagne_key:
                        raise ValueError(f"give either {keras_key!r} or {lasagne_key!r}, not both")
                    data[lasagne_key] = data.pop(keras_key)
            for key, value in {**form.defaults, **form.fixed}.items():
                data.setdefault(key, value)
        elif type_name in entry.fixed:
            for key, value in entry.fixed[type_name].items():
                if key in data and data[key] != value:
                    raise ValueError(
                        f"{type_name} fixes {key}={value!r}; use {entry.name} to change it"
                    )
                data[key] = value
        data["type"] = entry.name
        for key, value in data.items():
            field = cls.model_fields.get(key)
            if isinstance(value, bool) and field is not None and _numbers_only(field.annotation):
                raise ValueError(
                    f"{key} expects a number, got {str(value).lower()} "
                    "(a boolean is not read as 1 or 0)"
                )
        return data


def _numbers_only(annotation: Any) -> bool:
    """Whether a field takes numbers but neither booleans nor names (``Init`` takes a name or a
    number and words its own error)."""
    found: set[Any] = set()

    def walk(ann: Any) -> None:
        if typing.get_origin(ann) is Literal:
            found.update(type(a) for a in typing.get_args(ann))
        elif typing.get_args(ann) and typing.get_origin(ann) in (
            typing.Union,
            Annotated,
            types.UnionType,
        ):
            for arg in typing.get_args(ann):
                walk(arg)
        else:
            found.add(ann)

    walk(annotation)
    return bool(found & {int, float}) and not found & {bool, str, Any}
