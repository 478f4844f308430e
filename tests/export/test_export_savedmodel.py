"""SavedModel exports of trained runs, loaded back in a fresh process as a serving client would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasbuild.errors import KerasbuildError
from kerasbuild.export import export, predict_exported
from kerasbuild.export.verify import ATOL, RTOL

from .conftest import fresh_python, load_keras

pytestmark = pytest.mark.slow

LOAD_AND_DESCRIBE = """
import tensorflow as tf
loaded = tf.saved_model.load(VERSION)
fn = loaded.signatures["serving_default"]
(_, specs) = fn.structured_input_signature
out = fn(**{name: tf.constant(inputs[name]) for name in specs})
result = {
    "signatures": sorted(loaded.signatures.keys()),
    "inputs": {k: [list(s.shape.as_list()), s.dtype.name] for k, s in specs.items()},
    "outputs": {k: [list(s.shape.as_list()), s.dtype.name] for k, s in fn.structured_outputs.items()},
    "values": {k: v.numpy().tolist() for k, v in out.items()},
    "spec_asset": open(VERSION + "/assets/spec.yaml").read(),
}
if tf.io.gfile.exists(VERSION + "/assets/labels.txt"):
    result["labels"] = open(VERSION + "/assets/labels.txt").read().splitlines()
"""  # noqa: E501


def test_versions_increment_and_carry_spec_and_labels(mnist_run, tmp_path):
    out = tmp_path / "models" / "mnist"
    paths = [export(mnist_run, out).path for _ in range(3)]
    assert [p.name for p in paths] == ["1", "2", "3"]
    assert sorted(p.name for p in out.iterdir()) == ["1", "2", "3"]  # no temp dirs left
    for path in paths:
        assert (path / "saved_model.pb").is_file() and (path / "variables").is_dir()
        assert (path / "assets" / "spec.yaml").read_text() == (mnist_run / "spec.yaml").read_text()
        assert (path / "assets" / "labels.txt").read_text().splitlines() == [
            str(i) for i in range(10)
        ]
        meta = json.loads((path / "assets" / "export.json").read_text())
        assert meta["inputs"] == [{"name": "image", "shape": [28, 28, 1], "dtype": "float32"}]
        assert meta["outputs"] == ["probabilities", "classes"]
        assert meta["preprocessing"] == {"scale": pytest.approx(1 / 255)}


def test_fresh_process_serves_named_signature_matching_keras(
    mnist_run, mnist_test_images, tmp_path
):
    result = export(mnist_run, tmp_path / "m")
    assert result.report.max_abs_diff <= ATOL
    x_raw, labels = mnist_test_images
    got = fresh_python(LOAD_AND_DESCRIBE.replace("VERSION", repr(str(result.path))), image=x_raw)
    assert got["signatures"] == ["serving_default", "serving_uint8"]
    assert got["inputs"] == {"image": [[None, 28, 28, 1], "float32"]}
    assert got["outputs"] == {
        "probabilities": [[None, 10], "float32"],
        "classes": [[None], "int64"],
    }
    probabilities = np.asarray(got["values"]["probabilities"], np.float32)
    classes = np.asarray(got["values"]["classes"])
    model = load_keras(mnist_run)
    expected = np.asarray(model(x_raw / np.float32(255), training=False))
    # Raw 0..255 pixels in, the 1/255 scaling happens inside the exported graph.
    np.testing.assert_allclose(probabilities, expected, atol=ATOL, rtol=RTOL)
    assert probabilities.shape == (200, 10)
    np.testing.assert_array_equal(classes, expected.argmax(axis=1))
    assert (classes == labels).mean() > 0.8  # a trained model, not noise
    assert got["spec_asset"] == (mnist_run / "spec.yaml").read_text()
    assert got["labels"] == [str(i) for i in range(10)]


def test_saved_model_cli_lists_named_inputs_and_outputs(mnist_run, tmp_path):
    path = export(mnist_run, tmp_path / "m").path
    cli = Path(sys.executable).parent / "saved_model_cli"
    command = (
        [str(cli)]
        if cli.exists()
        else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    )
    shown = subprocess.run(
        command
        + ["show", "--dir", str(path), "--tag_set", "serve", "--signature_def", "serving_default"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "inputs['image'] tensor_info:" in text
    assert "outputs['probabilities'] tensor_info:" in text
    assert "outputs['classes'] tensor_info:" in text
    assert "shape: (-1, 28, 28, 1)" in text and "shape: (-1, 10)" in text and "shape: (-1)" in text
    assert "DT_INT64" in text
    assert "Method name is: tensorflow/serving/predict" in text


def test_uint8_pixels_and_float_pixels_give_the_same_probabilities(
    mnist_run, mnist_test_images, tmp_path
):
    path = export(mnist_run, tmp_path / "m").path
    x_raw = mnist_test_images[0][:50]
    got = fresh_python(
        f"""
import tensorflow as tf
loaded = tf.saved_model.load({str(path)!r})
as_float = loaded.signatures["serving_default"](image=tf.constant(inputs["x"].astype("float32")))
as_uint8 = loaded.signatures["serving_uint8"](image=tf.constant(inputs["x"].astype("uint8")))
result = {{"float": as_float["probabilities"].numpy().tolist(), "uint8": as_uint8["probabilities"].numpy().tolist()}}
""",  # noqa: E501
        x=x_raw,
    )
    np.testing.assert_allclose(np.asarray(got["uint8"]), np.asarray(got["float"]), atol=1e-6)
    expected = np.asarray(load_keras(mnist_run)(x_raw / np.float32(255), training=False))
    np.testing.assert_allclose(np.asarray(got["float"]), expected, atol=ATOL, rtol=RTOL)


def test_no_preprocessing_export_takes_model_inputs(mnist_run, mnist_test_images, tmp_path):
    path = export(mnist_run, tmp_path / "m", preprocessing=False).path
    x_raw = mnist_test_images[0][:20]
    model = load_keras(mnist_run)
    scaled = predict_exported(path, x_raw / np.float32(255))["probabilities"]
    np.testing.assert_allclose(
        scaled, np.asarray(model(x_raw / np.float32(255), training=False)), atol=ATOL, rtol=RTOL
    )
    raw = predict_exported(path, x_raw)["probabilities"]
    assert np.abs(raw - scaled).max() > 0.1  # nothing baked in: raw pixels give other answers
    meta = json.loads((path / "assets" / "export.json").read_text())
    assert meta["preprocessing"] is None
    assert meta["client_preprocessing"] == {"scale": pytest.approx(1 / 255)}
    import tensorflow as tf

    assert sorted(tf.saved_model.load(str(path)).signatures.keys()) == [
        "serving_default"
    ]  # no uint8 variant


def test_resize_is_baked_in_and_any_image_size_is_accepted(digits_resize_run, tmp_path):
    from sklearn.datasets import load_digits

    from kerasbuild.data.splits import preprocess_inputs

    path = export(digits_resize_run, tmp_path / "d").path
    digits = load_digits()
    x_raw = digits.images[:100, :, :, None].astype(np.float32)  # 8x8 in 0..16, the source's units
    got = predict_exported(path, x_raw)
    steps = json.loads((digits_resize_run / "run.json").read_text())["preprocessing"]
    assert steps == {"resize": [12, 12], "scale": 0.0625}
    expected = np.asarray(
        load_keras(digits_resize_run)(preprocess_inputs(x_raw, steps), training=False)
    )
    np.testing.assert_allclose(got["probabilities"], expected, atol=ATOL, rtol=RTOL)
    assert (got["classes"] == digits.target[:100]).mean() > 0.5
    meta = json.loads((path / "assets" / "export.json").read_text())
    assert meta["inputs"] == [{"name": "pixels", "shape": [None, None, 1], "dtype": "float32"}]


def test_regression_export_names_predictions_in_target_units(diabetes_run, tmp_path):
    from sklearn.datasets import load_diabetes

    from kerasbuild.runs.predict import load_predictor

    path = export(diabetes_run, tmp_path / "r").path
    data = load_diabetes()
    x = data.data[:80].astype(np.float32)
    got = fresh_python(LOAD_AND_DESCRIBE.replace("VERSION", repr(str(path))), features=x)
    assert got["inputs"] == {"features": [[None, 10], "float32"]}
    assert got["outputs"] == {"predictions": [[None, 1], "float32"]}
    predictions = np.asarray(got["values"]["predictions"])
    # The same numbers kerasbuild predict gives for the run directory (targets mapped back).
    from_run = load_predictor(diabetes_run)(x)
    np.testing.assert_allclose(predictions, from_run, atol=1e-3, rtol=RTOL)
    assert 25 < predictions.mean() < 350  # disease progression units (the targets span 25..346)
    error = np.abs(predictions[:, 0] - data.target[:80]).mean()
    baseline = np.abs(data.target[:80] - data.target.mean()).mean()  # always predicting the mean
    assert error < 0.9 * baseline, (error, baseline)
    assert "labels" not in got  # a regressor has no class names


def test_mismatch_against_the_reference_aborts_and_publishes_nothing(mnist_run, tmp_path):
    import kerasbuild
    from kerasbuild.spec.loader import load_spec

    out = tmp_path / "m"
    export(mnist_run, out)
    other = kerasbuild.build_model(
        load_spec(mnist_run / "spec.yaml")
    )  # same net, untrained weights
    with pytest.raises(
        KerasbuildError,
        match=r"output 'probabilities' differs from the Keras model by up to "
        r".*tolerance 1e-05 \+ 1e-05 \* \|value\|.*not published",
    ):
        export(mnist_run, out, reference=other)
    assert sorted(p.name for p in out.iterdir()) == ["1"]  # no version 2, no temp directory
