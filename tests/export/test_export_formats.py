"""ONNX (onnxruntime) and TFLite (LiteRT interpreter) exports, checked in a fresh process.

The ONNX tests need the ``export`` extra (tf2onnx, onnxruntime, onnx, ai-edge-litert), which
``make setup`` installs; they fail, not skip, without it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kerasbuild.errors import KerasbuildError
from kerasbuild.export import export
from kerasbuild.export.verify import ATOL, RTOL

from .conftest import fresh_python, load_keras

pytestmark = pytest.mark.slow


def keras_probabilities(run, x_raw):
    return np.asarray(load_keras(run)(x_raw / np.float32(255), training=False))


def test_onnx_export_runs_in_onnxruntime_with_matching_outputs(
    mnist_run, mnist_test_images, tmp_path
):
    result = export(mnist_run, tmp_path / "mnist-onnx", fmt="onnx")
    assert result.version == 1 and (result.path / "model.onnx").is_file()
    assert (result.path / "assets" / "spec.yaml").read_text() == (
        mnist_run / "spec.yaml"
    ).read_text()
    assert json.loads((result.path / "assets" / "export.json").read_text())["format"] == "onnx"
    x_raw, labels = mnist_test_images
    got = fresh_python(
        f"""
import onnxruntime as ort
session = ort.InferenceSession({str(result.path / "model.onnx")!r}, providers=["CPUExecutionProvider"])
names = [o.name for o in session.get_outputs()]
values = session.run(names, {{"image": inputs["image"]}})
result = {{
    "inputs": [[i.name, [d if isinstance(d, int) else None for d in i.shape], i.type] for i in session.get_inputs()],
    "outputs": {{o.name: o.type for o in session.get_outputs()}},
    "values": {{n: v.tolist() for n, v in zip(names, values)}},
}}
""",  # noqa: E501
        image=x_raw,
    )
    assert got["inputs"] == [["image", [None, 28, 28, 1], "tensor(float)"]]  # dynamic batch axis
    assert got["outputs"] == {"probabilities": "tensor(float)", "classes": "tensor(int64)"}
    expected = keras_probabilities(mnist_run, x_raw)
    np.testing.assert_allclose(
        np.asarray(got["values"]["probabilities"]), expected, atol=ATOL, rtol=RTOL
    )
    classes = np.asarray(got["values"]["classes"])
    np.testing.assert_array_equal(classes, expected.argmax(axis=1))
    assert (classes == labels).mean() > 0.8


def test_tflite_export_runs_in_the_interpreter_with_matching_outputs(
    mnist_run, mnist_test_images, tmp_path
):
    result = export(mnist_run, tmp_path / "mnist-tflite", fmt="tflite")
    assert (result.path / "model.tflite").is_file()
    assert (result.path / "assets" / "labels.txt").read_text().splitlines() == [
        str(i) for i in range(10)
    ]
    x_raw, labels = mnist_test_images
    got = fresh_python(
        f"""
try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:
    import tensorflow as tf
    Interpreter = tf.lite.Interpreter
interpreter = Interpreter(model_path={str(result.path / "model.tflite")!r})
runner = interpreter.get_signature_runner("serving_default")
detail = runner.get_input_details()["image"]
out = runner(image=inputs["image"])
result = {{
    "signatures": interpreter.get_signature_list(),
    "input": [detail["shape_signature"].tolist(), str(detail["dtype"].__name__)],
    "values": {{k: v.tolist() for k, v in out.items()}},
    "dtypes": {{k: str(v.dtype) for k, v in out.items()}},
}}
""",
        image=x_raw,
    )
    assert got["signatures"] == {
        "serving_default": {"inputs": ["image"], "outputs": ["classes", "probabilities"]}
    }
    assert got["input"] == [[-1, 28, 28, 1], "float32"]
    assert got["dtypes"] == {"classes": "int64", "probabilities": "float32"}
    expected = keras_probabilities(mnist_run, x_raw)
    np.testing.assert_allclose(
        np.asarray(got["values"]["probabilities"]), expected, atol=ATOL, rtol=RTOL
    )
    classes = np.asarray(got["values"]["classes"])
    np.testing.assert_array_equal(classes, expected.argmax(axis=1))
    assert (classes == labels).mean() > 0.8


@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
def test_regression_and_resize_exports_match_in_other_formats(
    fmt, diabetes_run, digits_resize_run, tmp_path
):
    from kerasbuild.export import predict_exported
    from kerasbuild.runs.predict import load_predictor

    regression = export(diabetes_run, tmp_path / f"r-{fmt}", fmt=fmt)
    assert regression.output_names == ["predictions"]
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.05, size=(16, 10)).astype(np.float32)
    np.testing.assert_allclose(
        predict_exported(regression.path, x)["predictions"],
        load_predictor(diabetes_run)(x),
        atol=1e-3,
        rtol=RTOL,
    )
    resized = export(digits_resize_run, tmp_path / f"d-{fmt}", fmt=fmt)
    images = rng.integers(0, 17, size=(5, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(
        predict_exported(resized.path, images)["probabilities"],
        load_predictor(digits_resize_run)(images),
        atol=ATOL,
        rtol=RTOL,
    )


def test_formats_are_not_mixed_in_one_model_directory(mnist_run, tmp_path):
    out = tmp_path / "mnist"
    export(mnist_run, out)
    with pytest.raises(
        KerasbuildError,
        match=r"1 is a savedmodel export; put tflite exports in their own "
        r"directory \(e.g. --out .*mnist-tflite\)",
    ):
        export(mnist_run, out, fmt="tflite")
    with pytest.raises(
        KerasbuildError,
        match="unknown export format 'pb'; expected one of: savedmodel, onnx, tflite",
    ):
        export(mnist_run, out, fmt="pb")
    assert sorted(p.name for p in out.iterdir()) == ["1"]
