"""``auto`` sizes: validation and summary check everything else and show ``auto``; training
takes the input shape and the number of classes from the data and records them."""

from __future__ import annotations

import pytest

from kerasbuild import SpecError, load_text
from kerasbuild.build import build_model
from kerasbuild.spec.loader import load_spec
from kerasbuild.summary import summary_dict

SPEC = """
name: auto_digits
input: {shape: auto}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 3}
  - {name: pool1, type: MaxPool2DLayer, pool_size: 2}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: auto, nonlinearity: softmax}
data: {source: "builtin:digits", test_size: 0.2, seed: 0}
train: {max_epochs: 1, batch_size: 32, update: adam, update_learning_rate: 0.01, seed: 0}
"""


def test_summary_shows_auto_and_the_rest_is_checked():
    loaded = load_text(SPEC)
    assert [a.kind for a in loaded.autos] == ["input_shape", "output_units"]
    table = summary_dict(loaded)
    assert [(row["name"], row["output_shape"], row["params"]) for row in table["layers"]] == [
        (name, "auto", "auto") for name in ("input", "conv1", "pool1", "hidden", "output")
    ]
    with pytest.raises(SpecError, match="unknown field 'num_filter'"):
        load_text(SPEC.replace("num_filters", "num_filter"))


def test_known_input_with_auto_output_keeps_every_other_shape():
    loaded = load_text(SPEC.replace("shape: auto", "shape: [8, 8, 1]"))
    assert [(n.name, n.shape, n.known) for n in loaded.graph.nodes] == [
        ("input", (8, 8, 1), True),
        ("conv1", (6, 6, 8), True),
        ("pool1", (3, 3, 8), True),
        ("hidden", (32,), True),
        ("output", (), False),
    ]
    assert loaded.graph.total_params == 80 + 72 * 32 + 32


def test_auto_on_a_hidden_layer_is_refused_where_it_stands():
    with pytest.raises(SpecError) as info:
        load_text(SPEC.replace("num_units: 32", "num_units: auto"))
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == (("layers", "hidden", "num_units"), 7)
    assert "only an output layer may use it" in problem.message


def test_building_without_data_names_each_auto():
    with pytest.raises(SpecError) as info:
        build_model(load_text(SPEC))
    assert [(str(p.path[-1]), p.line) for p in info.value.problems] == [
        ("shape", 3),
        ("num_units", 8),
    ]


@pytest.mark.slow
def test_both_autos_train_on_digits_and_the_run_records_the_numbers(tmp_path):
    from kerasbuild.runs.runner import train

    run = train(load_text(SPEC), tmp_path / "run")
    assert run.epochs_completed == 1
    recorded = load_spec(tmp_path / "run" / "spec.yaml")
    assert recorded.autos == []
    layers = recorded.document["layers"]
    assert (layers[0]["shape"], layers[-1]["num_units"]) == ([8, 8, 1], 10)
    # conv 3*3*1*8 + 8 = 80; 3x3x8 = 72 -> hidden 72*32 + 32 = 2,336; output 32*10 + 10 = 330
    assert recorded.graph.total_params == 80 + 2_336 + 330
    assert run.test_metrics["test_accuracy"] > 0.3
