"""Idioms of real nolearn scripts (tests/nolearn/scripts/idioms_*.py): float32 helpers in every
common spelling, older Lasagne parameter names, ``batch_norm`` in an instance chain, ``layers=``
given as a module variable, TrainSplit / adadelta / loss / label-encoder settings, and nets
built inside a function whose sizes are known only when the script runs (written as ``auto``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kerasbuild.nolearn import from_nolearn
from kerasbuild.spec.loader import load_spec

SCRIPTS = Path(__file__).parent / "scripts"


def _convert(name: str):
    return from_nolearn((SCRIPTS / name).read_text(), name)


def test_every_spelling_of_the_float32_helper_is_unwrapped():
    result = _convert("idioms_float32.py")
    assert result.problems == []
    (net,) = result.nets
    assert net.document["layers"][1]["num_units"] == 32  # T.cast(k, 'float32')
    assert net.document["layers"][2]["num_units"] == 10  # numpy.asarray(k, dtype='float32')
    train = net.document["train"]
    assert (train["update_learning_rate"], train["update_momentum"], train["max_epochs"]) == (
        0.01,
        0.9,
        3,
    )
    assert net.param_count == 64 * 32 + 32 + 32 * 10 + 10


def test_older_lasagne_names_module_layer_lists_and_training_settings():
    result = _convert("idioms_lasagne.py")
    assert result.problems == []
    net, seq = result.nets
    layers = {layer["name"]: layer for layer in net.document["layers"]}
    assert layers["conv2d1"]["pad"] == "same" and "border_mode" not in layers["conv2d1"]
    assert layers["maxpool2d2"]["pool_size"] == 2
    # 8x8x1 -> conv 3x3 same, 8 filters: 80 params -> pool 2 -> 4x4x8 = 128 -> dense 10: 1,290
    assert net.param_count == 80 + 1_290
    assert net.document["train"] == {"update": "adadelta", "eval_size": 0.25, "max_epochs": 2}
    notes = [text for _, text in result.notes]
    assert "layer 'conv1d1': filter_length is older Lasagne's name for filter_size" in notes
    assert "layer 'maxpool1d2': ds is older Lasagne's name for pool_size" in notes
    assert "layer 'conv2d1': border_mode is older Lasagne's name for pad" in notes
    assert any(
        text.startswith("objective_loss_function=categorical_crossentropy dropped")
        for text in notes
    )
    assert any(text.startswith("use_label_encoder dropped") for text in notes)
    # batch_norm(Conv1DLayer(...)) in the chain: conv without bias or nonlinearity, then BN,
    # then ReLU
    assert [(layer["type"], layer.get("b", 0)) for layer in seq.document["layers"][3:6]] == [
        ("Conv1DLayer", None),
        ("BatchNormLayer", 0),
        ("NonlinearityLayer", 0),
    ]
    # 16x1 -> conv 3 (4 filters, 16 params) -> 14x4 -> pool 2 -> 7x4 -> conv 3 no bias (48) -> 5x4
    # -> batch norm (16, 8 trainable) -> dense 2 over 20 values (42)
    assert seq.param_count == 16 + 48 + 16 + 42


def test_run_time_sizes_become_auto_and_are_reported_as_notes():
    result = _convert("idioms_runtime.py")
    assert result.problems == []
    (net,) = result.nets
    layers = net.document["layers"]
    assert layers[0]["shape"] == "auto" and layers[2]["num_units"] == "auto"
    assert layers[1]["num_units"] == 64  # the function's default
    notes = [(line, text) for line, text in result.notes]
    assert (11, "build(): parameter hidden is taken at its default, 64") in notes
    assert any(
        line == 15 and text.startswith("input_shape: 'num_features'") and "written as auto" in text
        for line, text in notes
    )
    assert any(
        line == 18
        and text.startswith("output_num_units: a conditional expression")
        and "written as auto" in text
        for line, text in notes
    )
    assert [n.name for n in load_spec(net.document).graph.unknown] == ["input", "hidden", "output"]


@pytest.mark.slow
def test_a_net_with_run_time_sizes_trains_with_the_sizes_from_the_data(tmp_path):
    from kerasbuild.runs.runner import train

    document = _convert("idioms_runtime.py").nets[0].document
    document["data"] = {"source": "builtin:digits", "test_size": 0.2, "seed": 0}
    run = train(load_spec(document), tmp_path / "run")
    assert run.epochs_completed == 1
    resolved = load_spec(tmp_path / "run" / "spec.yaml")
    assert resolved.autos == []
    assert [(n.name, n.shape) for n in resolved.graph.nodes] == [
        ("input", (8, 8, 1)),
        ("hidden", (64,)),
        ("output", (10,)),
    ]
    assert resolved.graph.total_params == 64 * 64 + 64 + 64 * 10 + 10
    assert run.test_metrics["test_accuracy"] > 0.5
