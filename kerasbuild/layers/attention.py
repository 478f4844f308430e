"""Multi-head attention (Keras ``MultiHeadAttention``; Vaswani et al. 2017), for self-attention
(one input) and cross-attention (``incomings: [query, value]`` or ``[query, value, key]``).

Inputs ``(..., T, D)``: the query's last axis ``D`` is the width, the axes between the batch axis
and the last one are attended over. Output: the query's shape. Parameters: query, key and value
projections ``D_in * H * k + H * k`` each (``v`` for the value), output projection
``H * v * Dq + Dq``.
"""

from __future__ import annotations

from pydantic import Field

from .base import LayerBase
from .registry import Inferred, ShapeError, Shapes, register


class MultiHeadAttentionParams(LayerBase):
    """MultiHeadAttention(num_heads, key_dim=auto, value_dim=key_dim, dropout=0, use_bias=true):
    scaled dot-product attention over ``num_heads`` heads.

    ``key_dim`` (per-head size of query and key) defaults to the query width divided by
    ``num_heads``, which must then divide it; ``value_dim`` defaults to ``key_dim``. One input is
    self-attention; ``incomings: [query, value]`` (key = value) or ``[query, value, key]`` is
    cross-attention. Example (ViT): ``{name: mha, type: MultiHeadAttention, num_heads: 3}``.
    """

    num_heads: int = Field(ge=1, description="Number of attention heads.")
    key_dim: int | None = Field(
        None, ge=1, description="Per-head query/key size (default: width / num_heads)."
    )
    value_dim: int | None = Field(None, ge=1, description="Per-head value size (default: key_dim).")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout rate on the attention weights.")
    use_bias: bool = True

    def dims(self, width: int) -> tuple[int, int]:
        """``(key_dim, value_dim)`` for a query of width ``width``."""
        key_dim = self.key_dim
        if key_dim is None:
            if width % self.num_heads:
                raise ShapeError(
                    f"num_heads={self.num_heads} must divide the query width ({width}) "
                    "when key_dim is not given; give key_dim or a num_heads dividing "
                    f"{width}"
                )
            key_dim = width // self.num_heads
        return key_dim, self.value_dim or key_dim


def _infer(p: MultiHeadAttentionParams, shapes) -> Inferred:
    query, value = shapes[0], shapes[1] if len(shapes) > 1 else shapes[0]
    key = shapes[2] if len(shapes) > 2 else value
    for role, shape in (("query", query), ("value", value), ("key", key)):
        if len(shape) < 2 or shape[-1] is None:
            raise ShapeError(
                f"attention's {role} must be (..., steps, features) with known features, "
                f"got shape {list(shape)}"
            )
    if len(value) != len(query) or len(key) != len(query):
        raise ShapeError(
            f"query, value and key need the same rank, got {list(query)}, {list(value)}, "
            f"{list(key)}"
        )
    key_dim, value_dim = p.dims(query[-1])
    heads, bias = p.num_heads, int(p.use_bias)
    params = (
        (query[-1] + bias) * heads * key_dim
        + (key[-1] + bias) * heads * key_dim
        + (value[-1] + bias) * heads * value_dim
        + heads * value_dim * query[-1]
        + bias * query[-1]
    )
    return Inferred(tuple(query), params)


def _build(p: MultiHeadAttentionParams, name: str, shapes: Shapes):
    import keras

    key_dim, value_dim = p.dims(shapes.inputs[0][-1])
    layer = keras.layers.MultiHeadAttention(
        p.num_heads, key_dim, value_dim, dropout=p.dropout, use_bias=p.use_bias, name=name
    )

    def make(inputs):
        query = inputs[0]
        value = inputs[1] if len(inputs) > 1 else query
        key = inputs[2] if len(inputs) > 2 else None
        return layer(query, value, key)

    return make


register(
    "MultiHeadAttention",
    schema=MultiHeadAttentionParams,
    infer=_infer,
    build=_build,
    positional=("num_heads", "key_dim"),
    aliases=("MultiHeadAttentionLayer",),
    min_inputs=1,
    max_inputs=3,
)
