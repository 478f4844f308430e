"""The facial-keypoints tutorial's nets and the lecture's dropout net, converted from scripts
written with the published nolearn API (tests/nolearn/scripts/), checked by parameter count and
training settings. Expected counts are worked out by hand in the comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from kerasbuild.nolearn import from_nolearn
from kerasbuild.spec.loader import load_spec

SCRIPTS = Path(__file__).parent / "scripts"

FLIP_INDICES = [
    [0, 2],
    [1, 3],
    [4, 8],
    [5, 9],
    [6, 10],
    [7, 11],
    [12, 16],
    [13, 17],
    [14, 18],
    [15, 19],
    [22, 24],
    [23, 25],
]

# net2/net3: 96x96x1 input.
#   conv1 3x3x1 -> 32:   3*3*1*32 + 32   =       320, output 94x94x32, pool 2 -> 47x47x32
#   conv2 2x2x32 -> 64:  2*2*32*64 + 64  =     8,256, output 46x46x64, pool 2 -> 23x23x64
#   conv3 2x2x64 -> 128: 2*2*64*128 + 128 =   32,896, output 22x22x128, pool 2 -> 11x11x128
#   flatten 11*11*128 = 15,488
CONV_PARAMS = 320 + 8_256 + 32_896
# hidden4 500: 15,488*500 + 500 = 7,744,500; hidden5: 500*500 + 500 = 250,500;
# output: 500*30 + 30 = 15,030
NET2_PARAMS = CONV_PARAMS + 7_744_500 + 250_500 + 15_030
# hidden4 1000: 15,488*1000 + 1000 = 15,489,000; hidden5: 1000*1000 + 1000 = 1,001,000;
# output: 1000*30 + 30 = 30,030
LECTURE_PARAMS = CONV_PARAMS + 15_489_000 + 1_001_000 + 30_030


def convert(name: str):
    result = from_nolearn((SCRIPTS / name).read_text(), name)
    assert result.problems == []
    return {net.name: net for net in result.nets}


def test_hand_counts_are_the_published_ones():
    assert NET2_PARAMS == 8_051_502
    assert LECTURE_PARAMS == 16_561_502


def test_net1_single_hidden_layer_regression():
    nets = convert("kfkd.py")
    assert list(nets) == ["net1", "net2"]
    net1 = nets["net1"]
    # hidden: 9216*100 + 100 = 921,700; output: 100*30 + 30 = 3,030
    assert net1.param_count == 921_700 + 3_030 == 924_730
    assert net1.document["layers"] == [
        {"name": "input", "type": "InputLayer", "shape": [9216]},
        {"name": "hidden", "type": "DenseLayer", "num_units": 100},
        {"name": "output", "type": "DenseLayer", "num_units": 30, "nonlinearity": None},
    ]
    assert net1.document["train"] == {
        "update": "nesterov_momentum",
        "update_learning_rate": 0.01,
        "update_momentum": 0.9,
        "regression": True,
        "max_epochs": 400,
        "verbose": 1,
        "eval_size": 0.2,
    }
    assert net1.line == 35


def test_net2_convolutions_in_nhwc():
    net2 = convert("kfkd.py")["net2"]
    assert net2.param_count == NET2_PARAMS
    layers = net2.document["layers"]
    assert layers[0] == {"name": "input", "type": "InputLayer", "shape": [96, 96, 1]}
    assert [layer["type"] for layer in layers] == (
        ["InputLayer"] + ["Conv2DLayer", "MaxPool2DLayer"] * 3 + ["DenseLayer"] * 3
    )
    assert layers[3] == {
        "name": "conv2",
        "type": "Conv2DLayer",
        "num_filters": 64,
        "filter_size": [2, 2],
    }
    assert net2.document["train"]["max_epochs"] == 1000


def test_net3_adds_flips_adjusted_variables_and_early_stopping():
    net3 = convert("kfkd_net3.py")["net3"]
    assert net3.param_count == NET2_PARAMS
    train = net3.document["train"]
    # theano.shared(float32(0.03)) with the tutorial's own float32() -> a plain number
    assert train["update_learning_rate"] == 0.03 and isinstance(
        train["update_learning_rate"], float
    )
    assert train["update_momentum"] == 0.9
    assert train["batch_iterator_train"] == {
        "type": "FlipBatchIterator",
        "batch_size": 128,
        "flip_indices": FLIP_INDICES,
    }
    assert train["on_epoch_finished"] == [
        {"type": "AdjustVariable", "name": "update_learning_rate", "start": 0.03, "stop": 0.0001},
        {"type": "AdjustVariable", "name": "update_momentum", "start": 0.9, "stop": 0.999},
        {"type": "EarlyStopping", "patience": 200},
    ]
    assert train["max_epochs"] == 3000 and train["regression"] is True
    # Conv2DCCLayer (cuda-convnet) is written as the plain layer
    assert {layer["type"] for layer in net3.document["layers"]} == {
        "InputLayer",
        "Conv2DLayer",
        "MaxPool2DLayer",
        "DenseLayer",
    }


def test_lecture_dropout_net_has_16_561_502_parameters():
    net = convert("lecture_dropout.py")["net"]
    assert net.param_count == LECTURE_PARAMS
    layers = {layer["name"]: layer for layer in net.document["layers"]}
    assert [layers[f"dropout{i}"]["p"] for i in range(1, 5)] == [0.1, 0.2, 0.3, 0.5]
    assert layers["hidden4"]["num_units"] == 1000  # HIDDEN = 1000, a module-level constant
    train = net.document["train"]
    assert train["update_nesterov"] is True
    assert (train["update_learning_rate"], train["update_momentum"]) == (0.03, 0.9)
    assert train["batch_size"] == 48
    assert train["batch_iterator_train"]["flip_indices"] == FLIP_INDICES
    assert train["on_epoch_finished"][2] == {"type": "EarlyStopping", "patience": 250}
    assert train["max_epochs"] == 10000


@pytest.mark.parametrize(
    "script,net,params",
    [
        ("kfkd.py", "net1", 924_730),
        ("kfkd.py", "net2", NET2_PARAMS),
        ("kfkd_net3.py", "net3", NET2_PARAMS),
        ("lecture_dropout.py", "net", LECTURE_PARAMS),
    ],
)
def test_written_yaml_loads_with_the_same_count(tmp_path, script, net, params):
    from kerasbuild.nolearn.output import spec_yaml

    converted = convert(script)[net]
    path = tmp_path / f"{net}.yaml"
    path.write_text(spec_yaml(converted, script))
    loaded = load_spec(path)
    assert loaded.graph.total_params == params
    assert loaded.spec.train.max_epochs == converted.document["train"]["max_epochs"]
    assert loaded.spec.train.regression is True
