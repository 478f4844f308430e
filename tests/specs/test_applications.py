"""The keras.applications families written as specs equal the Keras models: same parameter
count (pure Python, no TensorFlow) and the same outputs once the Keras model's weights are
copied into the spec's model in ``model.weights`` order.

The output checks build each net once, at a smaller input size than 224 where the net allows
(the Keras model is built with the same ``input_shape``), and compare the logits (softmax
replaced by a linear output on both sides) on two random 0-255 images.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasbuild import load_spec  # noqa: E402

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs"

APPLICATIONS = {
    # spec: (keras.applications name, parameters, side of the test images)
    "mobilenet_v2": ("MobileNetV2", 3_538_984, 96),
    "densenet121": ("DenseNet121", 8_062_504, 64),
    "xception": ("Xception", 22_910_480, 96),
    "efficientnet_b0": ("EfficientNetB0", 5_330_571, 64),
    "convnext_tiny": ("ConvNeXtTiny", 28_589_128, 32),
    "inception_v3": ("InceptionV3", 23_851_784, 75),
}


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_parameter_count_equals_keras_applications(name):
    """Pure-Python inference gives keras.applications' count (checked against Keras below)."""
    loaded = load_spec(SPEC_DIR / f"{name}.yaml")
    assert loaded.graph.total_params == APPLICATIONS[name][1]
    assert len((SPEC_DIR / f"{name}.yaml").read_text().splitlines()) < 150


def copy_weights(source, target) -> int:
    """Assign ``source``'s weights to ``target``'s, pairing them in ``model.weights`` order;
    every pair must have the same shape. Returns the number of values copied."""
    assert len(source.weights) == len(target.weights)
    copied = 0
    for ours, theirs in zip(target.weights, source.weights):
        assert tuple(ours.shape) == tuple(theirs.shape), (ours.path, theirs.path)
        ours.assign(theirs)
        copied += int(np.prod(ours.shape))
    return copied


def assert_same_outputs(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal within 1e-4, and within 1e-3 of the outputs' own scale (randomly initialised
    nets can shrink their logits to 1e-11, where an absolute bound alone proves nothing); the
    outputs differ between the two images on that scale."""
    scale = float(np.abs(expected).max())
    assert scale > 0 and np.abs(expected[0] - expected[1]).max() > 1e-3 * scale
    diff = float(np.abs(actual - expected).max())
    assert diff < 1e-4 and diff <= 1e-3 * scale, (diff, scale)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_outputs_equal_keras_applications(name):
    import keras

    from kerasbuild import build_model

    keras_name, count, side = APPLICATIONS[name]
    loaded = load_spec(
        SPEC_DIR / f"{name}.yaml",
        overrides={
            "layers.image.shape": [side, side, 3],
            "layers.predictions.nonlinearity": "linear",
        },
    )
    reference = getattr(keras.applications, keras_name)(
        weights=None, input_shape=(side, side, 3), classifier_activation=None
    )
    ours = build_model(loaded)
    try:
        assert ours.count_params() == reference.count_params() == loaded.graph.total_params
        assert copy_weights(reference, ours) == count
        images = np.random.default_rng(0).uniform(0, 255, (2, side, side, 3)).astype("float32")
        expected = keras.ops.convert_to_numpy(reference(images, training=False))
        actual = keras.ops.convert_to_numpy(ours(images, training=False))
        assert actual.shape == (2, 1000)
        assert_same_outputs(actual, expected)
    finally:
        del ours, reference
        keras.backend.clear_session()
        gc.collect()
