"""Example rows for every registered layer type: parameters, input shapes and, where worked
out by hand, the expected output shape and parameter count.

Every registry entry and every Keras type name must have a row (``test_every_entry_has_a_row``),
so a new layer gets tested the moment it is registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class Row:
    type: str
    params: dict[str, Any]
    inputs: tuple[Shape, ...]
    shape: Shape | None = None
    """Expected output shape (without batch), worked out by hand."""
    params_count: int | None = None
    """Expected parameter count, worked out by hand."""
    dtype: str = "float32"
    trainable: int | None = None
    id: str = field(default="", compare=False)

    def spec(self) -> dict[str, Any]:
        """A spec mapping: one InputLayer per input (``in0``, ...) and the layer ``probe``."""
        if self.type in ("InputLayer", "Input"):
            return {"layers": [{"name": "probe", "type": self.type, **self.params}]}
        layers = [
            {
                "name": f"in{i}",
                "type": "InputLayer",
                "shape": list(s),
                "dtype": self.dtype,
                "layout": "nhwc",
            }
            for i, s in enumerate(self.inputs)
        ]
        probe = {"name": "probe", "type": self.type, **self.params}
        if len(self.inputs) > 1:
            probe["incomings"] = [f"in{i}" for i in range(len(self.inputs))]
        return {"layers": [*layers, probe]}


def r(
    type_: str,
    params: dict[str, Any],
    *inputs: Shape,
    shape: Shape | None = None,
    params_count: int | None = None,
    **extra: Any,
) -> Row:
    return Row(type_, params, tuple(tuple(s) for s in inputs), shape, params_count, **extra)


ROWS: list[Row] = [
    # inputs
    r("InputLayer", {"shape": [28, 28, 1]}, shape=(28, 28, 1), params_count=0),
    r("InputLayer", {"shape": [None, 1, 28, 28]}, shape=(28, 28, 1), params_count=0),
    r("InputLayer", {"shape": [None, 5, 3], "layout": "nhwc"}, shape=(None, 5, 3)),
    r("Input", {"shape": [None, 5]}, shape=(None, 5), params_count=0),
    # dense
    r("DenseLayer", {"num_units": 10}, (4, 4, 2), shape=(10,), params_count=32 * 10 + 10),
    r("NINLayer", {"num_units": 4}, (3, 3, 5), shape=(3, 3, 4), params_count=5 * 4 + 4),
    r("Dense", {"units": 7}, (3, 5), shape=(3, 7), params_count=5 * 7 + 7),
    r("Dense", {"units": 4, "use_bias": False}, (6,), shape=(4,), params_count=24),
    # convolutions
    r("Conv1DLayer", {"num_filters": 4, "filter_size": 3}, (10, 2), shape=(8, 4), params_count=28),
    r(
        "Conv1D",
        {"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same"},
        (9, 2),
        shape=(5, 3),
        params_count=15,
    ),
    r(
        "Conv2DLayer",
        {"num_filters": 8, "filter_size": 3, "pad": "full"},
        (6, 6, 3),
        shape=(8, 8, 8),
        params_count=9 * 3 * 8 + 8,
    ),
    r(
        "Conv2DLayer",
        {"num_filters": 5, "filter_size": 3, "pad": 1, "stride": 2},
        (7, 7, 2),
        shape=(4, 4, 5),
        params_count=95,
    ),
    r(
        "Conv2DLayer",
        {"num_filters": 6, "filter_size": 3, "dilation": 2, "num_groups": 2},
        (9, 9, 4),
        shape=(5, 5, 6),
        params_count=9 * 2 * 6 + 6,
    ),
    r(
        "DilatedConv2DLayer",
        {"num_filters": 2, "filter_size": 3, "dilation": 2},
        (7, 7, 1),
        shape=(3, 3, 2),
        params_count=9 * 2 + 2,
    ),
    r("Conv2D", {"filters": 8, "kernel_size": 3}, (6, 6, 3), shape=(4, 4, 8), params_count=224),
    r(
        "Conv3DLayer",
        {"num_filters": 2, "filter_size": 2},
        (4, 4, 4, 1),
        shape=(3, 3, 3, 2),
        params_count=18,
    ),
    r(
        "Conv3D",
        {"filters": 2, "kernel_size": [1, 2, 3]},
        (3, 4, 5, 2),
        shape=(3, 3, 3, 2),
        params_count=6 * 2 * 2 + 2,
    ),
    r(
        "TransposedConv2DLayer",
        {"num_filters": 4, "filter_size": 3, "stride": 2},
        (5, 5, 2),
        shape=(11, 11, 4),
        params_count=9 * 2 * 4 + 4,
    ),
    r(
        "TransposedConv2DLayer",
        {"num_filters": 4, "filter_size": 3, "stride": 2, "crop": "same"},
        (5, 5, 2),
        shape=(9, 9, 4),
        params_count=76,
    ),
    r(
        "TransposedConv2DLayer",
        {"num_filters": 4, "filter_size": 3, "crop": "full"},
        (5, 5, 2),
        shape=(3, 3, 4),
        params_count=76,
    ),
    r(
        "TransposedConv2DLayer",
        {
            "num_filters": 2,
            "filter_size": 3,
            "stride": 2,
            "crop": 1,
            "output_padding": 1,
            "nonlinearity": "leaky_rectify",
        },
        (5, 4, 1),
        shape=(10, 8, 2),
        params_count=9 * 2 + 2,
    ),
    r(
        "TransposedConv2DLayer",
        {"num_filters": 2, "filter_size": 3, "stride": 2, "crop": "same", "output_size": [10, 9]},
        (5, 5, 1),
        shape=(10, 9, 2),
        params_count=9 * 2 + 2,
    ),
    r(
        "Deconv2DLayer",
        {"num_filters": 3, "filter_size": 2, "stride": 3},
        (4, 4, 1),
        shape=(11, 11, 3),
        params_count=15,
    ),
    r(
        "Conv2DTranspose",
        {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        (5, 5, 2),
        shape=(10, 10, 4),
        params_count=76,
    ),
    r(
        "Conv2DTranspose",
        {"filters": 3, "kernel_size": 2, "strides": 3},
        (4, 4, 1),
        shape=(12, 12, 3),
        params_count=15,
    ),
    r(
        "TransposedConv3DLayer",
        {"num_filters": 2, "filter_size": 2, "stride": 2},
        (2, 3, 2, 1),
        shape=(4, 6, 4, 2),
        params_count=8 * 2 + 2,
    ),
    r(
        "Deconv3DLayer",
        {"num_filters": 1, "filter_size": 3, "crop": "same"},
        (3, 3, 3, 2),
        shape=(3, 3, 3, 1),
        params_count=27 * 2 + 1,
    ),
    r(
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 2, 2, 1),
        shape=(4, 4, 4, 2),
        params_count=27 * 2 + 2,
    ),
    # depthwise and separable convolutions
    r("DepthwiseConv2D", {"kernel_size": 3}, (6, 6, 4), shape=(4, 4, 4), params_count=9 * 4 + 4),
    r(
        "DepthwiseConv2D",
        {
            "kernel_size": 3,
            "strides": 2,
            "padding": "same",
            "depth_multiplier": 2,
            "use_bias": False,
        },
        (7, 7, 3),
        shape=(4, 4, 6),
        params_count=9 * 6,
    ),
    r(
        "DepthwiseConv2DLayer",
        {"kernel_size": 3, "padding": "same", "activation": "relu6"},
        (5, 5, 2),
        shape=(5, 5, 2),
        params_count=20,
    ),
    r(
        "SeparableConv2D",
        {"filters": 8, "kernel_size": 3},
        (6, 6, 3),
        shape=(4, 4, 8),
        params_count=27 + 3 * 8 + 8,
    ),
    r(
        "SeparableConv2DLayer",
        {"filters": 2, "kernel_size": 1, "activation": "hard_swish"},
        (3, 3, 2),
        shape=(3, 3, 2),
        params_count=2 + 4 + 2,
    ),
    r(
        "SeparableConv1D",
        {"filters": 4, "kernel_size": 3, "padding": "same", "depth_multiplier": 2},
        (7, 3),
        shape=(7, 4),
        params_count=3 * 6 + 6 * 4 + 4,
    ),
    r(
        "SeparableConv1DLayer",
        {"filters": 2, "kernel_size": 2, "use_bias": False},
        (5, 2),
        shape=(4, 2),
        params_count=4 + 4,
    ),
    # pooling
    r("Pool1DLayer", {"pool_size": 2}, (9, 3), shape=(4, 3), params_count=0),
    r("MaxPool1DLayer", {"pool_size": 3, "stride": 1}, (5, 2), shape=(3, 2)),
    r("MaxPooling1D", {"pool_size": 2}, (8, 2), shape=(4, 2)),
    r("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (5, 2), shape=(5, 2)),
    r("Pool2DLayer", {"pool_size": 2, "mode": "average_exc_pad"}, (6, 6, 3), shape=(3, 3, 3)),
    r("Pool2DLayer", {"pool_size": 3, "stride": 1, "mode": "l2"}, (5, 5, 2), shape=(3, 3, 2)),
    r("MaxPool2DLayer", {"pool_size": 3, "stride": 2, "pad": 1}, (7, 7, 2), shape=(4, 4, 2)),
    r("MaxPool2DDNNLayer", {"pool_size": 2}, (4, 4, 1), shape=(2, 2, 1)),
    r("MaxPool2DCCLayer", {"pool_size": 2}, (6, 4, 1), shape=(3, 2, 1)),
    r("MaxPooling2D", {"pool_size": 2}, (7, 7, 1), shape=(3, 3, 1), params_count=0),
    r("AveragePooling2D", {"pool_size": 2, "strides": 1}, (4, 4, 2), shape=(3, 3, 2)),
    r(
        "Pool3DLayer",
        {"pool_size": [1, 2, 2], "mode": "average_inc_pad"},
        (3, 4, 4, 2),
        shape=(3, 2, 2, 2),
        params_count=0,
    ),
    r("Pool3DLayer", {"pool_size": 2, "mode": "l2", "stride": 1}, (3, 3, 3, 1), shape=(2, 2, 2, 1)),
    r("MaxPool3DLayer", {"pool_size": 2, "pad": 1}, (3, 3, 3, 1), shape=(2, 2, 2, 1)),
    r("MaxPool3DDNNLayer", {"pool_size": 2}, (4, 4, 4, 1), shape=(2, 2, 2, 1)),
    r("MaxPooling3D", {"pool_size": 2}, (4, 5, 4, 2), shape=(2, 2, 2, 2)),
    r("AveragePooling3D", {"pool_size": 2, "padding": "same"}, (3, 3, 3, 1), shape=(2, 2, 2, 1)),
    r("GlobalAveragePooling3D", {}, (2, 2, 2, 3), shape=(3,)),
    r("GlobalMaxPooling3D", {}, (2, 2, 2, 3), shape=(3,)),
    r("GlobalPoolLayer", {}, (5, 5, 3), shape=(3,), params_count=0),
    r("GlobalPoolLayer", {"pool_function": "max"}, (7, 4), shape=(4,)),
    r("GlobalAveragePooling2D", {}, (4, 4, 6), shape=(6,)),
    r("GlobalMaxPooling2D", {}, (4, 4, 6), shape=(6,)),
    r("GlobalAveragePooling1D", {}, (7, 5), shape=(5,)),
    r("GlobalMaxPooling1D", {}, (7, 5), shape=(5,)),
    r("GlobalPoolLayer", {"keepdims": True}, (4, 4, 6), shape=(1, 1, 6), params_count=0),
    r("GlobalMaxPooling1D", {"keepdims": True}, (7, 5), shape=(1, 5)),
    r("FeaturePoolLayer", {"pool_size": 3}, (4, 4, 6), shape=(4, 4, 2), params_count=0),
    r(
        "FeaturePoolLayer",
        {"pool_size": 2, "axis": 0, "pool_function": "mean"},
        (6, 5),
        shape=(3, 5),
    ),
    r("FeaturePoolLayer", {"pool_size": 2}, (None, 6), shape=(None, 3)),
    r("Upscale2DLayer", {"scale_factor": 2}, (3, 4, 2), shape=(6, 8, 2), params_count=0),
    r("Upscale1DLayer", {"scale_factor": 3}, (4, 2), shape=(12, 2), params_count=0),
    r("UpSampling1D", {"size": 2}, (None, 2), shape=(None, 2)),
    r("Upscale3DLayer", {"scale_factor": [1, 2, 3]}, (2, 2, 2, 1), shape=(2, 4, 6, 1)),
    r("UpSampling3D", {"size": 2}, (2, 1, 2, 3), shape=(4, 2, 4, 3)),
    r("UpSampling2D", {"size": [2, 3], "interpolation": "bilinear"}, (3, 3, 1), shape=(6, 9, 1)),
    # normalisation
    r("BatchNormLayer", {}, (4, 4, 3), shape=(4, 4, 3), params_count=12, trainable=6),
    r("BatchNormalization", {"center": False}, (5,), shape=(5,), params_count=15, trainable=5),
    r("LocalResponseNormalization2DLayer", {}, (4, 4, 7), shape=(4, 4, 7), params_count=0),
    r("LayerNormalization", {}, (5, 6), shape=(5, 6), params_count=12),
    r(
        "LayerNormLayer",
        {"epsilon": 1e-6, "center": False},
        (4, 4, 3),
        shape=(4, 4, 3),
        params_count=3,
    ),
    r("GroupNormalization", {"groups": 2}, (4, 4, 6), shape=(4, 4, 6), params_count=12),
    r("GroupNormLayer", {"groups": -1}, (5, 3), shape=(5, 3), params_count=6),
    # in-model preprocessing
    r("Rescaling", {"scale": 0.5, "offset": 1.0}, (4, 4, 3), shape=(4, 4, 3), params_count=0),
    r("Rescaling", {"scale": [1.0, 2.0, 3.0]}, (2, 3), shape=(2, 3), params_count=0),
    r("Normalization", {"mean": 0.5, "variance": 4.0}, (3,), shape=(3,), params_count=0),
    r("Normalization", {}, (4, 4, 3), shape=(4, 4, 3), params_count=7, trainable=0),
    # noise
    r(
        "DropoutLayer",
        {"p": 0.3, "shared_axes": [0, 1]},
        (4, 4, 3),
        shape=(4, 4, 3),
        params_count=0,
    ),
    r("Dropout", {"rate": 0.2}, (10,), shape=(10,)),
    r("SpatialDropoutLayer", {"p": 0.2}, (4, 4, 3), shape=(4, 4, 3), params_count=0),
    r("SpatialDropout1D", {"rate": 0.1}, (6, 3), shape=(6, 3)),
    r("SpatialDropout2D", {"rate": 0.1}, (4, 4, 2), shape=(4, 4, 2)),
    r("SpatialDropout3D", {"rate": 0.1}, (2, 3, 3, 2), shape=(2, 3, 3, 2)),
    r("GaussianNoiseLayer", {"sigma": 0.2}, (5,), shape=(5,), params_count=0),
    r("GaussianNoise", {"stddev": 0.1}, (2, 3), shape=(2, 3)),
    # activations and learned element-wise layers
    r("NonlinearityLayer", {"nonlinearity": "scaled_tanh"}, (3, 4), shape=(3, 4), params_count=0),
    r("NonlinearityLayer", {"nonlinearity": None}, (3,), shape=(3,)),
    r("Activation", {"activation": "softmax"}, (6,), shape=(6,)),
    r("NonlinearityLayer", {"nonlinearity": "hard_swish"}, (3, 4), shape=(3, 4), params_count=0),
    r("NonlinearityLayer", {"nonlinearity": "gelu"}, (3, 4), shape=(3, 4)),
    r("Activation", {"activation": "relu6"}, (5,), shape=(5,)),
    r("Activation", {"activation": "swish"}, (5,), shape=(5,)),
    r("Activation", {"activation": "mish"}, (5,), shape=(5,)),
    r("ParametricRectifierLayer", {}, (4, 4, 3), shape=(4, 4, 3), params_count=3),
    r("ParametricRectifierLayer", {"shared_axes": "all"}, (4, 4, 3), params_count=1),
    r("ParametricRectifierLayer", {"shared_axes": [0]}, (4, 5, 3), params_count=15),
    r("PReLU", {}, (4, 3), shape=(4, 3), params_count=12),
    r("PReLU", {"shared_axes": [1, 2]}, (4, 4, 3), params_count=3),
    r("BiasLayer", {}, (4, 4, 3), shape=(4, 4, 3), params_count=3),
    r("BiasLayer", {"shared_axes": []}, (2, 3), params_count=6),
    r("ScaleLayer", {}, (5, 2), shape=(5, 2), params_count=2),
    r("ScaleLayer", {"shared_axes": "all", "scales": 0.5}, (3, 3, 2), params_count=1),
    # merges
    r("ElemwiseSumLayer", {}, (3, 4), (3, 4), shape=(3, 4), params_count=0),
    r("ElemwiseSumLayer", {"coeffs": [0.5, -1.0]}, (3, 4), (3, 4), shape=(3, 4)),
    r("Add", {}, (5,), (5,), (5,), shape=(5,)),
    r("ElemwiseMergeLayer", {"merge_function": "mul"}, (3,), (3,), shape=(3,), params_count=0),
    r("Multiply", {}, (2, 2), (2, 2), shape=(2, 2)),
    r("Multiply", {}, (4, 4, 3), (1, 1, 3), shape=(4, 4, 3)),
    r("Maximum", {}, (4,), (4,), shape=(4,)),
    r("Minimum", {}, (4,), (4,), shape=(4,)),
    r("Subtract", {}, (4,), (4,), shape=(4,)),
    r("Average", {}, (4,), (4,), (4,), shape=(4,)),
    r("ConcatLayer", {}, (4, 4, 2), (4, 4, 3), shape=(4, 4, 5), params_count=0),
    r("ConcatLayer", {"axis": 0}, (2, 3), (5, 3), shape=(7, 3)),
    r("Concatenate", {"axis": 1}, (2, 3), (5, 3), shape=(7, 3)),
    r("Concatenate", {}, (2, 3), (2, 4), shape=(2, 7)),
    # shape
    r("FlattenLayer", {}, (3, 4, 2), shape=(24,), params_count=0),
    r("Flatten", {}, (2, 5), shape=(10,)),
    r("ReshapeLayer", {"shape": [[0], 4, 6]}, (2, 3, 4), shape=(4, 6), params_count=0),
    r("ReshapeLayer", {"shape": [None, [2], -1]}, (2, 3, 4), shape=(3, 8)),
    r("ReshapeLayer", {"shape": [[0], [1], 2, 3]}, (None, 6), shape=(None, 2, 3)),
    r("Reshape", {"target_shape": [6, -1]}, (2, 3, 4), shape=(6, 4)),
    r("DimshuffleLayer", {"pattern": [0, 2, 1]}, (5, 3), shape=(3, 5), params_count=0),
    r("Permute", {"dims": [3, 1, 2]}, (2, 3, 4), shape=(4, 2, 3)),
    r("PadLayer", {"width": 1}, (4, 4, 2), shape=(6, 6, 2), params_count=0),
    r("PadLayer", {"width": [[1, 2]]}, (5, 3), shape=(8, 3)),
    r("ZeroPadding1D", {"padding": 2}, (5, 3), shape=(9, 3)),
    r("ZeroPadding2D", {"padding": [[1, 0], [2, 3]]}, (4, 4, 1), shape=(5, 9, 1)),
    r("ZeroPadding3D", {"padding": 1}, (2, 2, 2, 1), shape=(4, 4, 4, 1)),
    r("SliceLayer", {"indices": [0, 5, 2]}, (3, 6), shape=(3, 3), params_count=0),
    r("SliceLayer", {"indices": -1, "axis": 0}, (5, 4), shape=(4,)),
    r("SliceLayer", {"indices": [1, None]}, (None, 4), shape=(None, 3)),
    r("SliceLayer", {"indices": [0, 2], "axis": 0}, (None, 3), shape=(None, 3)),
    r("CropLayer", {"cropping": 1}, (6, 6, 2), shape=(4, 4, 2), params_count=0),
    r("Cropping1D", {"cropping": [[1, 2]]}, (8, 3), shape=(5, 3)),
    r("Cropping2D", {"cropping": [[0, 1], [2, 0]]}, (5, 5, 1), shape=(4, 3, 1)),
    r("Cropping3D", {"cropping": 1}, (4, 4, 4, 1), shape=(2, 2, 2, 1)),
    # attention and transformer parts
    r("MultiHeadAttention", {"num_heads": 2}, (5, 8), shape=(5, 8), params_count=4 * 72),
    r(
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3},
        (4, 6),
        (7, 5),
        shape=(4, 6),
        params_count=42 + 36 + 36 + 42,
    ),
    r(
        "MultiHeadAttentionLayer",
        {"num_heads": 1, "key_dim": 2, "value_dim": 3, "use_bias": False},
        (3, 4),
        (5, 2),
        (5, 6),
        shape=(3, 4),
        params_count=8 + 12 + 6 + 12,
    ),
    r("StochasticDepth", {"rate": 0.2}, (4, 3), shape=(4, 3), params_count=0),
    r("LayerScale", {}, (4, 4, 3), shape=(4, 4, 3), params_count=3),
    r("PositionEmbedding", {}, (5, 4), shape=(5, 4), params_count=20),
    r("ClassToken", {}, (5, 4), shape=(6, 4), params_count=4),
    # embedding and recurrent
    r(
        "EmbeddingLayer",
        {"input_size": 20, "output_size": 4},
        (7,),
        shape=(7, 4),
        params_count=80,
        dtype="int32",
    ),
    r(
        "Embedding",
        {"input_dim": 10, "output_dim": 3},
        (5,),
        shape=(5, 3),
        params_count=30,
        dtype="int32",
    ),
    r("RecurrentLayer", {"num_units": 4}, (None, 3), shape=(None, 4), params_count=12 + 16 + 4),
    r("SimpleRNN", {"units": 4}, (6, 3), shape=(4,), params_count=32),
    r(
        "LSTMLayer",
        {"num_units": 5, "backwards": True},
        (6, 3),
        shape=(6, 5),
        params_count=4 * (15 + 25 + 5),
    ),
    r(
        "LSTMLayer",
        {"num_units": 5, "only_return_final": True, "unroll_scan": True},
        (4, 3),
        shape=(5,),
        params_count=180,
    ),
    r("LSTM", {"units": 5}, (None, 3), shape=(5,), params_count=180),
    r(
        "LSTM",
        {"units": 2, "use_bias": False, "return_sequences": True, "go_backwards": True},
        (4, 3),
        shape=(4, 2),
        params_count=4 * (6 + 4),
    ),
    r(
        "GRULayer",
        {"num_units": 4, "only_return_final": True},
        (6, 3),
        shape=(4,),
        params_count=3 * (12 + 16 + 8),
    ),
    r(
        "GRU",
        {"units": 4, "return_sequences": True, "dropout": 0.2, "recurrent_dropout": 0.1},
        (None, 3),
        shape=(None, 4),
        params_count=108,
    ),
]
