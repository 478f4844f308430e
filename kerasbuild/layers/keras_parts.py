"""Translate schema values (nonlinearities, initialisers, regularisers) into Keras objects.

Imported only by builders, i.e. when a model is actually built.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from .base import NONLINEARITIES, InitSpec


def activation(name: str | None):
    """Keras activation for a nonlinearity name (``None``/linear -> ``None``)."""
    keras_name = NONLINEARITIES[name] if name is not None else None
    if keras_name is None:
        return None
    if keras_name.startswith("leaky_relu_"):
        slope = float(keras_name.rsplit("_", 1)[1])
        return lambda x: keras.ops.leaky_relu(x, negative_slope=slope)
    if keras_name == "scaled_tanh":
        # Lasagne ScaledTanH default (LeCun 1998): 1.7159 * tanh(2/3 x)
        return lambda x: 1.7159 * keras.ops.tanh(x * (2.0 / 3.0))
    return keras.activations.get(keras_name)


def activation_layer(name: str | None, layer_name: str):
    """A separate activation layer, or ``None`` for linear."""
    fn = activation(name)
    if fn is None:
        return None
    keras_name = NONLINEARITIES[name]
    if keras_name.startswith("leaky_relu_"):
        return keras.layers.LeakyReLU(
            negative_slope=float(keras_name.rsplit("_", 1)[1]), name=layer_name
        )
    if keras_name == "scaled_tanh":
        from .keras_layers import ScaledTanh

        return ScaledTanh(name=layer_name)
    return keras.layers.Activation(keras_name, name=layer_name)


def activation_arg(name: str | None):
    """Value for a Keras layer's ``activation=`` argument (serialisable where possible)."""
    if name is None:
        return None
    keras_name = NONLINEARITIES[name]
    if keras_name is None:
        return None
    if keras_name.startswith("leaky_relu_") or keras_name == "scaled_tanh":
        return None  # applied as a separate layer by the builder
    return keras_name


def needs_separate_activation(name: str | None) -> bool:
    return name is not None and activation_arg(name) is None and NONLINEARITIES[name] is not None


def initializer(value: Any):
    """Keras initializer for a Lasagne/Keras initialiser value."""
    if isinstance(value, float):
        return keras.initializers.Constant(value)
    if isinstance(value, str):
        if value in (
            "GlorotUniform",
            "GlorotNormal",
            "HeUniform",
            "HeNormal",
            "Orthogonal",
            "Normal",
            "Uniform",
            "Constant",
        ):
            return initializer(InitSpec(type=value))
        return keras.initializers.get(value)
    spec: InitSpec = value
    gain = spec.gain
    if gain == "relu":
        gain = math.sqrt(2.0)
    gain = 1.0 if gain is None else float(gain)
    if spec.type == "GlorotUniform":
        return keras.initializers.VarianceScaling(gain**2, "fan_avg", "uniform")
    if spec.type == "GlorotNormal":
        return keras.initializers.VarianceScaling(gain**2, "fan_avg", "untruncated_normal")
    if spec.type == "HeUniform":
        return keras.initializers.VarianceScaling(gain**2, "fan_in", "uniform")
    if spec.type == "HeNormal":
        return keras.initializers.VarianceScaling(gain**2, "fan_in", "untruncated_normal")
    if spec.type == "Orthogonal":
        return keras.initializers.Orthogonal(gain=gain)
    if spec.type == "Normal":
        return keras.initializers.RandomNormal(mean=spec.mean or 0.0, stddev=spec.std or 0.01)
    if spec.type == "Uniform":
        if spec.range is not None:
            low, high = (-spec.range, spec.range) if isinstance(spec.range, float) else spec.range
        else:
            std = spec.std or 0.01
            mean = spec.mean or 0.0
            low, high = mean - math.sqrt(3) * std, mean + math.sqrt(3) * std
        return keras.initializers.RandomUniform(low, high)
    return keras.initializers.Constant(spec.val or 0.0)


def regularizer(l1: float, l2: float):
    if not l1 and not l2:
        return None
    return keras.regularizers.L1L2(l1=l1 or 0.0, l2=l2 or 0.0)


def constraint(max_norm: float | None, axis: Any = None):
    if max_norm is None:
        return None
    if axis is None:
        return keras.constraints.MaxNorm(max_norm)
    return keras.constraints.MaxNorm(max_norm, axis=axis)


def weight_args(W: Any, b: Any, penalties: Any = None, norm_axis: Any = None) -> dict[str, Any]:
    """Keras' kernel and bias keyword arguments for a layer with weights ``W`` and bias ``b``
    (``None``: no bias) and, given ``penalties`` (a
    :class:`~kerasbuild.layers.regularize.WeightPenalties`), its ``l1``/``l2`` regulariser and
    its ``max_norm`` constraint over ``norm_axis`` of the kernel."""
    args: dict[str, Any] = {
        "use_bias": b is not None,
        "kernel_initializer": initializer(W),
        "bias_initializer": initializer(b) if b is not None else "zeros",
    }
    if penalties is not None:
        args["kernel_regularizer"] = regularizer(penalties.l1, penalties.l2)
        args["kernel_constraint"] = constraint(penalties.max_norm, norm_axis)
    return args
