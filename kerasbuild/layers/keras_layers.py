"""Keras layers that Keras lacks but the reference models need.

Registered as serialisable under the ``kerasbuild`` package so saved ``.keras`` files load in
safe mode once this module is imported (``kerasbuild.build`` imports it).
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
        return ops.average_pool(
            keras.KerasTensor(input_shape), self.pool_size, self.strides, self.padding
        ).shape

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
        }


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


def _channel_axes(rank: int, shared_axes) -> tuple[int, ...]:
    """Non-shared axes (with the batch axis, 1-based) for ``shared_axes`` without it (0-based)."""
    shared = {a % (rank - 1) for a in shared_axes}
    return tuple(i + 1 for i in range(rank - 1) if i not in shared)


class _Broadcast(keras.layers.Layer):
    """Base of :class:`Bias` and :class:`Scale`: one trainable value per non-shared position.

    ``shared_axes``: axes without the batch axis (0-based, negative counts from the end) along
    which one value is shared; the weight has shape ``input_shape[1:]`` with those axes set to 1.
    """

    default_initializer = "zeros"

    def __init__(self, shared_axes=(), initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.shared_axes = [int(a) for a in shared_axes]
        self.initializer = keras.initializers.get(initializer or self.default_initializer)

    def build(self, input_shape):
        rank = len(input_shape)
        keep = _channel_axes(rank, self.shared_axes)
        shape = tuple(input_shape[i] if i in keep else 1 for i in range(1, rank))
        self.value = self.add_weight(name="value", shape=shape, initializer=self.initializer)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "shared_axes": self.shared_axes,
            "initializer": keras.initializers.serialize(self.initializer),
        }


@keras.saving.register_keras_serializable(package="kerasbuild")
class Bias(_Broadcast):
    """``x + b`` with ``b`` shared along ``shared_axes`` (Lasagne ``BiasLayer``). Shape
    unchanged."""

    default_initializer = "zeros"

    def call(self, x):
        return x + self.value


@keras.saving.register_keras_serializable(package="kerasbuild")
class Scale(_Broadcast):
    """``x * scales`` shared along ``shared_axes`` (Lasagne ``ScaleLayer``). Shape unchanged."""

    default_initializer = "ones"

    def call(self, x):
        return x * self.value


@keras.saving.register_keras_serializable(package="kerasbuild")
class LocalResponseNorm(keras.layers.Layer):
    """Lasagne's ``LocalResponseNormalization2DLayer`` over the channel (last) axis.

    ``y_c = x_c / (k + alpha * sum_{|j - c| <= n // 2} x_j**2) ** beta`` (AlexNet, Krizhevsky
    et al. 2012); ``alpha`` is not divided by ``n``. Channels beyond the edges count as zero.
    Input and output ``(N, H, W, C)`` (any rank works; the last axis is normalised).
    """

    def __init__(self, alpha=1e-4, k=2.0, beta=0.75, n=5, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.k = float(k)
        self.beta = float(beta)
        self.n = int(n)

    def call(self, x):
        half = self.n // 2
        channels = x.shape[-1]
        squares = ops.pad(ops.square(x), [[0, 0]] * (len(x.shape) - 1) + [[half, half]])
        total = squares[..., 0:channels]
        for i in range(1, self.n):
            total = total + squares[..., i : i + channels]
        return x / ops.power(self.k + self.alpha * total, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "k": self.k,
            "beta": self.beta,
            "n": self.n,
        }


@keras.saving.register_keras_serializable(package="kerasbuild")
class FeaturePool(keras.layers.Layer):
    """Maxout / feature pooling (Lasagne ``FeaturePoolLayer``): pools groups of ``pool_size``
    consecutive entries along ``axis`` (without the batch axis; default the channels).

    ``(N, ..., C)`` -> ``(N, ..., C // pool_size)``; group ``g`` holds entries
    ``g*pool_size .. (g+1)*pool_size - 1``. ``pool_function``: ``max`` or ``mean``.
    """

    def __init__(self, pool_size, axis=-1, pool_function="max", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.axis = int(axis)
        self.pool_function = pool_function

    def _axis(self, rank: int) -> int:
        return self.axis + 1 if self.axis >= 0 else rank + self.axis

    def call(self, x):
        axis = self._axis(len(x.shape))
        dims = list(ops.shape(x))
        grouped = ops.reshape(
            x, [-1, *dims[1:axis], dims[axis] // self.pool_size, self.pool_size, *dims[axis + 1 :]]
        )
        reduce = ops.max if self.pool_function == "max" else ops.mean
        return reduce(grouped, axis=axis + 1)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axis = self._axis(len(shape))
        shape[axis] = shape[axis] // self.pool_size
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "axis": self.axis,
            "pool_function": self.pool_function,
        }


@keras.saving.register_keras_serializable(package="kerasbuild")
class Slice(keras.layers.Layer):
    """Lasagne ``SliceLayer``: ``x[..., index]`` (drops the axis) or ``x[..., start:stop:step]``
    along ``axis`` (without the batch axis; negative counts from the end)."""

    def __init__(self, axis=-1, index=None, start=None, stop=None, step=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.index = index
        self.start, self.stop, self.step = start, stop, step

    def _key(self, rank: int) -> tuple:
        axis = self.axis + 1 if self.axis >= 0 else rank + self.axis
        item = self.index if self.index is not None else slice(self.start, self.stop, self.step)
        return (slice(None),) * axis + (item,)

    def call(self, x):
        return x[self._key(len(x.shape))]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axis = self.axis + 1 if self.axis >= 0 else len(shape) + self.axis
        if self.index is not None:
            del shape[axis]
        elif shape[axis] is not None:
            shape[axis] = len(range(shape[axis])[slice(self.start, self.stop, self.step)])
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "index": self.index,
            "start": self.start,
            "stop": self.stop,
            "step": self.step,
        }


@keras.saving.register_keras_serializable(package="kerasbuild")
class Reverse(keras.layers.Layer):
    """Reverses ``axis`` (with the batch axis; default 1, time). Used to return a backwards
    recurrent layer's sequence in input order, as Lasagne's ``backwards: true`` does."""

    def __init__(self, axis=1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, x):
        return ops.flip(x, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@keras.saving.register_keras_serializable(package="kerasbuild")
class StochasticDepth(keras.layers.Layer):
    """Drops a residual branch per example with probability ``rate`` in training, scaling the
    kept ones by ``1 / (1 - rate)`` (Huang et al. 2016); the identity at inference."""

    def __init__(self, rate=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        mask = ops.floor(keep + keras.random.uniform(shape, seed=self.seed_generator))
        return x / keep * ops.cast(mask, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="kerasbuild")
class LayerScale(keras.layers.Layer):
    """``x * gamma`` with one learned factor per channel (last axis), initialised to
    ``init_values`` (Touvron et al. 2021; ConvNeXt). Weight shape ``(C,)``."""

    def __init__(self, init_values=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.init_values = float(init_values)

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma",
            shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(self.init_values),
        )

    def call(self, x):
        return x * ops.cast(self.gamma, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values}


@keras.saving.register_keras_serializable(package="kerasbuild")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position: input ``(T, D)`` -> ``x + E`` with ``E`` of shape
    ``(T, D)`` (ViT, BERT). ``initializer``: Keras initialiser of ``E``."""

    def __init__(self, initializer="random_normal", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            name="embeddings", shape=tuple(input_shape[1:]), initializer=self.initializer
        )

    def call(self, x):
        return x + ops.cast(self.embeddings, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "initializer": keras.initializers.serialize(self.initializer),
        }


@keras.saving.register_keras_serializable(package="kerasbuild")
class ClassToken(keras.layers.Layer):
    """Prepends one learned token to a sequence: ``(T, D)`` -> ``(T + 1, D)`` (ViT's class
    token). Weight shape ``(1, D)``, initialised to zeros."""

    def build(self, input_shape):
        self.token = self.add_weight(name="token", shape=(1, input_shape[-1]), initializer="zeros")

    def call(self, x):
        token = ops.broadcast_to(
            ops.cast(self.token, x.dtype)[None], (ops.shape(x)[0], 1, x.shape[-1])
        )
        return ops.concatenate([token, x], axis=1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], steps, input_shape[2])
