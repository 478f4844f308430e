"""The generated spec reference is up to date and complete; the language guide's examples load."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kerasbuild import load_text
from kerasbuild.docs import generate
from kerasbuild.layers import all_type_names, entries
from kerasbuild.spec.format import canonical_yaml
from kerasbuild.summary import summary_dict

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "spec-reference.md"
GUIDE = ROOT / "docs" / "spec-language.md"


def test_committed_reference_is_not_stale():
    assert REFERENCE.read_text() == generate(), (
        "docs/spec-reference.md is stale: run `make docs` "
        "(python -m kerasbuild.docs docs/spec-reference.md) and commit it"
    )


def test_reference_documents_every_type_name_and_parameter():
    text = generate()
    assert [
        name for name in all_type_names() if f"`{name}`" not in text and f"### {name}" not in text
    ] == []
    for entry in entries():
        section = text.split(f"\n### {entry.name}\n", 1)[1].split("\n### ", 1)[0]
        for field in entry.schema.model_fields:
            if field not in ("name", "type", "incoming", "incomings"):
                assert f"| `{field}` |" in section, (entry.name, field)


def test_reference_shows_defaults_and_descriptions():
    text = generate()
    assert "| `num_units` | int | required | Number of output units. |" in text
    assert "| `nonlinearity` | str \\| null | `rectify` |" in text
    assert "| `update_learning_rate` | float | `0.01` |" in text
    assert "| `source` | str | required |" in text


def test_generator_writes_the_file_without_tensorflow(tmp_path):
    out = tmp_path / "ref.md"
    probe = (
        "import sys; from kerasbuild.docs import main; main([sys.argv[1]]); "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(out)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False False"
    assert out.read_text() == generate()


def _guide_examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(_guide_examples())))
def test_guide_examples_are_valid_specs(index):
    loaded = load_text(_guide_examples()[index], file=f"example{index}.yaml")
    assert loaded.graph.total_params > 0


def _example(marker: str) -> str:
    (found,) = [t for t in _guide_examples() if marker in t]
    return found


def test_guide_three_forms_are_the_same_spec():
    canonical, tuples, flat = (
        load_text(_example(marker))
        for marker in (
            "- {name: input, type: InputLayer, shape: [null, 1, 28, 28]}",
            "- [input, InputLayer, {shape: [null, 1, 28, 28]}]",
            "conv1_num_filters: 32",
        )
    )
    assert canonical_yaml(tuples) == canonical_yaml(flat) == canonical_yaml(canonical)
    assert summary_dict(canonical)["total_params"] == 54_410


def test_guide_lasagne_and_keras_spellings_match():
    lasagne, keras_spelt = (
        summary_dict(load_text(_example(marker)))
        for marker in (
            "{name: bn, type: BatchNormLayer, epsilon: 0.001, alpha: 0.01}",
            "{name: bn, type: BatchNormalization, epsilon: 0.001, momentum: 0.99}",
        )
    )
    assert lasagne["total_params"] == keras_spelt["total_params"] == 5_376
    assert [x["output_shape"] for x in lasagne["layers"]][-1] == [
        x["output_shape"] for x in keras_spelt["layers"]
    ][-1]


def test_guide_error_example_is_what_validate_prints():
    from kerasbuild import SpecError

    text = GUIDE.read_text()
    spec, output = re.findall(
        r"For this file:\n\n```text\n(.*?)```\n\n```text\n\$ kerasbuild validate "
        r"bad.yaml\n(.*?)```",
        text,
        re.S,
    )[0]
    with pytest.raises(SpecError) as info:
        load_text(spec, file="bad.yaml")
    actual = [str(p) for p in info.value.problems]
    documented = output.strip().splitlines()
    assert actual[:2] == documented[:2]
    assert actual[2].startswith(documented[2].split(", ...")[0])
