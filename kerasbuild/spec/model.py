"""The canonical spec as pydantic models, built from the layer registry.

``layers`` is a discriminated union over every registered layer type (canonical names,
aliases and Keras names), so an error names the exact field (``layers.3.num_filters``) and
``kerasbuild schema`` gets a JSON Schema for editors for free.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo

from ..layers import entries
from ..schema.base import NAME_PATTERN, StrictModel
from ..schema.data import DataConfig
from ..schema.document import Block, BlockUse
from ..schema.train import InitWeights, TrainConfig


@cache
def layer_models() -> dict[str, type[BaseModel]]:
    """Canonical type name -> pydantic model whose ``type`` accepts all of its names."""
    models = {}
    for entry in entries():
        models[entry.name] = create_model(
            entry.name,
            __base__=entry.schema,
            __module__=entry.schema.__module__,
            type=(
                Literal[entry.type_names],
                Field(description="Layer type: " + ", ".join(entry.type_names)),
            ),
        )
        models[entry.name].__doc__ = entry.schema.__doc__
    return models


@cache
def spec_model() -> type[BaseModel]:
    """The validated, fully expanded spec: concrete layers only."""
    union = Annotated[Union[tuple(layer_models().values())], Field(discriminator="type")]  # noqa: UP007
    return create_model(
        "Spec",
        __base__=StrictModel,
        __module__=__name__,
        name=(str, Field("model", pattern=NAME_PATTERN, description="Model name.")),
        description=(str, Field("", description="Free text.")),
        reference=(str, Field("", description="Where the architecture comes from.")),
        layers=(
            list[union],
            Field(
                min_length=1,
                description="Layers in order; each feeds the next unless it names its incoming.",
            ),
        ),
        outputs=(
            list[str] | None,
            Field(None, description="Output layer names (default: the last layer)."),
        ),
        train=(TrainConfig, Field(default_factory=TrainConfig)),
        data=(DataConfig | None, None),
        init=(
            InitWeights | None,
            Field(None, description="Start from saved weights (transfer learning)."),
        ),
    )


@cache
def keras_form_models() -> dict[str, type[BaseModel]]:
    """Keras type name -> a model of that spelling (``Conv2D`` with ``filters``,
    ``kernel_size``...): Keras' parameter names and defaults in place of the Lasagne ones,
    for the JSON Schema and the reference docs. Validation itself maps a Keras spelling onto
    the Lasagne entry (:meth:`~kerasbuild.layers.base.LayerBase._keras_spelling`)."""
    models = {}
    for entry in entries():
        for keras_name, form in entry.keras.items():
            to_keras = {lasagne: keras for keras, lasagne in form.rename.items()}
            fields: dict[str, Any] = {}
            for name, info in entry.schema.model_fields.items():
                if name == "type" or name in form.fixed:
                    continue
                if name in form.defaults:
                    info = FieldInfo.merge_field_infos(info, default=form.defaults[name])
                fields[to_keras.get(name, name)] = (info.annotation, info)
            for keras_key in form.convert:
                fields.setdefault(
                    keras_key,
                    (
                        Any,
                        Field(
                            None,
                            description=f"Keras {keras_key}; "
                            "converted to the Lasagne parameter(s).",
                        ),
                    ),
                )
            if "b" in entry.schema.model_fields:
                fields.setdefault(
                    "use_bias", (bool, Field(True, description="false: no bias (b: null)."))
                )
            fields["type"] = (
                Literal[keras_name],
                Field(description=f"Keras spelling of {entry.name}."),
            )
            models[keras_name] = create_model(
                f"{keras_name}Spelling", __base__=StrictModel, __module__=__name__, **fields
            )
            models[
                keras_name
            ].__doc__ = f"``{keras_name}``: {entry.name} with Keras' parameter names."
    return models


@cache
def document_model() -> type[BaseModel]:
    """The spec file as written in canonical form (blocks and ``use`` entries included, Lasagne
    or Keras spellings); used for the JSON Schema and the reference docs."""
    lasagne = []
    for entry in entries():
        names = tuple(n for n in entry.type_names if n not in entry.keras)
        lasagne.append(
            create_model(
                entry.name,
                __base__=layer_models()[entry.name],
                __module__=__name__,
                type=(Literal[names], Field(description="Layer type: " + ", ".join(names))),
            )
        )
    members = (*lasagne, *keras_form_models().values())
    union = Annotated[Union[members], Field(discriminator="type")]  # noqa: UP007
    return create_model(
        "SpecDocument",
        __base__=spec_model(),
        __module__=__name__,
        layers=(list[Union[union, BlockUse]], Field(min_length=1)),  # noqa: UP007
        blocks=(dict[str, Block], Field(default_factory=dict)),
    )
