"""The spec commands: ``validate``, ``summary [--json]``, ``fmt``, ``schema`` and ``build``.

``validate`` and ``summary`` never import TensorFlow and answer in well under a second."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kerasbuild import load_spec
from kerasbuild.cli import app
from kerasbuild.layers import all_type_names

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
KERASBUILD = Path(sys.executable).parent / "kerasbuild"


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_summary_json_schema_is_exact():
    result = _run("summary", str(SPECS / "nielsen_dropout.yaml"), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"name", "precision", "total_params", "trainable_params", "layers"}
    assert data["name"] == "nielsen_dropout"
    assert data["total_params"] == data["trainable_params"] == 1_672_570
    for layer in data["layers"]:
        assert set(layer) == {"name", "type", "inputs", "output_shape", "params", "dtype"}
        assert isinstance(layer["name"], str) and isinstance(layer["type"], str)
        assert isinstance(layer["params"], int)
        assert all(isinstance(d, int) for d in layer["output_shape"])
    assert [(x["name"], x["type"], x["output_shape"], x["params"]) for x in data["layers"]] == [
        ("image", "InputLayer", [28, 28, 1], 0),
        ("conv1", "Conv2DLayer", [24, 24, 20], 520),
        ("pool1", "MaxPool2DLayer", [12, 12, 20], 0),
        ("conv2", "Conv2DLayer", [8, 8, 40], 20_040),
        ("pool2", "MaxPool2DLayer", [4, 4, 40], 0),
        ("drop1", "DropoutLayer", [4, 4, 40], 0),
        ("fc1", "DenseLayer", [1000], 641_000),
        ("drop2", "DropoutLayer", [1000], 0),
        ("fc2", "DenseLayer", [1000], 1_001_000),
        ("drop3", "DropoutLayer", [1000], 0),
        ("output", "DenseLayer", [10], 10_010),
    ]


def test_summary_json_reports_non_trainable_batch_norm_statistics():
    data = json.loads(_run("summary", str(SPECS / "resnet50.yaml"), "--json").stdout)
    assert data["total_params"] == 25_636_712
    merges = [layer for layer in data["layers"] if len(layer["inputs"]) == 2]
    assert len(merges) == 16  # one skip connection per bottleneck block: 3 + 4 + 6 + 3
    assert data["total_params"] - data["trainable_params"] == 53_120


def test_summary_table_lists_layers_and_totals():
    result = _run("summary", str(SPECS / "lenet5.yaml"))
    assert result.exit_code == 0
    assert "total params: 61,750  trainable: 61,750" in result.stdout
    assert "28x28x6" in result.stdout and "S2_coeff" in result.stdout


def test_piped_summary_is_never_truncated():
    result = _run("summary", str(SPECS / "alexnet.yaml"))
    assert (
        "│ C1_lrn     │ LocalResponseNormalization2DLayer │ C1         │ 56x56x96     │"
        in result.stdout
    )


def test_max_params_refusal_includes_the_estimate():
    result = _run("validate", str(SPECS / "vgg16.yaml"), "--max-params", "1000000")
    assert result.exit_code == 1
    assert (
        "the model would have 138,357,544 parameters (527.8 MiB as float32), over the limit of "
        "1,000,000; refused before allocating anything" in result.stderr
    )
    assert (
        _run(
            "build", str(SPECS / "vgg16.yaml"), "-o", "never.keras", "--max-params", "1000"
        ).exit_code
        == 1
    )
    assert not Path("never.keras").exists()


def test_schema_is_valid_json_schema_naming_every_layer_type():
    import jsonschema

    result = _run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    text = result.stdout
    missing = [name for name in all_type_names() if f'"{name}"' not in text]
    assert missing == []


def test_schema_accepts_the_library_and_rejects_a_misspelt_field():
    import jsonschema

    schema = json.loads(_run("schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    for name in ("nielsen_dropout", "resnet50", "lenet5"):
        document = load_spec(SPECS / f"{name}.yaml").document
        assert list(validator.iter_errors(document)) == [], name
    bad = load_spec(SPECS / "nielsen_dropout.yaml").document
    bad["layers"][1]["num_filter"] = bad["layers"][1].pop("num_filters")
    assert list(validator.iter_errors(bad))


def test_schema_accepts_keras_spellings():
    import jsonschema

    from kerasbuild import load_text

    validator = jsonschema.Draft202012Validator(json.loads(_run("schema").stdout))
    document = load_text("""
input: {shape: [16, 16, 3], name: image}
layers:
  - {name: conv, type: Conv2D, filters: 8, kernel_size: 3, padding: same, activation: relu}
  - {name: bn, type: BatchNormalization, epsilon: 0.001, momentum: 0.99, center: false}
  - {name: fc, type: Dense, units: 10, activation: softmax, use_bias: false}
""").document
    assert list(validator.iter_errors(document)) == []
    document["layers"][3]["num_units"] = document["layers"][3].pop("units")
    assert [e.path[-1] for e in validator.iter_errors(document)] == [3]


def test_fmt_prints_the_canonical_form(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "layers: [[input, InputLayer], [out, DenseLayer]]\ninput_shape: [null, 4]\n"
        "out_num_units: 3\nmax_epochs: 2\n"
    )
    result = _run("fmt", str(spec))
    assert result.exit_code == 0
    assert result.stdout == (
        "layers:\n"
        "  - {name: input, type: InputLayer, shape: [null, 4]}\n"
        "  - {name: out, type: DenseLayer, num_units: 3}\n"
        "train:\n"
        "  max_epochs: 2\n"
    )


def test_build_writes_a_keras_file_that_reloads_in_safe_mode(tmp_path):
    import keras
    import numpy as np

    import kerasbuild.layers.keras_layers  # noqa: F401

    out = tmp_path / "lenet5.keras"
    result = _run("build", str(SPECS / "lenet5.yaml"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out} (61,750 params)"
    model = keras.saving.load_model(out, safe_mode=True)
    assert model.count_params() == 61_750
    assert [layer.name for layer in model.layers][:3] == ["image", "C1", "S2_pool"]
    x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_build_refuses_other_suffixes(tmp_path):
    result = _run("build", str(SPECS / "nielsen_fc100.yaml"), "-o", str(tmp_path / "m.h5"))
    assert result.exit_code == 1
    assert "output must end in .keras" in result.stderr


PROBE = """
import sys, time
from typer.testing import CliRunner
from kerasbuild.cli import app
t = time.perf_counter()
for args in (["validate", *sys.argv[1:]], ["summary", "--json", sys.argv[1]], ["fmt", sys.argv[1]]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "jax", "torch")))
"""  # noqa: E501


def test_validate_summary_and_fmt_do_not_import_tensorflow():
    specs = [str(p) for p in sorted(SPECS.glob("*.yaml"))]
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *specs], capture_output=True, text=True, check=True
    )
    assert probe.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["validate", "summary"])
def test_validate_and_summary_are_fast(command):
    """The real console script on ResNet-50 (175 layers after block expansion), process
    start-up included, imports no TensorFlow/Keras (``-X importtime`` lists every module it
    imports) and spends little CPU time. CPU time, not wall time, so a loaded machine does not
    make it fail: measured 0.5 s (idle) to 1.9 s (4 other TensorFlow jobs on 2 cores) on the
    development machine, against 13 s for ``import tensorflow`` alone there."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            str(KERASBUILD),
            command,
            str(SPECS / "resnet50.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stderr
    imported = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "kerasbuild.spec.loader" in imported
    assert not {m for m in imported if m.split(".")[0] in ("tensorflow", "keras")}
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu_s < 5.0, f"{command} used {cpu_s:.2f} s of CPU"
