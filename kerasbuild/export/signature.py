"""The ``serving_default`` signature: named inputs, dynamic batch axis, named outputs.

Inputs are named after the spec's input layers (``image``) with shape ``(None, *shape)``
(NHWC); the preprocessing is applied inside the graph when baked in, so clients send raw
values (e.g. pixels 0..255) and a regressor answers in the target's units. Outputs: a
classifier gives ``probabilities`` (float32, ``(None, K)``) and ``classes`` (int64 argmax,
``(None,)``); a segmentation model gives ``probabilities`` ``(None, H, W, K)`` and ``classes``
``(None, H, W)`` (int64 argmax per pixel); a regressor gives ``predictions``; a model with
several outputs gives one output per output layer, named after the layer.
"""

from __future__ import annotations

from typing import Any

from .preprocess import Preprocessing
from .source import ExportSource


def output_names(source: ExportSource) -> list[str]:
    """The signature's output names for ``source`` (see the module docstring)."""
    if len(source.output_names) > 1:
        return list(source.output_names)
    return ["predictions"] if source.task == "regression" else ["probabilities", "classes"]


def name_outputs(source: ExportSource, raw: Any, argmax: Any) -> dict[str, Any]:
    """Map the model's output(s) ``raw`` to signature names; ``argmax(p)`` gives classes.

    Works for TensorFlow tensors and NumPy arrays alike (``argmax`` chosen by the caller).
    A single-unit sigmoid classifier gives class 1 where the probability is above 0.5.
    """
    outputs = raw if isinstance(raw, (list, tuple)) else [raw]
    if len(source.output_names) > 1:
        return dict(zip(source.output_names, outputs))
    if source.task == "regression":
        return {"predictions": outputs[0]}
    probabilities = outputs[0]
    return {"probabilities": probabilities, "classes": argmax(probabilities)}


def raw_input_shape(tensor: Any, preprocessing: Preprocessing) -> tuple[int | None, ...]:
    """The shape clients send (no batch axis): the model's input shape, with free height and
    width when a resize is baked in (images of any size are resized to the model's)."""
    shape = tuple(tensor.shape)[1:]
    if preprocessing.resize is not None and len(shape) == 3:
        return (None, None, shape[-1])
    return shape


def input_specs(
    source: ExportSource, preprocessing: Preprocessing, *, raw_dtype: Any = None
) -> list[Any]:
    """One ``tf.TensorSpec`` per model input: ``(None, *raw shape)``, named after the input."""
    import tensorflow as tf

    return [
        tf.TensorSpec(
            (None, *raw_input_shape(t, preprocessing)), raw_dtype or tf.as_dtype(t.dtype), name=name
        )
        for t, name in zip(source.model.inputs, source.input_names)
    ]


def tf_argmax(p: Any) -> Any:
    """int64 class indices ``(N,)`` from probabilities ``(N, K)``, or ``(N, H, W)`` from
    ``(N, H, W, K)`` (``K == 1``: threshold 0.5)."""
    import tensorflow as tf

    if p.shape[-1] == 1:
        return tf.cast(p[..., 0] > 0.5, tf.int64)
    return tf.argmax(p, axis=-1, output_type=tf.int64)


def make_serving_module(source: ExportSource, preprocessing: Preprocessing) -> Any:
    """A ``tf.Module`` holding the model with ``serve`` (the ``serving_default`` function).

    When ``preprocessing`` is not the identity and every input is floating point, the module
    also has ``serve_uint8`` taking uint8 pixels (the ``serving_uint8`` signature), which gRPC
    clients can send without converting to float.
    """
    import tensorflow as tf

    model = source.model

    def call(*inputs: Any) -> dict[str, Any]:
        prepared = [
            preprocessing.apply_tf(tf.cast(x, tf.float32))
            if x.dtype.is_floating or x.dtype == tf.uint8
            else x
            for x in inputs
        ]
        raw = model(prepared if len(prepared) > 1 else prepared[0], training=False)
        if source.task == "regression" and len(source.output_names) == 1:
            raw = preprocessing.restore_tf(raw)
        return name_outputs(source, raw, tf_argmax)

    def serve(*inputs: Any) -> dict[str, Any]:
        return call(*inputs)

    module = tf.Module()
    module.serve = tf.function(serve, input_signature=input_specs(source, preprocessing))
    functions = [module.serve]
    all_float = all(tf.as_dtype(t.dtype).is_floating for t in model.inputs)
    if not preprocessing.is_identity and all_float:

        def serve_uint8(*inputs: Any) -> dict[str, Any]:
            return call(*inputs)

        module.serve_uint8 = tf.function(
            serve_uint8, input_signature=input_specs(source, preprocessing, raw_dtype=tf.uint8)
        )
        functions.append(module.serve_uint8)
    # Track the TensorFlow variables the functions capture, not the Keras model: with the
    # Keras model attached, the TFLite converter keeps unfrozen resource variables and the
    # interpreter computes NaN.
    captured = {id(v): v for fn in functions for v in fn.get_concrete_function().variables}
    module.tf_variables = list(captured.values())
    return module


def signatures(module: Any) -> dict[str, Any]:
    """The ``signatures=`` mapping for ``tf.saved_model.save``."""
    found = {"serving_default": module.serve}
    if hasattr(module, "serve_uint8"):
        found["serving_uint8"] = module.serve_uint8
    return found
