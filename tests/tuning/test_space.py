"""Placeholders -> Keras Tuner hyper-parameters and back (no training)."""

from __future__ import annotations

from pathlib import Path

import keras_tuner as kt
import pytest

from kerasbuild.errors import SpecError
from kerasbuild.spec.loader import load_spec, load_text
from kerasbuild.tuning.space import SearchSpace

REPO = Path(__file__).resolve().parents[2]

CONDITIONAL = """\
name: conditional
input: {shape: [8, 8, 1]}
layers:
  - {name: hidden, type: DenseLayer, num_units: 16}
  - {name: drop, type: DropoutLayer, p: {hp: float, min: 0.1, max: 0.5, default: 0.3,
     when: {hp: train.update, values: [momentum]}}}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax,
     W: {hp: choice, values: [glorot_uniform, {type: normal, std: 0.01}], default: glorot_uniform}}
train:
  update: {hp: choice, values: [momentum, adam], default: adam}
  update_momentum: {hp: float, min: 0.5, max: 0.9, default: 0.9,
                    when: {hp: layers.drop.p, values: [0.1, 0.3]}}
"""


def test_each_kind_becomes_the_matching_keras_tuner_hyperparameter(space_text):
    space = SearchSpace.from_loaded(load_text(space_text))
    hp = kt.HyperParameters()
    values = space.declare(hp)
    by_name = {p.name: p for p in hp.space}
    assert list(by_name) == [
        "layers.hidden.num_units",
        "layers.drop.p",
        "train.update_learning_rate",
        "train.batch_size",
        "train.max_epochs",
    ]
    assert isinstance(by_name["layers.hidden.num_units"], kt.engine.hyperparameters.Choice)
    assert by_name["layers.hidden.num_units"].values == [16, 32, 64]
    lr = by_name["train.update_learning_rate"]
    assert (lr.min_value, lr.max_value, lr.sampling) == (0.03, 0.3, "log")
    assert (by_name["layers.drop.p"].step, by_name["train.max_epochs"].step) == (0.2, 1)
    assert values == {
        "layers.hidden.num_units": 32,
        "layers.drop.p": 0.2,
        "train.update_learning_rate": 0.1,
        "train.batch_size": 32,
        "train.max_epochs": 2,
    }


def test_values_round_trip_into_load_spec(space_text):
    loaded = load_text(space_text)
    space = SearchSpace.from_loaded(loaded)
    hp = kt.HyperParameters()
    space.declare(hp)
    hp.values.update({"layers.hidden.num_units": 64, "train.batch_size": 64, "train.max_epochs": 3})
    resolved = load_text(space_text, hp_values=space.values(hp.values))
    assert resolved.spec.train.batch_size == 64
    assert resolved.spec.train.max_epochs == 3
    # 8*8*64 + 64 weights into the hidden layer, 64*10 + 10 out of it
    assert resolved.graph.total_params == 64 * 64 + 64 + 64 * 10 + 10


def test_conditions_nest_and_inactive_values_fall_back_to_defaults():
    space = SearchSpace.from_loaded(load_text(CONDITIONAL))
    # parents are declared before their children, whatever the document order
    assert space.names == [
        "train.update",
        "layers.drop.p",
        "layers.output.W",
        "train.update_momentum",
    ]
    hp = kt.HyperParameters()
    assert space.declare(hp) == {"train.update": "adam", "layers.output.W": "glorot_uniform"}
    hp.values["train.update"] = "momentum"
    hp.ensure_active_values()  # as Keras Tuner does for a new trial: samples the newly active ones
    values = space.declare(hp)
    assert 0.1 <= values["layers.drop.p"] <= 0.5
    hp.values["layers.drop.p"] = 0.3
    hp.ensure_active_values()
    assert 0.5 <= space.declare(hp)["train.update_momentum"] <= 0.9
    hp.values["layers.drop.p"] = 0.45
    assert "train.update_momentum" not in space.declare(hp)
    # an inactive placeholder takes its default in the spec
    resolved = load_text(CONDITIONAL, hp_values=space.declare(hp))
    assert resolved.spec.train.update_momentum == 0.9


def test_choices_of_mixed_values_are_encoded_and_decoded():
    space = SearchSpace.from_loaded(load_text(CONDITIONAL))
    hp = kt.HyperParameters()
    space.declare(hp)
    labels = next(p for p in hp.space if p.name == "layers.output.W").values
    assert labels == ['"glorot_uniform"', '{"std": 0.01, "type": "normal"}']
    hp.values["layers.output.W"] = labels[1]
    assert space.values(hp.values)["layers.output.W"] == {"type": "normal", "std": 0.01}


def test_grid_search_needs_a_step_on_every_float():
    space = SearchSpace.from_loaded(load_spec(REPO / "tuning" / "nielsen_dropout_space.yaml"))
    with pytest.raises(SpecError) as caught:
        space.check_finite()
    problems = caught.value.problems
    assert [p.path for p in problems] == [
        ("train", "update_learning_rate"),
        ("train", "update_momentum"),
    ]
    lines = (REPO / "tuning" / "nielsen_dropout_space.yaml").read_text().splitlines()
    expected = next(i for i, line in enumerate(lines, 1) if "update_learning_rate:" in line)
    assert problems[0].file.endswith("nielsen_dropout_space.yaml") and problems[0].line == expected


BLOCKS = """\
name: blocks_space
input: {shape: [8, 8, 1]}
blocks:
  dense_drop:
    params: {units: null}
    layers:
      - {name: dense, type: DenseLayer, num_units: $units}
      - {name: drop, type: DropoutLayer, p: 0.1}
layers:
  - {use: dense_drop, name: body, repeat: {hp: int, min: 1, max: 3, default: 1},
     with: {units: {hp: choice, values: [8, 16], default: 8}}}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
"""


def test_block_repeat_and_block_parameters_are_searchable():
    space = SearchSpace.from_loaded(load_text(BLOCKS))
    assert space.names == ["layers.body.repeat", "layers.body.with.units"]
    hp = kt.HyperParameters()
    space.declare(hp)
    hp.values.update({"layers.body.repeat": 3, "layers.body.with.units": 16})
    resolved = load_text(BLOCKS, hp_values=space.values(hp.values))
    dense = [n.name for n in resolved.graph.nodes if n.name.endswith("_dense")]
    assert dense == ["body_1_dense", "body_2_dense", "body_3_dense"]
    # 64*16+16, then two 16*16+16, then 16*10+10
    assert resolved.graph.total_params == 1040 + 2 * 272 + 170
