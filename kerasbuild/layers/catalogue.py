"""Imports every layer family so that each registers its entries.

``FAMILY_ORDER`` fixes the order in which :func:`~kerasbuild.layers.registry.entries` lists
them (the reference docs, the JSON Schema), whatever order the modules were imported in.
"""

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

FAMILY_ORDER = ("input", "dense", "conv", "pool", "norm", "noise", "activation", "affine",
                "merge", "shape", "embedding", "recurrent")
