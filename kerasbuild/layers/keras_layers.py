"""Keras layers that Keras lacks but the reference models need.

Registered as serialisable under the ``kerasbuild`` package so saved ``.keras`` files load in
safe mode once this module is imported (``kerasbuild.compile`` imports it).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasbuild")
class L2Pooling(keras.layers.Layer):
    """L2 pooling (Nielsen ch. 6): ``sqrt(sum of squares)`` over each pooling window.

    Input ``(N, *spatial, C)`` -> ``(N, *spatial_out, C)`` with the same geometry as max pooling
    (``padding='valid'``). Implemented as ``sqrt(avg_pool(x**2) * window_size)``.
    """

    def __init__(self, pool_size, strides, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = tuple(pool_size)
        self.strides = tuple(strides)
        self.padding = padding

    def call(self, x):
        window = 1
        for k in self.pool_size:
            window *= k
        mean_sq = ops.average_pool(ops.square(x), self.pool_size, self.strides, self.padding)
        return ops.sqrt(mean_sq * float(window) + 1e-12)

    def compute_output_shape(self, input_shape):
        return ops.average_pool(keras.KerasTensor(input_shape), self.pool_size, self.strides,
                                self.padding).shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


@keras.saving.register_keras_serializable(package="kerasbuild")
class ScaledTanh(keras.layers.Layer):
    """``scale_out * tanh(scale_in * x)`` (Lasagne ``ScaledTanH``; LeCun's 1.7159, 2/3)."""

    def __init__(self, scale_in=2.0 / 3.0, scale_out=1.7159, **kwargs):
        super().__init__(**kwargs)
        self.scale_in = float(scale_in)
        self.scale_out = float(scale_out)

    def call(self, x):
        return self.scale_out * ops.tanh(self.scale_in * x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale_in": self.scale_in, "scale_out": self.scale_out}


@keras.saving.register_keras_serializable(package="kerasbuild")
class WeightedSum(keras.layers.Layer):
    """``sum_i coeffs[i] * inputs[i]`` (Lasagne ``ElemwiseSumLayer`` with ``coeffs``)."""

    def __init__(self, coeffs, **kwargs):
        super().__init__(**kwargs)
        self.coeffs = [float(c) for c in coeffs]

    def call(self, inputs):
        total = inputs[0] * self.coeffs[0]
        for c, x in zip(self.coeffs[1:], inputs[1:]):
            total = total + c * x
        return total

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "coeffs": self.coeffs}
