"""Property test: for random chains of layers, the pure-Python graph inference (every layer's
shape, the parameter totals) equals what Keras builds and runs."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kerasbuild.errors import SpecError
from kerasbuild.spec.loader import load_spec

from .batches import build_probe, example_batch, matches, run

small = st.integers
pad = st.one_of(st.sampled_from(["valid", "same", "full"]), small(0, 2))

IMAGE_LAYERS = [
    st.fixed_dictionaries(
        {
            "type": st.just("Conv2DLayer"),
            "num_filters": small(1, 6),
            "filter_size": small(1, 4),
            "stride": small(1, 3),
            "pad": pad,
            "nonlinearity": st.sampled_from(["rectify", "leaky_rectify", None]),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("Conv2D"),
            "filters": small(1, 6),
            "kernel_size": st.lists(small(1, 3), min_size=2, max_size=2),
            "padding": st.sampled_from(["valid", "same"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("MaxPool2DLayer"),
            "pool_size": small(1, 3),
            "stride": st.one_of(st.none(), small(1, 3)),
            "pad": st.one_of(st.just("same"), small(0, 1)),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("Pool2DLayer"),
            "pool_size": small(1, 3),
            "mode": st.sampled_from(["average_inc_pad", "average_exc_pad", "l2"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("TransposedConv2DLayer"),
            "num_filters": small(1, 4),
            "filter_size": small(1, 4),
            "stride": small(1, 2),
            "crop": st.one_of(st.sampled_from(["valid", "same", "full"]), small(0, 1)),
            "output_padding": st.sampled_from([0, 1]),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("Conv2DTranspose"),
            "filters": small(1, 4),
            "kernel_size": small(1, 4),
            "strides": small(1, 3),
            "padding": st.sampled_from(["valid", "same"]),
        }
    ),
    st.fixed_dictionaries({"type": st.just("Upscale2DLayer"), "scale_factor": small(1, 2)}),
    st.fixed_dictionaries({"type": st.just("PadLayer"), "width": small(0, 2)}),
    st.fixed_dictionaries({"type": st.just("BatchNormLayer")}),
    st.fixed_dictionaries({"type": st.just("DropoutLayer"), "p": st.sampled_from([0.1, 0.5])}),
    st.fixed_dictionaries({"type": st.just("SpatialDropoutLayer")}),
    st.fixed_dictionaries(
        {"type": st.just("LocalResponseNormalization2DLayer"), "n": st.sampled_from([1, 3, 5])}
    ),
    st.fixed_dictionaries({"type": st.just("FeaturePoolLayer"), "pool_size": small(1, 3)}),
    st.fixed_dictionaries(
        {
            "type": st.just("ParametricRectifierLayer"),
            "shared_axes": st.sampled_from(["auto", "all", [0]]),
        }
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["BiasLayer", "ScaleLayer"])}),
    st.fixed_dictionaries({"type": st.just("DimshuffleLayer"), "pattern": st.just([0, 2, 1, 3])}),
]
HEADS = [
    st.fixed_dictionaries({"type": st.just("DenseLayer"), "num_units": small(1, 5)}),
    st.fixed_dictionaries(
        {"type": st.just("GlobalPoolLayer"), "pool_function": st.sampled_from(["mean", "max"])}
    ),
    st.fixed_dictionaries({"type": st.just("FlattenLayer")}),
]


@st.composite
def image_chains(draw) -> dict:
    shape = [draw(small(3, 12)), draw(small(3, 12)), draw(small(1, 4))]
    body = draw(st.lists(st.one_of(IMAGE_LAYERS), min_size=1, max_size=5))
    head = draw(st.lists(st.one_of(HEADS), max_size=1))
    layers = [{"name": "x", "type": "InputLayer", "shape": shape}]
    layers += [{"name": f"l{i}", **layer} for i, layer in enumerate([*body, *head])]
    return {"layers": layers}


@st.composite
def sequence_chains(draw) -> dict:
    length = draw(st.one_of(st.none(), small(4, 9)))
    layers: list[dict] = [
        {"name": "x", "type": "InputLayer", "shape": [length], "dtype": "int32", "layout": "nhwc"},
        {
            "name": "embed",
            "type": "EmbeddingLayer",
            "input_size": 12,
            "output_size": draw(small(1, 4)),
        },
    ]
    if length is not None and draw(st.booleans()):
        layers.append(
            {
                "name": "conv",
                "type": "Conv1DLayer",
                "num_filters": draw(small(1, 4)),
                "filter_size": draw(small(1, 3)),
                "pad": draw(st.sampled_from(["same", 0, 1])),
            }
        )
    for i in range(draw(small(1, 2))):
        kind = draw(
            st.sampled_from(["LSTMLayer", "GRULayer", "RecurrentLayer", "LSTM", "GRU", "SimpleRNN"])
        )
        layer = {"name": f"rnn{i}", "type": kind}
        units = draw(small(1, 4))
        if kind.endswith("Layer"):
            layer |= {
                "num_units": units,
                "backwards": draw(st.booleans()),
                "only_return_final": False,
            }
        else:
            layer |= {"units": units, "return_sequences": True, "go_backwards": draw(st.booleans())}
        layers.append(layer)
    layers.append({"name": "last", "type": "SliceLayer", "indices": -1, "axis": 0})
    return {"layers": layers}


def _check_against_keras(spec: dict) -> None:
    try:
        loaded = load_spec(spec)
    except SpecError:
        assume(False)
        return
    model, tensors = build_probe(loaded)
    for node in loaded.graph.nodes:
        assert tuple(tensors[node.name].shape[1:]) == node.shape, node.name
    assert model.count_params() == loaded.graph.total_params
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == loaded.graph.trainable_params
    out = run(model, example_batch(loaded, batch=3))
    final = loaded.graph.by_name[loaded.graph.outputs[0]].shape
    assert out.shape[0] == 3 and matches(out.shape[1:], final)


PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(image_chains())
def test_image_chain_inference_matches_keras(spec):
    _check_against_keras(spec)


@PROPERTY_SETTINGS
@given(sequence_chains())
def test_sequence_chain_inference_matches_keras(spec):
    _check_against_keras(spec)
