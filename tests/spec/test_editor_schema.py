"""``kerasbuild schema`` accepts every spec and job file as written (all forms the loader
accepts) and still refuses what the loader refuses field by field: misspelt parameter names
(canonical, tuple and flat forms) and unknown layer types."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from kerasbuild import load_spec, load_text
from kerasbuild.cli import app
from kerasbuild.errors import SpecError
from kerasbuild.spec.source import parse_file, parse_text

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("tuning/*.yaml")])


def _plain(data):
    """The parsed YAML as plain JSON data (what an editor's validator sees)."""
    return json.loads(json.dumps(data))


@pytest.fixture(scope="module")
def spec_validator():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    return jsonschema.Draft202012Validator(json.loads(result.stdout))  # a valid schema: test_cli.py


@pytest.fixture(scope="module")
def job_validator():
    result = CliRunner().invoke(app, ["schema", "--job"])
    assert result.exit_code == 0
    return jsonschema.Draft202012Validator(json.loads(result.stdout))


def _errors(validator, text: str) -> list[str]:
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message[:80]}"
        for e in validator.iter_errors(_plain(parse_text(text, "x.yaml").data))
    ]


def test_every_authored_spec_and_job_file_is_accepted_as_written(spec_validator, job_validator):
    kinds = {"spec": 0, "job": 0}
    for path in FILES:
        data = _plain(parse_file(path).data)
        kind = "job" if "spec" in data else "spec"
        if kind == "spec":
            load_spec(path)  # the loader accepts it too
        validator = job_validator if kind == "job" else spec_validator
        assert [e.message[:200] for e in validator.iter_errors(data)] == [], path.name
        kinds[kind] += 1
    from tests.specs.test_library import EXPECTED_SPECS

    assert (
        kinds["spec"] >= len(EXPECTED_SPECS) + 2 and kinds["job"] == 2
    )  # specs/ and tuning/'s spaces


def test_the_readme_example_is_accepted(spec_validator):
    text = (ROOT / "README.md").read_text()
    example = re.search(r"## A spec\n\n```yaml\n(.*?)```", text, re.S).group(1)
    assert "layers:" in example
    assert _errors(spec_validator, example) == []


FORMS = {
    "canonical": "input: {shape: [8, 8, 1]}\nlayers:\n"
    "  - {name: conv1, type: Conv2DLayer, num_filters: 4, filter_size: 3}\n"
    "  - {name: out, type: DenseLayer, num_units: 10}\n",
    "tuple": "input: {shape: [8, 8, 1]}\nlayers:\n"
    "  - [conv1, Conv2DLayer, {num_filters: 4, filter_size: 3}]\n"
    "  - [DenseLayer, {name: out, num_units: 10}]\n",
    "flat": "layers: [[input, InputLayer], [conv1, layers.Conv2DLayer], [out, DenseLayer]]\n"
    "input_shape: [null, 1, 8, 8]\nconv1_num_filters: 4\nconv1_filter_size: 3\n"
    "out_num_units: 10\nupdate_learning_rate: 0.01\nmax_epochs: 3\n",
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_is_accepted_and_a_misspelt_parameter_refused(spec_validator, form):
    text = FORMS[form]
    assert _errors(spec_validator, text) == []
    typo = text.replace("num_filters", "num_filter")
    assert typo != text
    with pytest.raises(SpecError, match="num_filter"):
        load_text(typo)
    assert len(_errors(spec_validator, typo)) == 1


@pytest.mark.parametrize("form", ["canonical", "tuple"])
def test_an_unknown_layer_type_is_refused(spec_validator, form):
    text = FORMS[form].replace("Conv2DLayer", "Conv2DLayr")
    assert len(_errors(spec_validator, text)) == 1


def test_placeholders_block_parameters_and_auto_sizes_are_accepted(spec_validator):
    text = """
input: {shape: auto}
blocks:
  conv_relu:
    params: {filters: null}
    layers: [{name: conv, type: Conv2DLayer, num_filters: $filters, filter_size: 3}]
layers:
  - {use: conv_relu, name: c, repeat: 2, with: {filters: 8}}
  - {name: drop, type: DropoutLayer, p: {hp: float, min: 0.1, max: 0.5, default: 0.2}}
  - [hidden, DenseLayer, {num_units: {hp: choice, values: [32, 64]}}]
  - {name: out, type: Dense, units: auto, activation: softmax}
train: {update_learning_rate: {hp: float, min: 0.001, max: 0.1, sampling: log}}
"""
    assert _errors(spec_validator, text) == []
    assert _errors(spec_validator, text.replace("trian", "train").replace("train:", "trian:"))
    assert _errors(spec_validator, text.replace("hp: float, min: 0.1", "hp: float, mn: 0.1"))


def test_a_misspelt_job_field_is_refused(job_validator):
    job = _plain(parse_file(ROOT / "tuning" / "fkp_random.yaml").data)
    job["max_trial"] = job.pop("max_trials")
    assert [e.message for e in job_validator.iter_errors(job)] == [
        "Additional properties are not allowed ('max_trial' was unexpected)"
    ]
