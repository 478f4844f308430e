"""Imports every layer family so that each registers its entries.

``FAMILIES`` lists the family modules in the order in which
:func:`~kerasbuild.layers.registry.entries` groups them (the reference docs, the JSON Schema),
whatever order they were imported in. A layer's family is its module's name.
"""

from . import (
    activation,
    affine,
    attention,
    conv,
    dense,
    depthwise,
    embedding,
    inputs,
    merge,
    noise,
    norm,
    pool,
    preprocess,
    recurrent,
    residual,
    shape,
)

FAMILIES = (
    inputs,
    preprocess,
    dense,
    conv,
    depthwise,
    pool,
    norm,
    noise,
    activation,
    affine,
    merge,
    shape,
    embedding,
    attention,
    residual,
    recurrent,
)
