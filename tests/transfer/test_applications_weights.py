"""Weights saved from a randomly initialised keras.applications.MobileNetV2 load into
specs/mobilenet_v2.yaml and give the same outputs: from a Keras 3 ``.weights.h5`` (Keras'
class-and-counter keys) and from a ``.keras`` model (layer names, then order for the layers the spec
names differently: 99 of its 105 layers); a Keras 2 style ``.h5`` (layer names in its attributes)
loads too."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasbuild import KerasbuildError, build_model, load_spec  # noqa: E402

SPEC = Path(__file__).resolve().parents[2] / "specs" / "mobilenet_v2.yaml"


@pytest.mark.slow
def test_mobilenet_v2_weights_from_keras_applications_give_equal_outputs(tmp_path):
    import keras

    from kerasbuild.transfer.init_weights import load_initial_weights

    reference = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    reference.save_weights(tmp_path / "mnv2.weights.h5")
    reference.save(tmp_path / "mnv2.keras")
    images = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(reference(images, training=False))
    ours = build_model(load_spec(SPEC, overrides={"layers.image.shape": [96, 96, 3]}))
    for name, by_order in (("mnv2.weights.h5", 0), ("mnv2.keras", 99)):
        for variable in ours.weights:  # start from zeros: the file must supply every value
            variable.assign(np.zeros(variable.shape, "float32"))
        report = load_initial_weights(ours, tmp_path / name)
        assert report.startswith(
            f"loaded 105 of 105 layers from {tmp_path / name} ({105 - by_order} by name, "
            f"{by_order} by order)"
        ), report
        actual = keras.ops.convert_to_numpy(ours(images, training=False))
        assert np.abs(actual - expected).max() < 1e-5 and expected.std() > 0


def test_keras2_h5_loads_by_layer_name_and_strict_refuses_a_partial_match(tmp_path):

    from kerasbuild.transfer.init_weights import load_initial_weights

    spec = """
name: small
input: {shape: [8, 8, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 4, filter_size: 3}
  - {name: output, type: DenseLayer, num_units: %d, nonlinearity: softmax}
"""
    from kerasbuild import load_text

    source = build_model(load_text(spec % 10))
    source.save(tmp_path / "legacy.h5")  # Keras 2 HDF5: model_weights with layer_names
    target = build_model(load_text(spec % 3))
    with pytest.raises(
        KerasbuildError,
        match="skipped 1: output .shapes 144x3, 3 here, 144x10, 10 in the file.; "
        "set init.strict: false",
    ):
        load_initial_weights(target, tmp_path / "legacy.h5")
    report = load_initial_weights(target, tmp_path / "legacy.h5", strict=False)
    assert report.startswith("loaded 1 of 2 layers") and "skipped 1: output" in report
    for ours, theirs in zip(
        target.get_layer("conv1").get_weights(),
        source.get_layer("conv1").get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, theirs)
