"""The three nolearn layer-list forms, value unwrapping, names and settings."""

from __future__ import annotations

import textwrap

from kerasbuild.nolearn import from_nolearn

IMPORTS = """\
import lasagne
import numpy as np
import theano
from lasagne import init, layers
from lasagne.layers import Conv2DLayer, DenseLayer, InputLayer, MaxPool2DLayer, batch_norm
from lasagne.nonlinearities import rectify, softmax
from nolearn.lasagne import BatchIterator, NeuralNet, TrainSplit
"""


def convert_one(body: str):
    result = from_nolearn(IMPORTS + textwrap.dedent(body), "script.py")
    assert len(result.nets) == 1
    return result.nets[0], result


# 28x28x1 input; conv 5x5 -> 8: 5*5*1*8 + 8 = 208, output 24x24x8; pool 2 -> 12x12x8 = 1,152;
# dense 10: 1,152*10 + 10 = 11,530. Total 11,738.
SMALL_CONV_PARAMS = 208 + 11_530

FORM_1 = """
net = NeuralNet(
    layers=[('input', InputLayer), ('conv', Conv2DLayer), ('pool', MaxPool2DLayer), ('out', DenseLayer)],
    input_shape=(None, 1, 28, 28),
    conv_num_filters=8, conv_filter_size=5,
    pool_pool_size=2,
    out_num_units=10, out_nonlinearity=softmax,
)
"""  # noqa: E501
FORM_2 = """
net = NeuralNet(
    layers=[
        (InputLayer, {'shape': (None, 1, 28, 28)}),
        (layers.Conv2DLayer, {'num_filters': 8, 'filter_size': 5}),
        (lasagne.layers.MaxPool2DLayer, dict(pool_size=2)),
        (DenseLayer, {'num_units': 10, 'nonlinearity': softmax, 'name': 'out'}),
    ],
)
"""
FORM_3 = """
l = InputLayer(shape=(None, 1, 28, 28))
l = Conv2DLayer(l, num_filters=8, filter_size=5)
l = MaxPool2DLayer(l, 2)
l = DenseLayer(l, num_units=10, nonlinearity=lasagne.nonlinearities.softmax)
net = NeuralNet(layers=l)
"""


def _without_names(layers):
    return [{k: v for k, v in layer.items() if k != "name"} for layer in layers]


def test_three_layer_forms_give_the_same_net():
    converted = [convert_one(form) for form in (FORM_1, FORM_2, FORM_3)]
    for net, result in converted:
        assert result.problems == []
        assert net.param_count == SMALL_CONV_PARAMS
    first = _without_names(converted[0][0].document["layers"])
    assert first == [
        {"type": "InputLayer", "shape": [28, 28, 1]},
        {"type": "Conv2DLayer", "num_filters": 8, "filter_size": 5},
        {"type": "MaxPool2DLayer", "pool_size": 2},
        {"type": "DenseLayer", "num_units": 10, "nonlinearity": "softmax"},
    ]
    for net, _ in converted[1:]:
        assert _without_names(net.document["layers"]) == first


def test_unnamed_layers_get_nolearn_names():
    form_2, _ = convert_one(FORM_2)
    assert [layer["name"] for layer in form_2.document["layers"]] == [
        "input0",
        "conv2d1",
        "maxpool2d2",
        "out",
    ]
    form_3, _ = convert_one(FORM_3)
    assert [layer["name"] for layer in form_3.document["layers"]] == [
        "input0",
        "conv2d1",
        "maxpool2d2",
        "dense3",
    ]


def test_nested_graph_with_branches_concat_and_batch_norm():
    net, result = convert_one("""
        l_in = InputLayer((None, 3, 32, 32))
        a = Conv2DLayer(l_in, 16, 3, pad='same', name='a')
        b = Conv2DLayer(l_in, 16, 1, name='b')
        cat = lasagne.layers.ConcatLayer([a, b], axis=1, name='cat')
        c = batch_norm(Conv2DLayer(cat, 32, 3, pad=1, name='c', W=lasagne.init.HeNormal(gain='relu')))
        out = DenseLayer(lasagne.layers.GlobalPoolLayer(c), 10, nonlinearity=softmax, name='out')
        net = NeuralNet(layers=out, update=lasagne.updates.adam, update_learning_rate=0.001)
    """)  # noqa: E501
    assert result.problems == []
    layers = {layer["name"]: layer for layer in net.document["layers"]}
    assert list(layers) == [
        "input0",
        "a",
        "b",
        "cat",
        "c",
        "c_bn",
        "c_bn_nonlin",
        "globalpool7",
        "out",
    ]
    assert "incoming" not in layers["a"] and layers["b"]["incoming"] == "input0"
    assert (
        layers["cat"]["incomings"] == ["a", "b"] and layers["cat"]["axis"] == -1
    )  # NCHW 1 -> NHWC -1
    # batch_norm() moves the bias and the nonlinearity out of the convolution, as Lasagne does
    assert layers["c"] == {
        "name": "c",
        "type": "Conv2DLayer",
        "num_filters": 32,
        "filter_size": 3,
        "pad": 1,
        "nonlinearity": None,
        "W": {"type": "HeNormal", "gain": "relu"},
        "b": None,
    }
    assert layers["c_bn"]["type"] == "BatchNormLayer"
    assert layers["c_bn_nonlin"] == {
        "name": "c_bn_nonlin",
        "type": "NonlinearityLayer",
        "nonlinearity": "rectify",
    }
    # a 3x3x3x16+16 = 448, b 1x1x3x16+16 = 64, c 3x3x32x32 (no bias) = 9,216,
    # BatchNorm 4*32 = 128, out 32*10+10 = 330
    assert net.param_count == 448 + 64 + 9_216 + 128 + 330
    assert net.document["train"]["update"] == "adam"


def test_values_are_unwrapped_and_names_resolved():
    net, result = convert_one("""
        N = 64
        RATE = 1e-3 * 2
        Dense = layers.DenseLayer
        net = NeuralNet(
            layers=[('input', layers.InputLayer), ('hidden', Dense), ('output', Dense)],
            input_shape=(None, 8 * 8),
            hidden_num_units=N,
            hidden_nonlinearity=rectify,
            hidden_W=init.GlorotUniform(),
            hidden_b=init.Constant(0.1),
            output_num_units=10,
            output_nonlinearity=lasagne.nonlinearities.softmax,
            output_W=lasagne.init.HeNormal(gain='relu'),
            output_b=None,
            update=lasagne.updates.adam,
            update_learning_rate=theano.shared(np.float32(RATE)),
            update_beta1=np.cast['float32'](0.95),
            train_split=TrainSplit(eval_size=0.25),
            objective_l2=0.0005,
            batch_iterator_train=BatchIterator(batch_size=32),
            max_epochs=5,
        )
    """)
    assert result.problems == []
    hidden, output = net.document["layers"][1:]
    assert hidden == {
        "name": "hidden",
        "type": "DenseLayer",
        "num_units": 64,
        "nonlinearity": "rectify",
        "W": "GlorotUniform",
        "b": 0.1,
    }
    assert output == {
        "name": "output",
        "type": "DenseLayer",
        "num_units": 10,
        "nonlinearity": "softmax",
        "W": {"type": "HeNormal", "gain": "relu"},
        "b": None,
    }
    assert net.document["train"] == {
        "update": "adam",
        "update_learning_rate": 0.002,
        "update_params": {"beta_1": 0.95},
        "eval_size": 0.25,
        "objective_l2": 0.0005,
        "batch_size": 32,
        "max_epochs": 5,
    }
    # hidden 64*64 + 64 = 4,160; output 64*10 without bias = 640
    assert net.param_count == 4_160 + 640


def test_several_nets_are_named_by_their_variables():
    result = from_nolearn(
        IMPORTS
        + textwrap.dedent(FORM_1)
        + textwrap.dedent(FORM_1).replace("net =", "net_b =")
        + "def build():\n    return NeuralNet(layers=[('i', InputLayer)], i_shape=(None, 3))\n",
        "script.py",
    )
    assert [net.name for net in result.nets] == ["net", "net_b", "build"]
    assert [net.param_count for net in result.nets] == [SMALL_CONV_PARAMS, SMALL_CONV_PARAMS, 0]


def test_module_attribute_neuralnet_and_more_params():
    result = from_nolearn(
        textwrap.dedent("""\
        import nolearn.lasagne
        import lasagne.layers as L
        import lasagne.updates

        SETTINGS = {'hidden_num_units': 50, 'max_epochs': 15}
        net = nolearn.lasagne.NeuralNet(
            layers=[('input', L.InputLayer), ('hidden', L.DenseLayer), ('output', L.DenseLayer)],
            input_shape=(None, 10),
            output_num_units=2,
            output_nonlinearity=lasagne.nonlinearities.sigmoid,
            update=lasagne.updates.sgd,
            update_learning_rate=0.1,
            eval_size=0.1,
            objective_l2=1e-4,
            more_params=SETTINGS,
        )
        """),
        "s.py",
    )
    assert result.problems == []
    net = result.nets[0]
    assert net.name == "net"
    assert net.document["layers"][1] == {"name": "hidden", "type": "DenseLayer", "num_units": 50}
    assert net.document["train"] == {
        "update": "sgd",
        "update_learning_rate": 0.1,
        "eval_size": 0.1,
        "objective_l2": 1e-4,
        "max_epochs": 15,
    }
    # hidden 10*50 + 50 = 550; output 50*2 + 2 = 102
    assert net.param_count == 550 + 102


def test_reshape_to_nchw_becomes_nhwc():
    net, result = convert_one("""
        l = InputLayer((None, 100))
        l = DenseLayer(l, 784)
        l = lasagne.layers.ReshapeLayer(l, ([0], 1, 28, 28))
        l = Conv2DLayer(l, 4, 3)
        net = NeuralNet(layers=l)
    """)
    assert result.problems == []
    assert net.document["layers"][2]["shape"] == [[0], 28, 28, 1]
    # dense 100*784 + 784 = 79,184; conv 3*3*1*4 + 4 = 40
    assert net.param_count == 79_184 + 40
