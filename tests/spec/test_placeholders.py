"""Search-space placeholders ``{hp: ...}``: validated, named by spec path, defaults used without a
tuner, values substituted by name."""

from __future__ import annotations

import pytest

from kerasbuild import SpecError, load_text
from kerasbuild.spec.format import canonical_yaml

NET = """
input: {shape: [8], name: x}
layers:
  - {name: fc1, type: DenseLayer, num_units: {hp: int, min: 16, max: 128, step: 16, default: 32}}
  - {name: drop, type: DropoutLayer, p: {hp: float, min: 0.0, max: 0.5}}
  - {name: fc2, type: DenseLayer, num_units: 4, nonlinearity: {hp: choice, values: [tanh, rectify]}}
train:
  update_learning_rate: {hp: float, min: 1e-4, max: 1e-1, sampling: log, default: 0.01}
  regression: {hp: bool}
"""


def test_placeholders_are_named_by_spec_path():
    loaded = load_text(NET)
    assert [p.name for p in loaded.placeholders] == [
        "layers.fc1.num_units",
        "layers.drop.p",
        "layers.fc2.nonlinearity",
        "train.update_learning_rate",
        "train.regression",
    ]
    assert loaded.placeholders[0].param.step == 16


def test_defaults_are_used_without_a_tuner():
    loaded = load_text(NET)
    layers = {layer.name: layer for layer in loaded.spec.layers}
    assert layers["fc1"].num_units == 32
    assert layers["drop"].p == 0.0  # no default: float takes min
    assert layers["fc2"].nonlinearity == "tanh"  # choice takes the first value
    assert loaded.spec.train.update_learning_rate == 0.01
    assert loaded.spec.train.regression is False
    assert loaded.graph.by_name["fc1"].param_count == 8 * 32 + 32


def test_hp_values_are_substituted_by_name():
    loaded = load_text(
        NET,
        hp_values={
            "layers.fc1.num_units": 64,
            "layers.fc2.nonlinearity": "rectify",
            "train.update_learning_rate": 0.05,
        },
    )
    layers = {layer.name: layer for layer in loaded.spec.layers}
    assert layers["fc1"].num_units == 64
    assert layers["fc2"].nonlinearity == "rectify"
    assert loaded.spec.train.update_learning_rate == 0.05
    assert loaded.graph.total_params == (8 * 64 + 64) + (64 * 4 + 4)


def test_document_keeps_placeholders_for_the_tuner():
    loaded = load_text(NET, hp_values={"layers.fc1.num_units": 64})
    assert loaded.document["layers"][1]["num_units"] == {
        "hp": "int",
        "min": 16,
        "max": 128,
        "step": 16,
        "default": 32,
    }
    assert "{hp: int, min: 16, max: 128, step: 16, default: 32}" in canonical_yaml(loaded)


def test_unknown_hp_value_name_suggests_the_closest():
    with pytest.raises(SpecError) as info:
        load_text(NET, file="net.yaml", hp_values={"layers.fc1.num_unit": 64})
    assert str(info.value) == (
        "net.yaml: <root>: no placeholder named 'layers.fc1.num_unit' "
        "(did you mean 'layers.fc1.num_units'?)"
    )


def _errors(value: str) -> str:
    text = (
        f"input: {{shape: [8]}}\nlayers:\n  - {{name: fc, type: DenseLayer, num_units: {value}}}\n"
    )
    with pytest.raises(SpecError) as info:
        load_text(text, file="hp.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    "value,message",
    [
        ("{hp: int, min: 100, max: 10}", "min must be < max, got min=100, max=10"),
        ("{hp: int, min: 10, max: 10}", "min must be < max, got min=10, max=10"),
        ("{hp: choice, values: []}", "hp: choice needs a non-empty list of values"),
        ("{hp: int, min: 10, max: 100, default: 200}", "default 200 is outside [10, 100]"),
        ("{hp: int, min: 10, max: 100, step: 0}", "step must be > 0, got 0"),
        (
            "{hp: choice, values: [8, 16], default: 32}",
            "default 32 is not one of the values [8, 16]",
        ),
        ("{hp: float, min: 0, max: 1, sampling: log}", "sampling: log needs min > 0, got min=0"),
        ("{hp: int, min: 1, max: 8.5}", "hp: int needs integer min and max"),
        ("{hp: int, max: 8}", "hp: int needs both min and max"),
    ],
)
def test_invalid_placeholders_are_located(value, message):
    assert (
        _errors(value) == f"hp.yaml:3:34: layers.fc.num_units: search-space placeholder: {message}"
    )


def test_unknown_placeholder_kind():
    error = _errors("{hp: integer, min: 1, max: 8}")
    assert error.startswith(
        "hp.yaml:3:46: layers.fc.num_units.hp: search-space placeholder: Input should be "
    )


def test_several_placeholder_errors_at_once():
    text = """
input: {shape: [8]}
layers:
  - {name: a, type: DenseLayer, num_units: {hp: int, min: 9, max: 1}}
  - {name: b, type: DenseLayer, num_units: {hp: choice, values: []}}
"""
    with pytest.raises(SpecError) as info:
        load_text(text, file="two.yaml")
    assert [str(p) for p in info.value.problems] == [
        "two.yaml:4:33: layers.a.num_units: search-space placeholder: min must be < max, got "
        "min=9, max=1",
        "two.yaml:5:33: layers.b.num_units: search-space placeholder: hp: choice needs a "
        "non-empty list of values",
    ]


def test_conditional_placeholder_must_name_a_placeholder():
    text = """
input: {shape: [8]}
layers:
  - {name: a, type: DenseLayer, num_units: {hp: int, min: 1, max: 9, when: {hp: layers.b.units, values: [1]}}}
  - {name: b, type: DenseLayer, num_units: {hp: int, min: 1, max: 9}}
"""  # noqa: E501
    with pytest.raises(SpecError) as info:
        load_text(text, file="when.yaml")
    assert "when.hp refers to 'layers.b.units', which is not a placeholder in this spec" in str(
        info.value
    )
