"""Bad specs give located errors, ``FILE:LINE:COL: path: message``, several at once, never a
traceback. Paths name layers by their ``name`` (``layers.conv1.num_filters``)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kerasbuild import SpecError, load_text
from kerasbuild.cli import app
from kerasbuild.layers import lookup
from kerasbuild.layers.base import NONLINEARITIES

TOP_LEVEL = (
    "name, description, reference, blocks, layers, outputs, init, train, data, a nolearn training "
    "key, or '<layer>_<param>' for a layer named in 'layers'"
)
DENSE_FIELDS = ", ".join(lookup("DenseLayer").schema.model_fields)
NONLINEARITY_NAMES = ", ".join(sorted(NONLINEARITIES)) + " or null"

CASES = {
    "misspelt_key": (
        """
input: {shape: [28, 28, 1]}
layers:
  - {name: fc, type: DenseLayer, num_unit: 10}
""",
        [
            "bad.yaml:4:34: layers.fc.num_unit: unknown field 'num_unit' (did you mean "
            "'num_units'?); "
            f"expected one of: {DENSE_FIELDS}"
        ],
    ),
    "unknown_type": (
        """
input: {shape: [28, 28, 1]}
layers:
  - {name: pool1, type: MaxPool2DLyer, pool_size: 2}
""",
        [
            "bad.yaml:4:19: layers.pool1.type: unknown layer type 'MaxPool2DLyer' (did you mean "
            "'MaxPool2DLayer'?); run 'kerasbuild schema' or see docs/spec-reference.md for the "
            "layer types"
        ],
    ),
    "bad_nonlinearity": (
        """
input: {shape: [28, 28, 1]}
layers:
  - {name: fc, type: DenseLayer, num_units: 10, nonlinearity: sigmod}
""",
        [
            "bad.yaml:4:49: layers.fc.nonlinearity: unknown nonlinearity 'sigmod' (did you mean "
            "'sigmoid'?); "
            f"expected one of {NONLINEARITY_NAMES}"
        ],
    ),
    "dangling_incoming": (
        """
input: {shape: [28, 28, 1]}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 20, filter_size: 5}
  - {name: fc, type: DenseLayer, num_units: 10, incoming: conv2}
""",
        ["bad.yaml:5:49: layers.fc.incoming: unknown layer 'conv2' (did you mean 'conv1'?)"],
    ),
    "cycle": (
        """
input: {shape: [4]}
layers:
  - {name: a, type: DenseLayer, num_units: 4, incoming: b}
  - {name: b, type: DenseLayer, num_units: 4, incoming: a}
""",
        ["bad.yaml:5:5: layers.b: the layers form a cycle: a -> b -> a"],
    ),
    "merge_shape_mismatch": (
        """
input: {shape: [8, 8, 3]}
layers:
  - {name: a, type: Conv2DLayer, num_filters: 4, filter_size: 3}
  - {name: b, type: Conv2DLayer, num_filters: 5, filter_size: 3, incoming: input}
  - {name: sum, type: ElemwiseSumLayer, incomings: [a, b]}
""",
        [
            "bad.yaml:6:5: layers.sum: an element-wise sum needs inputs of the same shape, got [6, "
            "6, 4], "
            "[6, 6, 5] (input shapes [6, 6, 4], [6, 6, 5])"
        ],
    ),
    "kernel_larger_than_input": (
        """
input: {shape: [4, 4, 1]}
layers:
  - {name: conv, type: Conv2DLayer, num_filters: 4, filter_size: 5}
""",
        [
            "bad.yaml:4:5: layers.conv: kernel [5, 5] (dilation [1, 1]) is larger than the padded "
            "input "
            "along spatial axis 0 (size 4, pad 0); use a smaller filter_size or pad: same (input "
            "shape [4, 4, 1])"
        ],
    ),
    "pool_below_one": (
        """
input: {shape: [3, 3, 1]}
layers:
  - {name: p1, type: MaxPool2DLayer, pool_size: 2}
  - {name: p2, type: MaxPool2DLayer, pool_size: 2}
""",
        [
            "bad.yaml:5:5: layers.p2: pool_size [2, 2] is larger than the input along spatial axis "
            "0 "
            "(size 1); it would shrink that side below 1 (input shape [1, 1, 1])"
        ],
    ),
    "duplicate_names": (
        """
input: {shape: [3]}
layers:
  - {name: fc, type: DenseLayer, num_units: 2}
  - {name: fc, type: DenseLayer, num_units: 2}
""",
        [
            "bad.yaml:5:6: layers.2.name: duplicate layer name 'fc' (first used at line 4); layer "
            "names "
            "must be unique"
        ],
    ),
    "flatten_unknown_size": (
        """
input: {shape: [null, 8], layout: nhwc}
layers:
  - {name: fc, type: DenseLayer, num_units: 4}
""",
        [
            "bad.yaml:4:5: layers.fc: cannot flatten an input of unknown size [None, 8] into a "
            "dense layer "
            "(input shape [null, 8])"
        ],
    ),
    "too_many_activations": (
        """
input: {shape: [20000, 20000, 3]}
layers:
  - {name: conv, type: Conv2DLayer, num_filters: 4, filter_size: 3}
""",
        [
            "bad.yaml:2:1: <root>: one example needs 2,799,680,016 activation values (10.4 GiB as "
            "float32), "
            "over the limit of 500,000,000; refused before allocating anything"
        ],
    ),
    "empty_layers": (
        """
input: {shape: [3]}
layers: []
""",
        ["bad.yaml:3:1: layers: 'layers' is empty; a spec needs at least one layer"],
    ),
    "missing_layers": (
        """
name: nothing
""",
        ["bad.yaml:2:1: <root>: missing 'layers': a list of layers is required"],
    ),
    "unknown_top_level_key": (
        """
input: {shape: [3]}
layers:
  - {name: fc, type: DenseLayer, num_units: 2}
optimiser: adam
""",
        [
            "bad.yaml:5:1: optimiser: unknown top-level key 'optimiser'; expected one of "
            f"{TOP_LEVEL}"
        ],
    ),
    "misspelt_top_level_key": (
        """
layer:
  - {name: fc, type: DenseLayer, num_units: 2}
""",
        [
            "bad.yaml:2:1: <root>: missing 'layers': a list of layers is required",
            "bad.yaml:2:1: layer: unknown top-level key 'layer' (did you mean 'layers'?); "
            f"expected one of {TOP_LEVEL}",
        ],
    ),
    "nolearn_key_for_missing_layer": (
        """
layers: [[input, InputLayer], [hidden, DenseLayer], [output, DenseLayer]]
input_shape: [null, 9216]
hiden_num_units: 100
output_num_units: 30
""",
        [
            "bad.yaml:4:1: hiden_num_units: unknown top-level key 'hiden_num_units' (did you mean "
            f"'hidden_num_units'?); expected one of {TOP_LEVEL}"
        ],
    ),
    "nolearn_missing_required_param": (
        """
layers: [[input, InputLayer], [hidden, DenseLayer]]
input_shape: [null, 9216]
""",
        ["bad.yaml:2:31: layers.hidden.num_units: missing required field 'num_units'"],
    ),
    "several_at_once": (
        """
input: {shape: [28, 28, 1]}
layers:
  - {name: conv1, type: Conv2DLayer, num_filter: 20, filter_size: 5}
  - {name: pool1, type: MaxPool2DLyer, pool_size: 2}
  - {name: fc, type: DenseLayer, num_units: -3, nonlinearity: sigmod}
""",
        [
            "bad.yaml:4:38: layers.conv1.num_filter: unknown field 'num_filter' (did you mean "
            "'num_filters'?); "
            "expected one of: " + ", ".join(lookup("Conv2DLayer").schema.model_fields),
            "bad.yaml:5:19: layers.pool1.type: unknown layer type 'MaxPool2DLyer' (did you mean "
            "'MaxPool2DLayer'?); run 'kerasbuild schema' or see docs/spec-reference.md for the "
            "layer types",
            "bad.yaml:6:34: layers.fc.num_units: Input should be greater than or equal to 1, got "
            "-3",
            "bad.yaml:6:49: layers.fc.nonlinearity: unknown nonlinearity 'sigmod' (did you mean "
            "'sigmoid'?); "
            f"expected one of {NONLINEARITY_NAMES}",
        ],
    ),
    "keras_spelling": (
        """
input: {shape: [16, 16, 3]}
layers:
  - {name: conv, type: Conv2D, filters: 0, kernel_size: 3}
  - {name: fc, type: Dense, unit: 10}
""",
        [
            "bad.yaml:4:32: layers.conv.filters: Input should be greater than or equal to 1, got 0",
            "bad.yaml:5:29: layers.fc.unit: unknown field 'unit' (did you mean 'units'?); expected "
            "one of: "
            "l1, l2, max_norm, name, incoming, incomings, trainable, units, activation, "
            "kernel_initializer, "
            "bias_initializer, num_leading_axes, use_bias, type",
        ],
    ),
    "yaml_syntax": (
        """
input: {shape: [3]
layers: []
""",
        None,
    ),
}


def _problems(text: str, file: str = "bad.yaml") -> list[str]:
    with pytest.raises(SpecError) as info:
        load_text(text, file=file)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][1] is not None])
def test_bad_spec_gives_located_errors(case):
    text, expected = CASES[case]
    assert _problems(text) == expected


def test_yaml_syntax_error_is_located():
    (problem,) = _problems(CASES["yaml_syntax"][0])
    assert problem.startswith("bad.yaml:3:")
    assert ": <root>: " in problem


def test_json_specs_get_line_numbers():
    text = """{
  "input": {"shape": [28, 28, 1]},
  "layers": [
    {"name": "conv1", "type": "Conv2DLayer", "num_filters": 8, "filter_size": 3},
    {"name": "fc", "type": "DenseLayr", "num_units": 10},
    {"name": "out", "type": "DenseLayer", "num_unit": 10}
  ]
}
"""
    assert _problems(text, file="bad.json") == [
        "bad.json:5:20: layers.fc.type: unknown layer type 'DenseLayr' (did you mean "
        "'DenseLayer'?); "
        "run 'kerasbuild schema' or see docs/spec-reference.md for the layer types",
        "bad.json:6:43: layers.out.num_unit: unknown field 'num_unit' (did you mean 'num_units'?); "
        f"expected one of: {DENSE_FIELDS}",
    ]


def test_json_syntax_error_is_located():
    assert _problems('{"layers": [1, 2,]}', file="bad.json") == [
        "bad.json:1:18: <root>: invalid JSON: Expecting value"
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_command_exits_1_without_traceback(case, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CASES[case][0])
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith(f"{path}:") for line in lines)
    if CASES[case][1] is not None:
        assert lines == [line.replace("bad.yaml", str(path), 1) for line in CASES[case][1]]


def test_validate_reports_every_file_and_fails_if_any_fails(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(
        "input: {shape: [3]}\nlayers:\n  - {name: fc, type: DenseLayer, num_units: 2}\n"
    )
    bad.write_text(CASES["cycle"][0])
    result = CliRunner().invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert result.stdout == f"{good}: ok (2 layers, 8 params)\n"
    assert result.stderr == f"{bad}:5:5: layers.b: the layers form a cycle: a -> b -> a\n"


def test_missing_file_is_an_error_not_a_traceback(tmp_path):
    result = CliRunner().invoke(app, ["summary", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'nope.yaml'}: <root>: file not found\n"
