"""Signature naming for models with several inputs and outputs (named after the spec's layers)."""

from __future__ import annotations

import numpy as np
import pytest

import kerasbuild
from kerasbuild.export import export, predict_exported
from kerasbuild.export.verify import ATOL, RTOL

MULTI = {
    "name": "multi",
    "layers": [
        {"name": "image", "type": "InputLayer", "shape": [8, 8, 1]},
        {"name": "extra", "type": "InputLayer", "shape": [3]},
        {"name": "flat", "type": "FlattenLayer", "incoming": "image"},
        {"name": "joined", "type": "ConcatLayer", "incomings": ["flat", "extra"]},
        {"name": "digit", "type": "DenseLayer", "num_units": 10, "nonlinearity": "softmax"},
        {
            "name": "size",
            "type": "DenseLayer",
            "num_units": 2,
            "nonlinearity": "linear",
            "incoming": "joined",
        },
    ],
    "outputs": ["digit", "size"],
}


@pytest.fixture(scope="module")
def multi_keras(tmp_path_factory):
    path = tmp_path_factory.mktemp("multi") / "multi.keras"
    kerasbuild.build_model(MULTI).save(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["savedmodel", "onnx", "tflite"])
def test_several_inputs_and_outputs_keep_the_spec_names(fmt, multi_keras, tmp_path):
    from sklearn.datasets import load_digits

    from kerasbuild.safe_load import load_keras_model

    result = export(multi_keras, tmp_path / fmt, fmt=fmt)
    assert result.input_names == ["image", "extra"]
    assert result.output_names == ["digit", "size"]
    images = load_digits().images[:9, :, :, None].astype(np.float32)
    extra = np.linspace(-1, 1, 27, dtype=np.float32).reshape(9, 3)
    got = predict_exported(result.path, {"image": images, "extra": extra})
    assert sorted(got) == ["digit", "size"]
    assert got["digit"].shape == (9, 10) and got["size"].shape == (9, 2)
    digit, size = load_keras_model(multi_keras, compile=False)([images, extra], training=False)
    np.testing.assert_allclose(got["digit"], np.asarray(digit), atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(got["size"], np.asarray(size), atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(got["digit"].sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_single_array_for_a_two_input_export_is_refused(multi_keras, tmp_path):
    from kerasbuild.errors import KerasbuildError

    path = export(multi_keras, tmp_path / "m").path
    with pytest.raises(
        KerasbuildError, match=r"pass inputs by name \(the model's inputs: \['image', 'extra'\]\)"
    ):
        predict_exported(path, np.zeros((1, 8, 8, 1), np.float32))
