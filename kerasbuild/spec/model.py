"""The canonical spec as pydantic models, built from the layer registry.

``layers`` is a discriminated union over every registered layer type (canonical names,
aliases and Keras names), so an error names the exact field (``layers.3.num_filters``) and
``kerasbuild schema`` gets a JSON Schema for editors for free.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from ..data.config import DataConfig
from ..layers import entries
from ..layers.base import NAME_PATTERN, StrictModel
from ..train.config import TrainConfig


@cache
def layer_models() -> dict[str, type[BaseModel]]:
    """Canonical type name -> pydantic model whose ``type`` accepts all of its names."""
    models = {}
    for entry in entries():
        models[entry.name] = create_model(
            entry.name, __base__=entry.schema, __module__=entry.schema.__module__,
            type=(Literal[entry.type_names], Field(description="Layer type: " + ", ".join(entry.type_names))),
        )
        models[entry.name].__doc__ = entry.schema.__doc__
    return models


class BlockUse(StrictModel):
    """Instantiates a block: ``{use: conv_bn, name: stem, repeat: 2, with: {filters: 64}}``."""

    use: str
    name: str = Field(pattern=NAME_PATTERN)
    repeat: int = Field(1, ge=1)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    incoming: str | None = None


class Block(StrictModel):
    """A named, parameterised group of layers (see :mod:`kerasbuild.spec.blocks`)."""

    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    layers: list[dict[str, Any]] = Field(min_length=1)


@cache
def spec_model() -> type[BaseModel]:
    """The validated, fully expanded spec: concrete layers only."""
    union = Annotated[Union[tuple(layer_models().values())], Field(discriminator="type")]  # noqa: UP007
    return create_model(
        "Spec", __base__=StrictModel, __module__=__name__,
        name=(str, Field("model", pattern=NAME_PATTERN, description="Model name.")),
        description=(str, Field("", description="Free text.")),
        reference=(str, Field("", description="Where the architecture comes from.")),
        layers=(list[union], Field(min_length=1, description="Layers in order; each feeds the next "
                                                             "unless it names its incoming.")),
        outputs=(list[str] | None, Field(None, description="Output layer names (default: the last layer).")),
        train=(TrainConfig, Field(default_factory=TrainConfig)),
        data=(DataConfig | None, None),
    )


@cache
def document_model() -> type[BaseModel]:
    """The spec file as written in canonical form (blocks and ``use`` entries included);
    used for the JSON Schema and the reference docs."""
    union = Annotated[Union[tuple(layer_models().values())], Field(discriminator="type")]  # noqa: UP007
    return create_model(
        "SpecDocument", __base__=spec_model(), __module__=__name__,
        layers=(list[Union[union, BlockUse]], Field(min_length=1)),  # noqa: UP007
        blocks=(dict[str, Block], Field(default_factory=dict)),
    )
