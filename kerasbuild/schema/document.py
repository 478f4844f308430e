"""The parts of a spec file that do not depend on the layer registry: block definitions and
their uses. The whole document model (layers as a union over every registered type) is built
from the registry by :mod:`kerasbuild.spec.model`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import NAME_PATTERN, StrictModel


class BlockUse(StrictModel):
    """Instantiates a block: ``{use: conv_bn, name: stem, repeat: 2, with: {filters: 64}}``."""

    use: str = Field(description="Name of the block.")
    name: str = Field(pattern=NAME_PATTERN, description="Prefix of the generated layer names.")
    repeat: int = Field(
        1, ge=1, description="Number of copies in a row (named NAME_1, NAME_2, ...)."
    )
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="Values of the block's parameters."
    )
    incoming: str | None = Field(
        None, description="Layer feeding the block (default: the previous one)."
    )
    trainable: bool = Field(True, description="false: freeze every layer of the block.")


class Block(StrictModel):
    """A named, parameterised group of layers (see :mod:`kerasbuild.spec.blocks`)."""

    description: str = Field("", description="Free text.")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameter names and their "
        "defaults (null: required); used as $name in the layers.",
    )
    layers: list[dict[str, Any]] = Field(
        min_length=1,
        description="The block's layers (may `use` "
        "other blocks); $input is the layer feeding the block.",
    )
