"""The small modern nets of the library: ``specs/vit_tiny.yaml`` equals the same ViT written by
hand in Keras (parameters, weight shapes and outputs) and learns the bundled digits;
``specs/unet_small.yaml`` maps an image to a per-pixel class distribution of its size."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasbuild import load_spec  # noqa: E402
from kerasbuild.cli import app  # noqa: E402

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs"
VIT_PARAMS = 139_018
UNET_PARAMS = 116_770


def hand_written_vit():
    """ViT on 28x28x1: 4x4 patches to width 64, class token, position embeddings, four pre-norm
    blocks (4 heads, MLP 128, GELU), final layer norm, softmax on the class token."""
    import keras
    from keras import layers, ops

    class PrependToken(layers.Layer):
        def build(self, shape):
            self.cls = self.add_weight(shape=(1, shape[-1]), initializer="zeros")

        def call(self, x):
            return ops.concatenate([ops.tile(self.cls[None], (ops.shape(x)[0], 1, 1)), x], axis=1)

    class AddPositions(layers.Layer):
        def build(self, shape):
            self.table = self.add_weight(shape=tuple(shape[1:]), initializer="random_normal")

        def call(self, x):
            return x + self.table

    image = keras.Input((28, 28, 1))
    x = layers.Reshape((49, 64))(layers.Conv2D(64, 4, strides=4)(image))
    x = AddPositions()(PrependToken()(x))
    for _ in range(4):
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        x = layers.Add()([x, layers.MultiHeadAttention(4, 16)(y, y)])
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        x = layers.Add()([x, layers.Dense(64)(layers.Dense(128, activation="gelu")(y))])
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return keras.Model(image, layers.Dense(10, activation="softmax")(x[:, 0]))


def test_vit_tiny_equals_the_hand_written_keras_vit():
    """Same parameter count as the Keras ViT, and the same outputs once its weights (paired in
    ``model.weights`` order, shapes checked) are copied in."""
    import keras

    from kerasbuild import build_model

    loaded = load_spec(SPEC_DIR / "vit_tiny.yaml")
    assert loaded.graph.total_params == loaded.graph.trainable_params == VIT_PARAMS
    reference, ours = hand_written_vit(), build_model(loaded)
    try:
        assert reference.count_params() == ours.count_params() == VIT_PARAMS
        assert len(reference.weights) == len(ours.weights) == 4 + 4 * 16 + 4
        for mine, theirs in zip(ours.weights, reference.weights):
            assert tuple(mine.shape) == tuple(theirs.shape), (mine.path, theirs.path)
            mine.assign(theirs)
        images = np.random.default_rng(0).uniform(0, 1, (4, 28, 28, 1)).astype("float32")
        expected = keras.ops.convert_to_numpy(reference(images, training=False))
        actual = keras.ops.convert_to_numpy(ours(images, training=False))
        assert actual.shape == (4, 10)
        assert np.abs(expected - expected.mean(axis=0)).max() > 1e-3
        assert np.abs(actual - expected).max() < 1e-5
    finally:
        del reference, ours
        keras.backend.clear_session()
        gc.collect()


@pytest.mark.slow
def test_vit_tiny_learns_the_bundled_digits(tmp_path):
    """Two epochs of Adam (batches of 32) on 2,000 digits of builtin:mnist_5k (1,440 for
    training) reach well above chance (10 %) on the 400 held-out digits."""
    run = tmp_path / "vit"
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(SPEC_DIR / "vit_tiny.yaml"),
            "--run-dir",
            str(run),
            "--set",
            "train.max_epochs=2",
            "--set",
            "train.batch_size=32",
            "--set",
            "data.limit=2000",
            "--set",
            "train.verbose=0",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_test"] == 400
    assert metrics["test_accuracy"] > 0.5, metrics


def test_unet_small_gives_a_class_distribution_per_pixel():
    """Validates without TensorFlow; the built model maps (N, 28, 28, 1) to (N, 28, 28, 2)
    probabilities (each pixel's sum 1), and its skip connections concatenate encoder maps."""
    import keras

    from kerasbuild import build_model

    result = CliRunner().invoke(app, ["validate", str(SPEC_DIR / "unet_small.yaml")])
    assert result.exit_code == 0, result.output
    loaded = load_spec(SPEC_DIR / "unet_small.yaml")
    assert loaded.graph.total_params == UNET_PARAMS
    graph = loaded.graph.by_name
    assert graph["dec1_concat"].shape == (28, 28, 32) and graph["dec2_concat"].shape == (14, 14, 64)
    model = build_model(loaded)
    try:
        assert model.count_params() == UNET_PARAMS
        images = np.random.default_rng(0).uniform(0, 1, (3, 28, 28, 1)).astype("float32")
        probabilities = keras.ops.convert_to_numpy(model(images, training=False))
        assert (
            probabilities.shape
            == (3, 28, 28, 2)
            == (3, *loaded.graph.by_name["image"].shape[:2], 2)
        )
        assert np.allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)
        assert probabilities.min() >= 0 and np.ptp(probabilities[..., 1]) > 0
    finally:
        del model
        keras.backend.clear_session()
        gc.collect()
