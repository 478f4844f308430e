"""Recurrent layers over sequences (Lasagne ``RecurrentLayer``, ``LSTMLayer``, ``GRULayer``;
Keras ``SimpleRNN``, ``LSTM``, ``GRU``).

Input ``(L, F)``: ``L`` time steps (may be unknown, ``null``) of ``F`` features. Output
``(L, num_units)``, or ``(num_units,)`` with ``only_return_final: true`` (Keras
``return_sequences: false``, its default). The initialisers ``W_in_to_hid``,
``W_hid_to_hid`` and ``b`` apply to every gate (Lasagne's per-gate ``Gate`` objects are not
supported); Keras' ``dropout`` and ``recurrent_dropout`` are accepted. Lasagne options Keras
lacks (``grad_clipping``, ``gradient_steps``, ``learn_init``, LSTM ``peepholes``) are refused
unless left at their no-op values.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from .base import NONLINEARITIES, Init, InitSpec, LayerBase, Nonlinearity
from .registry import Inferred, KerasForm, ShapeError, Shapes, register

_GATE_INIT = InitSpec(type="Normal", std=0.1)


class RecurrentBase(LayerBase):
    """Fields shared by the recurrent layers."""

    gates: ClassVar[int] = 1
    biases_per_gate: ClassVar[int] = 1
    keras_class: ClassVar[str] = "SimpleRNN"
    num_units: int = Field(ge=1, description="Size of the hidden state.")
    nonlinearity: Nonlinearity = "tanh"
    W_in_to_hid: Init = _GATE_INIT
    W_hid_to_hid: Init = _GATE_INIT
    b: Init | None = 0.0
    backwards: bool = Field(
        False,
        description="Process the sequence last to first; the output "
        "sequence stays in input order (Lasagne).",
    )
    go_backwards: bool = Field(
        False,
        description="Keras' go_backwards: process last to first and return the sequence reversed.",
    )
    only_return_final: bool = Field(False, description="Return only the last hidden state.")
    unroll_scan: bool = Field(False, description="Unroll the loop (needs a known sequence length).")
    dropout: float = Field(0.0, ge=0, lt=1, description="Keras: dropout rate on the inputs.")
    recurrent_dropout: float = Field(
        0.0, ge=0, lt=1, description="Keras: dropout rate on the state."
    )
    learn_init: bool = False
    grad_clipping: float = 0.0
    gradient_steps: int = -1

    @field_validator("nonlinearity")
    @classmethod
    def _keras_activation(cls, value: str | None) -> str | None:
        if (
            value is not None
            and NONLINEARITIES[value] is not None
            and (
                NONLINEARITIES[value].startswith("leaky_relu_")
                or NONLINEARITIES[value] == "scaled_tanh"
            )
        ):
            raise ValueError(
                f"nonlinearity {value!r} is not available inside Keras recurrent layers; "
                "use tanh, rectify, sigmoid or linear"
            )
        return value

    @model_validator(mode="after")
    def _lasagne_only(self) -> RecurrentBase:
        if self.learn_init:
            raise ValueError(
                "learn_init: true (learned initial state) is not supported by Keras "
                "recurrent layers"
            )
        if self.grad_clipping:
            raise ValueError(
                f"grad_clipping: {self.grad_clipping} (clipping gradients inside the "
                "recurrence) is not supported; use the optimiser's clipnorm instead"
            )
        if self.gradient_steps != -1:
            raise ValueError(
                f"gradient_steps: {self.gradient_steps} (truncated backpropagation) is "
                "not supported; leave it at -1"
            )
        if self.backwards and self.go_backwards:
            raise ValueError("give either backwards (Lasagne) or go_backwards (Keras), not both")
        return self


class RecurrentParams(RecurrentBase):
    """RecurrentLayer(num_units, nonlinearity=rectify, W_in_to_hid=Uniform(0.01),
    W_hid_to_hid=Uniform(0.01), b=0, backwards=False, only_return_final=False): a vanilla
    (Elman) RNN, ``h_t = f(x_t W_in + h_{t-1} W_hid + b)``.

    Parameters ``F*U + U*U + U``. Keras ``SimpleRNN`` (tanh by default).
    Example: ``{name: rnn, type: RecurrentLayer, num_units: 32, nonlinearity: tanh}``.
    """

    nonlinearity: Nonlinearity = "rectify"
    W_in_to_hid: Init = InitSpec(type="Uniform", range=0.01)
    W_hid_to_hid: Init = InitSpec(type="Uniform", range=0.01)


class LSTMParams(RecurrentBase):
    """LSTMLayer(num_units, nonlinearity=tanh, W_in_to_hid=Normal(0.1), W_hid_to_hid=Normal(0.1),
    b=0, backwards=False, only_return_final=False): long short-term memory (sigmoid gates).

    Parameters ``4 * (F*U + U*U + U)``. Keras ``LSTM``. Lasagne's default peephole connections
    do not exist in Keras: ``peepholes`` defaults to false here and ``true`` is refused.
    ``unit_forget_bias: true`` (Keras' default) starts the forget gate's bias at 1.
    Example: ``{name: lstm, type: LSTMLayer, num_units: 64, only_return_final: true}``.
    """

    gates: ClassVar[int] = 4
    keras_class: ClassVar[str] = "LSTM"
    peepholes: bool = False
    unit_forget_bias: bool = False

    @field_validator("peepholes")
    @classmethod
    def _no_peepholes(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "peepholes: true (cell-to-gate connections) is not supported by Keras' "
                "LSTM; set peepholes: false"
            )
        return value


class GRUParams(RecurrentBase):
    """GRULayer(num_units, nonlinearity=tanh, W_in_to_hid=Normal(0.1), W_hid_to_hid=Normal(0.1),
    b=0, backwards=False, only_return_final=False): gated recurrent unit (Cho et al. 2014).

    The reset gate multiplies ``h_{t-1} W_hid`` after the product, as in Lasagne; this is Keras'
    ``GRU(reset_after=True)``, which has a second bias per gate: parameters
    ``3 * (F*U + U*U + 2*U)``. Example: ``{name: gru, type: GRULayer, num_units: 64}``.
    """

    gates: ClassVar[int] = 3
    biases_per_gate: ClassVar[int] = 2
    keras_class: ClassVar[str] = "GRU"


def _infer(p: RecurrentBase, shapes) -> Inferred:
    (shape,) = shapes
    if len(shape) != 2 or shape[1] is None:
        hint = (
            "; for sequences of unknown length give the InputLayer shape: [null, features] with "
            "layout: nhwc"
            if len(shape) == 2
            else "; reshape spatial inputs to (steps, features) first"
        )
        raise ShapeError(
            f"a recurrent layer expects (time steps, features) with known features, "
            f"got {list(shape)}{hint}"
        )
    if p.unroll_scan and shape[0] is None:
        raise ShapeError("unroll_scan: true needs a known sequence length")
    features, units = shape[1], p.num_units
    params = p.gates * (features * units + units * units)
    if p.b is not None:
        params += p.gates * p.biases_per_gate * units
    out = (units,) if p.only_return_final else (shape[0], units)
    return Inferred(out, params)


def _build(p: RecurrentBase, name: str, shapes: Shapes):
    import keras

    from . import keras_parts as kp

    kwargs: dict[str, Any] = {}
    if isinstance(p, LSTMParams):
        kwargs["unit_forget_bias"] = p.unit_forget_bias
    if isinstance(p, GRUParams):
        kwargs["reset_after"] = True
    layer = getattr(keras.layers, p.keras_class)(
        p.num_units,
        activation=kp.activation_arg(p.nonlinearity) or "linear",
        **kp.weight_args(p.W_in_to_hid, p.b),
        recurrent_initializer=kp.initializer(p.W_hid_to_hid),
        return_sequences=not p.only_return_final,
        go_backwards=p.backwards or p.go_backwards,
        unroll=p.unroll_scan,
        dropout=p.dropout,
        recurrent_dropout=p.recurrent_dropout,
        name=name,
        **kwargs,
    )
    reverse = None
    if p.backwards and not p.only_return_final:
        from .keras_layers import Reverse

        reverse = Reverse(1, name=f"{name}_reverse")

    def make(inputs):
        x = layer(inputs[0])
        return reverse(x) if reverse is not None else x

    return make


def _return_sequences(value: Any) -> dict[str, Any]:
    if not isinstance(value, bool):
        raise ValueError(f"return_sequences must be true or false, got {value!r}")
    return {"only_return_final": not value}


_KERAS_NAMES = {
    "units": "num_units",
    "activation": "nonlinearity",
    "kernel_initializer": "W_in_to_hid",
    "recurrent_initializer": "W_hid_to_hid",
    "bias_initializer": "b",
    "unroll": "unroll_scan",
}
_KERAS_DEFAULTS = {
    "nonlinearity": "tanh",
    "W_in_to_hid": "glorot_uniform",
    "W_hid_to_hid": "orthogonal",
    "b": "zeros",
    "only_return_final": True,
}


def _form(**defaults: Any) -> KerasForm:
    return KerasForm(
        rename=_KERAS_NAMES,
        convert={"return_sequences": _return_sequences},
        defaults={**_KERAS_DEFAULTS, **defaults},
    )


register(
    "RecurrentLayer",
    positional=("num_units",),
    schema=RecurrentParams,
    infer=_infer,
    build=_build,
    keras={"SimpleRNN": _form()},
)
register(
    "LSTMLayer",
    positional=("num_units",),
    schema=LSTMParams,
    infer=_infer,
    build=_build,
    keras={"LSTM": _form(unit_forget_bias=True)},
)
register(
    "GRULayer",
    positional=("num_units",),
    schema=GRUParams,
    infer=_infer,
    build=_build,
    keras={"GRU": _form()},
)
