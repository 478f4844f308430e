"""A mixed-precision model's float32 twin, for the formats that run in float32.

A model trained under ``mixed_float16`` / ``mixed_bfloat16`` keeps float32 variables and
computes in the low precision. ONNX Runtime and TFLite cannot run bfloat16 convolutions
(and TFLite has no float16 kernels either), so those exports are built from the same model
with every layer under the ``float32`` policy and the same (float32) weights: nothing is
lost, the export computes the same function in full precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLOAT32 = "float32"


def compute_dtype(model: Any) -> str:
    """The lowest precision any layer of ``model`` computes in: ``float32``, ``float16`` or
    ``bfloat16`` (nested models included)."""
    found = {
        layer.dtype_policy.compute_dtype for layer in model._flatten_layers(include_self=False)
    }
    for low in ("float16", "bfloat16"):
        if low in found:
            return low
    return FLOAT32


def float32_copy(model: Any) -> Any:
    """``model`` rebuilt with every layer under the ``float32`` dtype policy and its weights
    (which are float32 under every policy) copied over."""
    import keras

    copy = keras.Model.from_config(_float32_config(model.get_config()))
    copy.set_weights(model.get_weights())
    return copy


def _float32_config(config: Any) -> Any:
    """``config`` with every serialised ``DTypePolicy`` replaced by ``"float32"``."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return FLOAT32
        return {key: _float32_config(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_float32_config(value) for value in config]
    return config


def machine_epsilon(dtype: str) -> float:
    """Distance from 1.0 to the next number in ``dtype`` (bfloat16: 2**-7, float16: 2**-10)."""
    if dtype == "bfloat16":
        import ml_dtypes

        return float(ml_dtypes.finfo(ml_dtypes.bfloat16).eps)
    return float(np.finfo(dtype).eps)
