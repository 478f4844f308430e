"""Mixed-precision runs (``mixed_bfloat16``, ``mixed_float16``) train as well as float32 and
export to SavedModel, ONNX and TFLite (float32, and float16 weights) with float32 signatures
and outputs close to the trained Keras model's, on real digits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kerasbuild.export import export
from kerasbuild.export.exporter import FORMATS
from kerasbuild.export.float32 import machine_epsilon
from kerasbuild.export.verify import LOW_PRECISION_EPSILONS, tolerance_for
from kerasbuild.runs.runner import train
from kerasbuild.spec.loader import load_spec
from kerasbuild.summary import summary_dict

from .conftest import load_keras

pytestmark = pytest.mark.slow

SPEC = """\
name: digits_mixed
input: {shape: [8, 8, 1], name: image}
layers:
  - {name: conv1, type: Conv2D, filters: 12, kernel_size: 3, padding: same, activation: relu}
  - {name: pool1, type: MaxPooling2D, pool_size: 2}
  - {name: flat, type: Flatten}
  - {name: output, type: Dense, units: 10, activation: softmax}
data: {source: "builtin:digits", test_size: 0.2, seed: 0}
train: {update: adam, update_learning_rate: 0.01, batch_size: 32, max_epochs: 6, seed: 0, verbose: 0}
"""  # noqa: E501
EXPORTS = [("savedmodel", None), ("onnx", None), ("tflite", None), ("tflite", "float16")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run directories by precision, trained on the same split with the same seed."""
    root = tmp_path_factory.mktemp("mixed")
    (root / "spec.yaml").write_text(SPEC)
    found = {}
    for precision in ("float32", "mixed_bfloat16", "mixed_float16"):
        train(
            load_spec(root / "spec.yaml", overrides={"train.precision": precision}),
            root / precision,
        )
        found[precision] = root / precision
    return found


@pytest.fixture(scope="module")
def real_digits():
    """The last 200 scikit-learn digits (some were trained on) as raw pixels (0..16, NHWC float32)
    and labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images[-200:, :, :, None].astype(np.float32), digits.target[-200:]


def _accuracy(run_dir) -> float:
    return json.loads((run_dir / "metrics.json").read_text())["test_accuracy"]


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_run_matches_float32_accuracy_and_reports_its_dtypes(runs, precision):
    run = runs[precision]
    assert _accuracy(run) >= 0.9
    assert _accuracy(run) >= _accuracy(runs["float32"]) - 0.03
    model = load_keras(run)
    assert model.outputs[0].dtype == "float32"
    execution = json.loads((run / "run.json").read_text())["execution"]
    declared = {
        layer["name"]: layer["dtype"]
        for layer in summary_dict(load_spec(run / "spec.yaml"))["layers"]
    }
    assert declared == {
        "image": precision,
        "conv1": precision,
        "pool1": precision,
        "flat": precision,
        "output": "float32",
    }
    for name, dtype in declared.items():  # summary (no TensorFlow) says what the trained model ran
        assert execution["layer_dtypes"][name] == dtype
        if name != "image":  # a reloaded input layer computes nothing and takes its input dtype
            assert model.get_layer(name).dtype_policy.name == dtype


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize(("fmt", "quantize"), EXPORTS)
def test_mixed_precision_export_is_float32_and_close_to_keras(
    runs, real_digits, tmp_path, precision, fmt, quantize
):
    run = runs[precision]
    result = export(run, tmp_path / "model", fmt=fmt, quantize=quantize)
    compute = precision.removeprefix("mixed_")
    expected_dtype = "bfloat16" if compute == "bfloat16" else "float16"
    assert result.report.tolerance.dtype == expected_dtype
    assert result.report.atol == pytest.approx(
        LOW_PRECISION_EPSILONS * machine_epsilon(expected_dtype)
    )
    assert result.report.max_abs_diff <= result.report.atol

    images, labels = real_digits
    got = FORMATS[fmt].runner(result.path)({"image": images})
    assert got["probabilities"].dtype == np.float32 and got["classes"].dtype == np.int64
    assert got["probabilities"].shape == (200, 10)
    if fmt == "savedmodel":
        import tensorflow as tf

        signature = tf.saved_model.load(str(result.path)).signatures["serving_default"]
        assert {n: s.dtype for n, s in signature.structured_outputs.items()} == {
            "probabilities": tf.float32,
            "classes": tf.int64,
        }
    keras_probabilities = np.asarray(load_keras(run)(images / np.float32(16), training=False))
    tolerance = tolerance_for(expected_dtype)
    np.testing.assert_allclose(
        got["probabilities"], keras_probabilities, atol=tolerance.atol, rtol=tolerance.rtol
    )
    keras_accuracy = float(np.mean(np.argmax(keras_probabilities, axis=-1) == labels))
    assert keras_accuracy >= 0.85
    assert abs(float(np.mean(got["classes"] == labels)) - keras_accuracy) <= 0.01
