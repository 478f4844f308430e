"""Imports every layer family so that each registers its entries (import order = doc order)."""

from . import (  # noqa: F401
    activation,
    conv,
    dense,
    inputs,
    merge,
    noise,
    norm,
    pool,
    shape,
)
