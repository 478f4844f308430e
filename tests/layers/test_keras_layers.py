"""The custom Keras layers compute what their Lasagne counterparts compute (numpy references)
and survive a ``.keras`` save/load in safe mode."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import kerasbuild
from kerasbuild import build_model, load_spec

keras = pytest.importorskip("keras")
from kerasbuild.layers import keras_layers  # noqa: E402

RNG = np.random.default_rng(1234)


def _custom_layer_classes() -> set[str]:
    return {
        name
        for name, cls in inspect.getmembers(keras_layers, inspect.isclass)
        if cls.__module__ == keras_layers.__name__
        and issubclass(cls, keras.layers.Layer)
        and not name.startswith("_")
    }


def test_l2_pooling_is_the_root_of_the_sum_of_squares_per_window():
    x = RNG.normal(size=(2, 6, 7, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(keras_layers.L2Pooling((2, 3), (2, 2))(x))
    expected = np.zeros((2, 3, 3, 3), "float32")
    for i in range(3):
        for j in range(3):
            window = x[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 3, :]
            expected[:, i, j, :] = np.sqrt((window**2).sum(axis=(1, 2)))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def _lrn_reference(x: np.ndarray, alpha: float, k: float, beta: float, n: int) -> np.ndarray:
    """Lasagne's LocalResponseNormalization2DLayer, written out channel by channel (NHWC)."""
    half = n // 2
    channels = x.shape[-1]
    out = np.empty_like(x)
    for c in range(channels):
        lo, hi = max(0, c - half), min(channels, c + half + 1)
        scale = k + alpha * (x[..., lo:hi] ** 2).sum(axis=-1)
        out[..., c] = x[..., c] / scale**beta
    return out


@pytest.mark.parametrize(
    "alpha, k, beta, n", [(1e-4, 2.0, 0.75, 5), (0.5, 1.0, 0.75, 3), (0.2, 2.0, 0.5, 7)]
)
def test_local_response_normalisation_matches_lasagne_formula(alpha, k, beta, n):
    x = RNG.normal(scale=2.0, size=(2, 3, 4, 9)).astype("float32")
    out = keras.ops.convert_to_numpy(keras_layers.LocalResponseNorm(alpha, k, beta, n)(x))
    expected = _lrn_reference(x, alpha, k, beta, n)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    if alpha >= 0.2:  # the normalisation visibly changes the values
        assert np.abs(out - x / k**beta).max() > 0.05


def test_local_response_normalisation_equals_tensorflow_lrn():
    import tensorflow as tf

    x = RNG.normal(size=(2, 5, 5, 8)).astype("float32")
    out = keras.ops.convert_to_numpy(keras_layers.LocalResponseNorm(0.3, 2.0, 0.75, 5)(x))
    tf_out = tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=0.3, beta=0.75)
    np.testing.assert_allclose(out, tf_out.numpy(), rtol=1e-5, atol=1e-6)


def test_feature_pool_is_max_or_mean_over_consecutive_channel_groups():
    x = RNG.normal(size=(2, 3, 3, 6)).astype("float32")
    out = keras.ops.convert_to_numpy(keras_layers.FeaturePool(3)(x))
    np.testing.assert_allclose(out, x.reshape(2, 3, 3, 2, 3).max(axis=-1))
    seq = RNG.normal(size=(2, 8, 5)).astype("float32")
    out = keras.ops.convert_to_numpy(keras_layers.FeaturePool(4, axis=0, pool_function="mean")(seq))
    np.testing.assert_allclose(out, seq.reshape(2, 2, 4, 5).mean(axis=2), rtol=1e-6, atol=1e-6)


def test_weighted_sum_scales_each_input():
    a, b, c = (RNG.normal(size=(3, 4)).astype("float32") for _ in range(3))
    out = keras.ops.convert_to_numpy(keras_layers.WeightedSum([0.5, -2.0, 3.0])([a, b, c]))
    np.testing.assert_allclose(out, 0.5 * a - 2.0 * b + 3.0 * c, rtol=1e-6, atol=1e-6)


def test_bias_and_scale_broadcast_one_value_per_channel():
    x = RNG.normal(size=(2, 3, 3, 4)).astype("float32")
    bias, scale = keras_layers.Bias((0, 1)), keras_layers.Scale((0, 1))
    bias.build(x.shape)
    scale.build(x.shape)
    b = RNG.normal(size=(1, 1, 4)).astype("float32")
    s = RNG.normal(size=(1, 1, 4)).astype("float32")
    bias.set_weights([b])
    scale.set_weights([s])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bias(x)), x + b, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scale(x)), x * s, rtol=1e-6)
    assert keras_layers.Scale(())(x).shape == x.shape
    per_position = keras_layers.Bias(())
    per_position.build(x.shape)
    assert per_position.count_params() == 3 * 3 * 4


def test_slice_and_reverse_index_like_numpy():
    x = RNG.normal(size=(2, 5, 6)).astype("float32")
    as_np = keras.ops.convert_to_numpy
    np.testing.assert_array_equal(
        as_np(keras_layers.Slice(-1, start=1, stop=None, step=2)(x)), x[..., 1::2]
    )
    np.testing.assert_array_equal(as_np(keras_layers.Slice(0, index=-1)(x)), x[:, -1])
    np.testing.assert_array_equal(as_np(keras_layers.Reverse(1)(x)), x[:, ::-1])
    np.testing.assert_allclose(
        as_np(keras_layers.ScaledTanh()(x)), 1.7159 * np.tanh(2 / 3 * x), rtol=1e-5
    )


def _transposed_reference(x, kernel, bias, stride, crop, out_size):
    """Lasagne's transposed convolution: scatter every input pixel times the kernel, then crop."""
    n, h, w, _ = x.shape
    kh, kw, filters, _ = kernel.shape
    full = np.zeros((n, (h - 1) * stride + kh + 1, (w - 1) * stride + kw + 1, filters), "float32")
    for i in range(h):
        for j in range(w):
            full[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :] += np.einsum(
                "nc,abfc->nabf", x[:, i, j, :], kernel
            )
    return full[:, crop : crop + out_size[0], crop : crop + out_size[1], :] + bias


@pytest.mark.parametrize(
    "crop, output_padding, expected_size",
    [("same", 0, 9), ("same", 1, 10), ("valid", 0, 11), ("full", 1, 8), (1, 0, 9)],
)
def test_transposed_convolution_crops_as_lasagne(crop, output_padding, expected_size):
    loaded = load_spec(
        {
            "layers": [
                {"name": "x", "type": "InputLayer", "shape": [5, 5, 2]},
                {
                    "name": "up",
                    "type": "TransposedConv2DLayer",
                    "num_filters": 3,
                    "filter_size": 3,
                    "stride": 2,
                    "crop": crop,
                    "output_padding": output_padding,
                    "nonlinearity": None,
                    "b": 0.25,
                },
            ]
        }
    )
    assert loaded.graph.by_name["up"].shape == (expected_size, expected_size, 3)
    model = build_model(loaded)
    kernel = RNG.normal(size=(3, 3, 3, 2)).astype("float32")
    model.get_layer("up").set_weights([kernel, np.full(3, 0.25, "float32")])
    x = RNG.normal(size=(2, 5, 5, 2)).astype("float32")
    amount = {"same": 1, "valid": 0, "full": 2}.get(crop, crop)
    expected = _transposed_reference(x, kernel, 0.25, 2, amount, (expected_size,) * 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)


def test_spatial_dropout_drops_whole_feature_maps():
    loaded = load_spec(
        {
            "layers": [
                {"name": "x", "type": "InputLayer", "shape": [6, 6, 64]},
                {"name": "drop", "type": "SpatialDropoutLayer", "p": 0.5},
            ]
        }
    )
    model = build_model(loaded)
    x = np.ones((4, 6, 6, 64), "float32")
    out = keras.ops.convert_to_numpy(model(x, training=True))
    per_map = out.reshape(4, 36, 64)
    assert np.all((per_map == 0).all(axis=1) | (per_map == 2.0).all(axis=1))
    assert 0.3 < (per_map[:, 0, :] == 0).mean() < 0.7
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x, training=False)), x)


def test_backwards_recurrent_output_is_in_input_order():
    """Lasagne's backwards: true reads the sequence last to first but returns the states in
    input order, so its last step has seen only the last input (Keras' go_backwards differs)."""
    spec = {
        "layers": [
            {"name": "x", "type": "InputLayer", "shape": [6, 2], "layout": "nhwc"},
            {
                "name": "rnn",
                "type": "RecurrentLayer",
                "num_units": 3,
                "backwards": True,
                "nonlinearity": "tanh",
                "W_in_to_hid": "glorot_uniform",
            },
        ]
    }
    model = build_model(load_spec(spec))
    x = RNG.normal(size=(2, 6, 2)).astype("float32")
    full = model.predict(x, verbose=0)
    only_last = model.predict(x[:, -1:], verbose=0)
    np.testing.assert_allclose(full[:, -1], only_last[:, 0], rtol=1e-5, atol=1e-6)


SAVE_SPEC = {
    "name": "every_custom_layer",
    "layers": [
        {"name": "x", "type": "InputLayer", "shape": [8, 8, 4]},
        {
            "name": "conv",
            "type": "Conv2DLayer",
            "num_filters": 6,
            "filter_size": 3,
            "pad": "same",
            "nonlinearity": "scaled_tanh",
        },
        {"name": "pool", "type": "Pool2DLayer", "pool_size": 2, "mode": "l2"},
        {"name": "lrn", "type": "LocalResponseNormalization2DLayer", "alpha": 0.5, "n": 3},
        {"name": "maxout", "type": "FeaturePoolLayer", "pool_size": 2, "pool_function": "mean"},
        {"name": "bias", "type": "BiasLayer", "b": 0.3},
        {"name": "scale", "type": "ScaleLayer", "scales": 1.5, "shared_axes": [0]},
        {
            "name": "mix",
            "type": "ElemwiseSumLayer",
            "incomings": ["maxout", "scale"],
            "coeffs": [0.5, 2.0],
        },
        {"name": "prelu", "type": "ParametricRectifierLayer"},
        {"name": "layer_scale", "type": "LayerScale", "init_values": 0.5},
        {"name": "drop_path", "type": "StochasticDepth", "rate": 0.3},
        {"name": "seq", "type": "ReshapeLayer", "shape": [[0], 16, 3]},
        {"name": "cls", "type": "ClassToken"},
        {"name": "pos", "type": "PositionEmbedding"},
        {"name": "lstm", "type": "LSTMLayer", "num_units": 4, "backwards": True},
        {"name": "every_other", "type": "SliceLayer", "indices": [0, None, 2], "axis": 0},
        {"name": "out", "type": "DenseLayer", "num_units": 3, "nonlinearity": "softmax"},
    ],
}


def test_save_and_load_in_safe_mode_gives_identical_predictions(tmp_path):
    loaded = load_spec(SAVE_SPEC)
    model = kerasbuild.build_model(loaded)
    used = {type(layer).__name__ for layer in model.layers}
    assert _custom_layer_classes() <= used, "add the missing custom layers to SAVE_SPEC"
    assert model.count_params() == loaded.graph.total_params
    x = RNG.normal(size=(3, 8, 8, 4)).astype("float32")
    before = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert [type(layer).__name__ for layer in reloaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), before, rtol=1e-6, atol=1e-6)
    assert before.shape == (3, 3)
    np.testing.assert_allclose(before.sum(axis=1), 1.0, rtol=1e-5)
