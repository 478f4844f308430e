"""The registry is the test matrix: every layer type's ``infer`` (pure Python) must agree with
the Keras layers its ``build`` makes, for shapes and parameter counts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from kerasbuild import load_spec
from kerasbuild.errors import SpecError
from kerasbuild.layers import all_type_names, entries, lookup

from .batches import build_probe, example_batch, matches, run
from .rows import ROWS, Row

EXPECTED_TYPE_NAMES = [
    "Activation",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "BatchNormLayer",
    "BatchNormalization",
    "BiasLayer",
    "ClassToken",
    "ConcatLayer",
    "Concatenate",
    "ConcatenateLayer",
    "Conv1D",
    "Conv1DLayer",
    "Conv2D",
    "Conv2DCCLayer",
    "Conv2DDNNLayer",
    "Conv2DLayer",
    "Conv2DMMLayer",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DLayer",
    "Conv3DTranspose",
    "CropLayer",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "Deconv2DLayer",
    "Deconv3DLayer",
    "Dense",
    "DenseLayer",
    "DepthwiseConv2D",
    "DepthwiseConv2DLayer",
    "DilatedConv2DLayer",
    "DimshuffleLayer",
    "Dropout",
    "DropoutLayer",
    "ElemwiseMergeLayer",
    "ElemwiseSumLayer",
    "Embedding",
    "EmbeddingLayer",
    "FeaturePoolLayer",
    "Flatten",
    "FlattenLayer",
    "GRU",
    "GRULayer",
    "GaussianNoise",
    "GaussianNoiseLayer",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "GlobalPoolLayer",
    "GroupNormLayer",
    "GroupNormalization",
    "Input",
    "InputLayer",
    "LSTM",
    "LSTMLayer",
    "LayerNormLayer",
    "LayerNormalization",
    "LayerScale",
    "LocalResponseNormalization2DLayer",
    "MaxPool1DLayer",
    "MaxPool2DCCLayer",
    "MaxPool2DDNNLayer",
    "MaxPool2DLayer",
    "MaxPool3DDNNLayer",
    "MaxPool3DLayer",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "Maximum",
    "Minimum",
    "MultiHeadAttention",
    "MultiHeadAttentionLayer",
    "Multiply",
    "NINLayer",
    "NonlinearityLayer",
    "Normalization",
    "PReLU",
    "PadLayer",
    "ParametricRectifierLayer",
    "Permute",
    "Pool1DLayer",
    "Pool2DLayer",
    "Pool3DLayer",
    "PositionEmbedding",
    "RecurrentLayer",
    "Rescaling",
    "Reshape",
    "ReshapeLayer",
    "ScaleLayer",
    "SeparableConv1D",
    "SeparableConv1DLayer",
    "SeparableConv2D",
    "SeparableConv2DLayer",
    "SimpleRNN",
    "SliceLayer",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "SpatialDropoutLayer",
    "StochasticDepth",
    "Subtract",
    "TransposedConv2DLayer",
    "TransposedConv3DLayer",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "Upscale1DLayer",
    "Upscale2DLayer",
    "Upscale3DLayer",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]


def _row_id(row: Row) -> str:
    params = ",".join(f"{k}={v}" for k, v in row.params.items())
    return f"{row.type}({params})".replace(" ", "")


def test_registry_type_names_snapshot():
    """A layer type that disappears (or appears unannounced) fails here."""
    assert sorted(all_type_names()) == EXPECTED_TYPE_NAMES


def test_every_entry_and_keras_name_has_a_row():
    covered = {row.type for row in ROWS}
    missing = [e.name for e in entries() if not covered & set(e.type_names)]
    assert not missing, (
        f"registry entries without an example row in tests/layers/rows.py: {missing}"
    )
    keras_names = {name for e in entries() for name in e.keras}
    assert not keras_names - covered, (
        f"Keras type names without a row: {sorted(keras_names - covered)}"
    )
    assert not covered - set(all_type_names()), "rows for unregistered types"


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_infer_matches_keras(row: Row):
    loaded = load_spec(row.spec())
    probe = loaded.graph.by_name["probe"]
    assert probe.entry is lookup(row.type)
    inferred = probe.entry.infer(
        probe.params, [loaded.graph.by_name[r].shape for r in probe.inputs]
    )
    assert (inferred.shape, inferred.params) == (probe.shape, probe.param_count)
    if row.shape is not None:
        assert probe.shape == row.shape
    if row.params_count is not None:
        assert probe.param_count == row.params_count
    if row.trainable is not None:
        assert probe.trainable_count == row.trainable

    model, tensors = build_probe(loaded)
    assert tuple(tensors["probe"].shape[1:]) == probe.shape
    assert model.count_params() == loaded.graph.total_params
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == loaded.graph.trainable_params
    outputs = run(model, example_batch(loaded))
    assert outputs.shape[0] == 2 and matches(outputs.shape[1:], probe.shape)
    assert np.isfinite(outputs).all()


def test_keras_forms_take_keras_defaults():
    """Keras names bring Keras' defaults: Conv2D is linear with valid padding, Dense acts on
    the last axis, LSTM returns the final state, PReLU has one slope per value."""
    layers = {
        layer.name: layer
        for layer in load_spec(
            {
                "layers": [
                    {"name": "x", "type": "InputLayer", "shape": [8, 8, 3]},
                    {"name": "conv", "type": "Conv2D", "filters": 8, "kernel_size": 3},
                    {"name": "lconv", "type": "Conv2DLayer", "num_filters": 8, "filter_size": 3},
                    {"name": "prelu", "type": "PReLU"},
                    {"name": "bn", "type": "BatchNormalization", "momentum": 0.9},
                    {
                        "name": "up",
                        "type": "Conv2DTranspose",
                        "filters": 2,
                        "kernel_size": 3,
                        "strides": 2,
                        "padding": "same",
                    },
                ]
            }
        ).spec.layers
    }
    assert layers["conv"].type == "Conv2DLayer"
    assert (layers["conv"].nonlinearity, layers["conv"].pad) == (None, "valid")
    assert (layers["lconv"].nonlinearity, layers["lconv"].pad) == ("rectify", 0)
    assert (layers["prelu"].alpha, layers["prelu"].shared_axes) == (0.0, ())
    assert layers["bn"].alpha == pytest.approx(0.1)
    assert (layers["up"].crop, layers["up"].output_padding) == ("same", None)
    graph = load_spec(
        {
            "layers": [
                {"name": "x", "type": "InputLayer", "shape": [6, 3]},
                {"name": "lstm", "type": "LSTM", "units": 4},
            ]
        }
    ).graph
    assert graph.by_name["lstm"].shape == (4,)
    assert graph.by_name["lstm"].params.unit_forget_bias is True


@pytest.mark.parametrize(
    "layer, message",
    [
        ({"type": "LocalResponseNormalization2DLayer", "n": 4}, "n must be odd"),
        ({"type": "DimshuffleLayer", "pattern": [0, "x", 1, 2, 3]}, "'x'"),
        ({"type": "DimshuffleLayer", "pattern": [1, 0, 2, 3]}, "must start with 0"),
        ({"type": "PadLayer", "width": 1, "val": 1.5}, "only val: 0"),
        ({"type": "LSTMLayer", "num_units": 3, "grad_clipping": 5}, "grad_clipping"),
        ({"type": "LSTMLayer", "num_units": 3, "peepholes": True}, "peepholes"),
        ({"type": "GRULayer", "num_units": 3, "learn_init": True}, "learn_init"),
        ({"type": "Upscale2DLayer", "scale_factor": 2, "mode": "dilate"}, "dilate"),
        ({"type": "ReshapeLayer", "shape": [[0], -1, -1]}, "at most one"),
        ({"type": "ReshapeLayer", "shape": [4, 4, 4, 3]}, "batch axis"),
        ({"type": "FeaturePoolLayer", "pool_size": 5}, "multiple of pool_size 5"),
        ({"type": "ReshapeLayer", "shape": [[0], 5, 10]}, "holds 50 values per example"),
        ({"type": "SliceLayer", "indices": 4, "axis": 0}, "outside axis 0 of size 4"),
        (
            {
                "type": "TransposedConv2DLayer",
                "num_filters": 2,
                "filter_size": 3,
                "stride": 2,
                "output_padding": 2,
            },
            "smaller than stride",
        ),
        (
            {
                "type": "TransposedConv2DLayer",
                "num_filters": 2,
                "filter_size": 3,
                "stride": 2,
                "output_size": 12,
            },
            "possible sizes per axis: 9..10",
        ),
        ({"type": "Upscale3DLayer", "scale_factor": 2, "mode": "bilinear"}, "only available in 2D"),
        ({"type": "SpatialDropoutLayer"}, None),
        ({"type": "RecurrentLayer", "num_units": 3}, "(time steps, features)"),
        ({"type": "DimshuffleLayer", "pattern": [0, 2, 1]}, "has 3 axes, the input has 4"),
        (
            {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 0},
            "depth_multiplier must be >= 1",
        ),
        ({"type": "SeparableConv2D", "filters": 4, "kernel_size": 5}, "larger than the input"),
        ({"type": "GroupNormalization", "groups": 2}, "groups=2 must divide the channels (3)"),
        ({"type": "GroupNormalization", "groups": 0}, "groups must be >= 1 or -1"),
        (
            {"type": "MultiHeadAttention", "num_heads": 2},
            "num_heads=2 must divide the query width (3)",
        ),
        ({"type": "Normalization", "mean": [0.5, 0.5]}, "give both mean and variance"),
        (
            {"type": "Rescaling", "scale": [1.0, 2.0]},
            "scale has 2 values; the input has 3 channels",
        ),
        ({"type": "Cropping2D", "cropping": 2}, "removes everything"),
        ({"type": "PositionEmbedding"}, "(steps, features)"),
    ],
)
def test_invalid_layers_are_refused_with_a_located_message(layer, message):
    spec = {
        "layers": [
            {"name": "x", "type": "InputLayer", "shape": [4, 4, 3]},
            {"name": "bad", **layer},
        ]
    }
    if message is None:  # a valid control row: the same spec shape loads
        assert load_spec(spec).graph.by_name["bad"].shape == (4, 4, 3)
        return
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    text = str(info.value)
    assert message in text
    assert text.startswith("<spec>: layers.bad")


def test_validation_never_imports_tensorflow(tmp_path):
    """Loading a spec with every layer type stays free of TensorFlow and Keras."""
    specs = tmp_path / "specs.json"
    specs.write_text(json.dumps([row.spec() for row in ROWS]))
    code = (
        "import json, sys\n"
        "import kerasbuild.layers, kerasbuild.spec.loader\n"
        "from kerasbuild.layers import catalogue\n"
        f"for spec in json.load(open({str(specs)!r})):\n"
        "    kerasbuild.spec.loader.load_spec(spec)\n"
        "bad = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "assert not bad, bad\n"
        "print(len(kerasbuild.layers.entries()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(entries())
