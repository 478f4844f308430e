"""The three spec forms (canonical, Lasagne tuples, nolearn flat), Lasagne NCHW input shapes and
Keras spellings all normalise to the same canonical document and the same model."""

from __future__ import annotations

import json

import pytest

from kerasbuild import SpecError, load_spec, load_text
from kerasbuild.layers.base import NONLINEARITIES
from kerasbuild.spec.format import canonical_yaml
from kerasbuild.summary import summary_dict

CANONICAL = """
name: net
layers:
  - {name: input, type: InputLayer, shape: [null, 1, 28, 28]}
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: [3, 3]}
  - {name: pool1, type: MaxPool2DLayer, pool_size: [2, 2]}
  - {name: dropout1, type: DropoutLayer, p: 0.25}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}
train:
  update_learning_rate: 0.03
  update_momentum: 0.9
  max_epochs: 5
"""

TUPLES = """
name: net
layers:
  - [input, InputLayer, {shape: [null, 1, 28, 28]}]
  - [conv1, Conv2DLayer, {num_filters: 8, filter_size: [3, 3]}]
  - [pool1, MaxPool2DLayer, {pool_size: [2, 2]}]
  - [dropout1, DropoutLayer, {p: 0.25}]
  - [hidden, DenseLayer, {num_units: 32}]
  - [output, DenseLayer, {num_units: 10, nonlinearity: softmax}]
train: {update_learning_rate: 0.03, update_momentum: 0.9, max_epochs: 5}
"""

FLAT = """
name: net
layers: [[input, InputLayer], [conv1, Conv2DLayer], [pool1, MaxPool2DLayer],
         [dropout1, DropoutLayer], [hidden, DenseLayer], [output, DenseLayer]]
input_shape: [null, 1, 28, 28]
conv1_num_filters: 8
conv1_filter_size: [3, 3]
pool1_pool_size: [2, 2]
dropout1_p: 0.25
hidden_num_units: 32
output_num_units: 10
output_nonlinearity: softmax
update_learning_rate: 0.03
update_momentum: 0.9
max_epochs: 5
"""

FORMS = {"canonical": CANONICAL, "tuples": TUPLES, "flat": FLAT}


@pytest.mark.parametrize("form", ["tuples", "flat"])
def test_forms_give_the_canonical_document_and_summary(form):
    reference = load_text(CANONICAL)
    other = load_text(FORMS[form])
    assert other.document == reference.document
    assert canonical_yaml(other) == canonical_yaml(reference)
    assert summary_dict(other) == summary_dict(reference)
    assert other.spec.train.update_learning_rate == 0.03
    assert other.spec.train.max_epochs == 5


def test_summary_of_the_shared_net():
    data = summary_dict(load_text(FLAT))
    assert [
        (layer["name"], layer["output_shape"], layer["params"]) for layer in data["layers"]
    ] == [
        ("input", [28, 28, 1], 0),
        ("conv1", [26, 26, 8], 3 * 3 * 1 * 8 + 8),
        ("pool1", [13, 13, 8], 0),
        ("dropout1", [13, 13, 8], 0),
        ("hidden", [32], 13 * 13 * 8 * 32 + 32),
        ("output", [10], 32 * 10 + 10),
    ]
    assert data["total_params"] == 80 + 43_296 + 330


@pytest.mark.parametrize("form", sorted(FORMS))
def test_canonical_output_is_a_fixed_point(form):
    once = canonical_yaml(load_text(FORMS[form]))
    assert canonical_yaml(load_text(once)) == once


def test_json_spec_equals_yaml_spec():
    as_json = json.dumps(
        {
            "name": "net",
            "input": {"shape": [28, 28, 1], "name": "input"},
            "layers": [
                {"name": "conv1", "type": "Conv2DLayer", "num_filters": 8, "filter_size": [3, 3]},
                {"name": "pool1", "type": "MaxPool2DLayer", "pool_size": [2, 2]},
                {"name": "dropout1", "type": "DropoutLayer", "p": 0.25},
                {"name": "hidden", "type": "DenseLayer", "num_units": 32},
                {
                    "name": "output",
                    "type": "DenseLayer",
                    "num_units": 10,
                    "nonlinearity": "softmax",
                },
            ],
        }
    )
    assert summary_dict(load_text(as_json, file="net.json")) == summary_dict(load_text(CANONICAL))


@pytest.mark.parametrize(
    "shape,nhwc",
    [
        ([None, 1, 96, 96], (96, 96, 1)),
        ([None, 3, 32, 24], (32, 24, 3)),
        ([None, 16, 100], (100, 16)),
        ([None, 9216], (9216,)),
        ([96, 96, 1], (96, 96, 1)),
    ],
)
def test_lasagne_nchw_input_shape_becomes_nhwc(shape, nhwc):
    loaded = load_spec({"layers": [{"name": "input", "type": "InputLayer", "shape": shape}]})
    assert loaded.graph.nodes[0].shape == nhwc


def test_nolearn_input_shape_key_is_converted():
    loaded = load_text(
        "layers: [[input, InputLayer], [out, DenseLayer]]\n"
        "input_shape: [null, 1, 96, 96]\nout_num_units: 30\n"
    )
    assert loaded.graph.by_name["input"].shape == (96, 96, 1)
    assert loaded.graph.by_name["out"].param_count == 96 * 96 * 30 + 30


def test_top_level_inputs_become_input_layers():
    loaded = load_text("""
inputs: [{shape: [8], name: a}, {shape: [4], name: b}]
layers:
  - {name: fa, type: DenseLayer, num_units: 3, incoming: a}
  - {name: fb, type: DenseLayer, num_units: 3, incoming: b}
  - {name: cat, type: ConcatLayer, incomings: [fa, fb]}
outputs: [cat, fb]
""")
    assert [n.name for n in loaded.graph.inputs] == ["a", "b"]
    assert loaded.graph.by_name["cat"].shape == (6,)
    assert loaded.graph.outputs == ["cat", "fb"]


LASAGNE_NET = """
input: {shape: [16, 16, 3], name: image}
layers:
  - {name: conv, type: Conv2DLayer, num_filters: 8, filter_size: 3, pad: same, nonlinearity: rectify}
  - {name: bn, type: BatchNormLayer, epsilon: 0.001, alpha: 0.01}
  - {name: pool, type: MaxPool2DLayer, pool_size: 2}
  - {name: drop, type: DropoutLayer, p: 0.3}
  - {name: flat, type: FlattenLayer}
  - {name: fc, type: DenseLayer, num_units: 10, nonlinearity: softmax, b: null}
"""  # noqa: E501

KERAS_NET = """
input: {shape: [16, 16, 3], name: image}
layers:
  - {name: conv, type: Conv2D, filters: 8, kernel_size: 3, padding: same, activation: relu}
  - {name: bn, type: BatchNormalization, epsilon: 0.001, momentum: 0.99}
  - {name: pool, type: MaxPooling2D, pool_size: 2}
  - {name: drop, type: Dropout, rate: 0.3}
  - {name: flat, type: Flatten}
  - {name: fc, type: Dense, units: 10, activation: softmax, use_bias: false}
"""


def test_keras_names_and_lasagne_names_give_the_same_spec():
    lasagne, keras_spelt = load_text(LASAGNE_NET), load_text(KERAS_NET)
    canonical_types = {"type": None}  # summary shows each type as the spec spells it
    assert [{**layer, **canonical_types} for layer in summary_dict(lasagne)["layers"]] == [
        {**layer, **canonical_types} for layer in summary_dict(keras_spelt)["layers"]
    ]
    assert [layer["type"] for layer in summary_dict(keras_spelt)["layers"]][1:] == [
        "Conv2D",
        "BatchNormalization",
        "MaxPooling2D",
        "Dropout",
        "Flatten",
        "Dense",
    ]
    k = {layer.name: layer for layer in keras_spelt.spec.layers}
    assert (
        k["conv"].type == "Conv2DLayer" and k["conv"].num_filters == 8 and k["conv"].pad == "same"
    )
    assert NONLINEARITIES[k["conv"].nonlinearity] == NONLINEARITIES["rectify"] == "relu"
    assert k["bn"].alpha == pytest.approx(0.01) and k["bn"].epsilon == 0.001
    assert k["drop"].p == 0.3
    assert k["fc"].num_units == 10 and k["fc"].b is None


def test_keras_names_and_lasagne_names_build_the_same_model():
    import keras

    from kerasbuild import build_model

    def config(model):
        out = []
        for layer in model.layers:
            cfg = {
                k: v
                for k, v in layer.get_config().items()
                if k not in ("name", "trainable", "dtype")
            }
            out.append(
                (type(layer).__name__, layer.name, json.dumps(cfg, sort_keys=True, default=str))
            )
        return out

    a, b = build_model(load_text(LASAGNE_NET)), build_model(load_text(KERAS_NET))
    assert config(a) == config(b)
    assert a.count_params() == b.count_params() == (3 * 9 * 8 + 8) + 4 * 8 + 8 * 8 * 8 * 10
    keras.backend.clear_session()


def test_keras_dense_defaults_differ_from_lasagne():
    """Keras ``Dense`` is linear and acts on the last axis; Lasagne's ``DenseLayer`` rectifies
    and flattens first."""
    loaded = load_text("""
input: {shape: [4, 5]}
layers:
  - {name: k, type: Dense, units: 3}
  - {name: l, type: DenseLayer, num_units: 3, incoming: input}
  - {name: cat, type: ConcatLayer, incomings: [k_flat, l]}
  - {name: k_flat, type: FlattenLayer, incoming: k}
outputs: [cat]
""")
    assert loaded.graph.by_name["k"].shape == (4, 3)
    assert loaded.graph.by_name["k"].params.nonlinearity is None
    assert loaded.graph.by_name["l"].shape == (3,)
    assert loaded.graph.by_name["l"].params.nonlinearity == "rectify"
    assert loaded.graph.by_name["cat"].shape == (15,)


def test_pasted_module_prefixes_name_registered_types():
    loaded = load_text(
        "layers: [[input, layers.InputLayer], [hidden, lasagne.layers.DenseLayer],\n"
        "         [out, keras.layers.Dense]]\n"
        "input_shape: [null, 4]\nhidden_num_units: 3\nout_units: 2\n"
    )
    assert [layer["type"] for layer in loaded.document["layers"]] == [
        "InputLayer",
        "DenseLayer",
        "Dense",
    ]
    assert loaded.graph.total_params == (4 * 3 + 3) + (3 * 2 + 2)


def test_prefixed_unregistered_type_is_refused_not_imported():
    with pytest.raises(SpecError) as info:
        load_text(
            "input: {shape: [4]}\nlayers:\n  - {name: f, type: layers.Lambda}\n", file="x.yaml"
        )
    assert str(info.value).startswith(
        "x.yaml:3:15: layers.f.type: layer type 'layers.Lambda' is refused"
    )


def test_top_level_input_shape_without_an_input_layer_is_lasagne_nchw():
    loaded = load_text(
        "input_shape: [null, 1, 28, 28]\nlayers:\n"
        "  - {name: conv1, type: Conv2DLayer, num_filters: 4, filter_size: 3}\n"
        "  - {name: out, type: DenseLayer, num_units: 10}\n"
    )
    assert [(n.name, n.shape) for n in loaded.graph.nodes] == [
        ("input", (28, 28, 1)),
        ("conv1", (26, 26, 4)),
        ("out", (10,)),
    ]
    with pytest.raises(SpecError) as info:
        load_text(
            "input_shape: [null, 4]\nlayers:\n  - {name: out, type: DenseLayer, num_units: 2, "
            "num_unit: 3}\n"
        )
    assert [str(p) for p in info.value.problems] == [
        "<string>.yaml:3:49: layers.out.num_unit: unknown field 'num_unit' (did you mean "
        "'num_units'?); "
        "expected one of: l1, l2, max_norm, name, type, incoming, incomings, trainable, num_units, "
        "nonlinearity, W, b, "
        "num_leading_axes"
    ]


def test_top_level_input_shape_beside_an_input_layer_names_the_input_shorthand():
    with pytest.raises(SpecError) as info:
        load_text(
            "input_shape: [null, 4]\nlayers:\n  - {name: x, type: InputLayer, shape: [4]}\n"
            "  - {name: out, type: DenseLayer, num_units: 2}\n"
        )
    (problem,) = info.value.problems
    assert problem.path == ("input_shape",) and problem.line == 1
    assert "write input: {shape: [...]}" in problem.message
