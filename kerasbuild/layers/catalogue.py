"""Imports every layer family so that each registers its entries.

``FAMILIES`` lists the family modules in the order in which
:func:`~kerasbuild.layers.registry.entries` groups them (the reference docs, the JSON Schema),
whatever order they were imported in. A layer's family is its module's name.
"""

from . import (
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

FAMILIES = (inputs, dense, conv, pool, norm, noise, activation, affine, merge, shape, embedding, recurrent)
