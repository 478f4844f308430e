"""Which dtype policy each layer runs under, in pure Python (no TensorFlow).

Under ``precision: mixed_float16`` / ``mixed_bfloat16`` every layer computes in the low
precision with float32 variables, except the layers that produce the model's outputs: they
run under the ``float32`` policy (Keras' mixed-precision guidance), so the final softmax is
computed in float32 and what leaves the model is float32.
"""

from __future__ import annotations

from typing import Any

OUTPUT_POLICY = "float32"
COMPUTE_DTYPES = {"float32": "float32", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
"""Policy name -> the dtype its layers compute in."""


def is_mixed(precision: str) -> bool:
    return precision.startswith("mixed_")


def layer_policies(graph: Any, precision: str) -> dict[str, str]:
    """Spec layer name -> the dtype policy it is built with (``graph``: the analysed spec)."""
    outputs = set(graph.outputs)
    return {
        n.name: OUTPUT_POLICY if n.name in outputs else precision
        for n in sorted(graph.nodes, key=lambda n: n.index)
    }
