"""Imports every layer family so that each registers its entries (import order = doc order)."""

from . import (  # noqa: F401
    activation,
    affine,
    conv,
    dense,
    embedding,
    inputs,
    merge,
    noise,
    norm,
    pool,
    recurrent,
    shape,
)
