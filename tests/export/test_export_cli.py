"""``kerasbuild export`` and ``kerasbuild predict`` on exported versions, and clear errors."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from kerasbuild.cli import app
from kerasbuild.errors import KerasbuildError
from kerasbuild.export.preprocess import Preprocessing, parse_preprocessing

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.slow
def test_cli_export_reports_version_signature_and_verification(mnist_run, tmp_path):
    out = tmp_path / "models" / "mnist"
    for version in (1, 2):
        result = invoke("export", mnist_run, "--out", out)
        assert result.exit_code == 0, result.output
        assert re.search(
            rf"wrote \S+/mnist/{version} \(savedmodel, version {version}\): "
            r"serving_default\(image\) "
            r"-> probabilities, classes; preprocessing baked in: scale=0\.003922; verified on 8 "
            r"samples, max \|difference\| \S+ \(tolerance 1e-05 \+ 1e-05 \* \|value\|\)",
            result.output.replace("\n", " "),
        ), result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    "fmt,flags",
    [("savedmodel", []), ("onnx", []), ("tflite", []), ("savedmodel", ["--no-preprocessing"])],
)
def test_cli_predict_on_exported_version_matches_the_run_directory(
    fmt, flags, mnist_run, mnist_test_images, tmp_path
):
    out = tmp_path / "models" / f"mnist-{fmt}"
    assert invoke("export", mnist_run, "--out", out, "--format", fmt, *flags).exit_code == 0
    x_raw, labels = mnist_test_images
    np.savez(
        tmp_path / "x.npz", x=x_raw[:60, :, :, 0].astype(np.uint8)
    )  # (N, H, W) uint8, as stored
    from_run = invoke("predict", mnist_run, tmp_path / "x.npz", "-o", tmp_path / "run.npz")
    assert from_run.exit_code == 0, from_run.output
    # models/NAME means its latest version; models/NAME/1 names one.
    for i, target in enumerate((out, out / "1")):
        written = tmp_path / f"exported{i}.npz"  # predict never overwrites without --overwrite
        result = invoke("predict", target, tmp_path / "x.npz", "-o", written)
        assert result.exit_code == 0, result.output
        assert "wrote" in result.output and "60 predictions, y shape [60, 10]" in result.output
        with np.load(written) as got, np.load(tmp_path / "run.npz") as want:
            np.testing.assert_allclose(got["y"], want["y"], atol=1e-5, rtol=1e-5)
            np.testing.assert_array_equal(got["labels"], want["labels"])
            assert list(got["class_names"]) == [str(i) for i in range(10)]
            assert (got["labels"] == labels[:60]).mean() > 0.8


@pytest.mark.slow
def test_export_of_a_bare_keras_file(mnist_run, tmp_path):
    lone = tmp_path / "lone" / "digits.keras"
    lone.parent.mkdir()
    shutil.copyfile(mnist_run / "model_best.keras", lone)
    result = invoke("export", lone, "--out", tmp_path / "m")
    assert result.exit_code == 0, result.output
    assert "preprocessing baked in: none" in result.output
    meta = json.loads((tmp_path / "m" / "1" / "assets" / "export.json").read_text())
    assert meta["task"] == "classification"  # from the softmax output layer
    assert meta["preprocessing"] is None and meta["class_names"] == [str(i) for i in range(10)]
    assert not (tmp_path / "m" / "1" / "assets" / "spec.yaml").exists()  # no spec beside the file
    # A .keras file inside a run directory picks up the run's spec and preprocessing.
    inside = invoke("export", mnist_run / "model_best.keras", "--out", tmp_path / "m2")
    assert inside.exit_code == 0 and "scale=0.003922" in inside.output


@pytest.mark.parametrize(
    "name,setup,message",
    [
        ("missing", None, r"missing: no such run directory or \.keras file"),
        (
            "old.h5",
            "file",
            r"old\.h5: HDF5 model files \(\.h5\) are refused.*Re-save the model as \.keras",
        ),
        ("empty_dir", "dir", r"empty_dir: not a run directory \(no model_best\.keras\)"),
        (
            "broken.keras",
            "file",
            r"broken\.keras: not a valid \.keras archive \(a \.keras file is a zip archive\)",
        ),
    ],
)
def test_cli_export_errors_are_one_clear_line(name, setup, message, tmp_path):
    path = tmp_path / name
    if setup == "file":
        path.write_bytes(b"not a model")
    elif setup == "dir":
        path.mkdir()
    result = invoke("export", path, "--out", tmp_path / "models" / "x")
    assert result.exit_code == 1
    assert re.search(message, result.output.replace("\n", " ")), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "models" / "x").exists() or not any(
        (tmp_path / "models" / "x").iterdir()
    )


def test_predict_on_a_directory_that_is_not_an_export_says_so(tmp_path):
    (tmp_path / "m" / "1").mkdir(parents=True)
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 8, 8, 1), np.float32))
    result = invoke("predict", tmp_path / "m", tmp_path / "x.npz", "-o", tmp_path / "y.npz")
    assert result.exit_code == 1 and "neither a run directory" in result.output


def test_preprocessing_from_run_json_is_checked():
    steps = parse_preprocessing(
        {"resize": [12, 12], "scale": 0.0625, "mean": [0.5], "std": [0.25], "expand_shifts": 1},
        "run.json",
    )
    assert steps == Preprocessing(resize=(12, 12), scale=0.0625, mean=(0.5,), std=(0.25,))
    assert steps.raw_range == (0.0, 16.0)
    assert parse_preprocessing({}, "run.json").is_identity
    with pytest.raises(
        KerasbuildError,
        match=r"run.json: preprocessing.scael: unknown step \(did you mean 'scale'\?\)",
    ):
        parse_preprocessing({"scael": 0.5}, "run.json")
    with pytest.raises(
        KerasbuildError, match="mean/std and target_center/target_scale come in pairs"
    ):
        parse_preprocessing({"mean": [0.5]}, "run.json")
    with pytest.raises(
        KerasbuildError, match=r"preprocessing.resize: expected \[height, width\], got \[12\]"
    ):
        parse_preprocessing({"resize": [12]}, "run.json")
    with pytest.raises(KerasbuildError, match="expected numbers"):
        parse_preprocessing({"scale": "big"}, "run.json")
