"""The one registry of layer types: name (and aliases) -> schema, shape inference, builder.

Every consumer reads this table: the spec validator (schema + ``infer``), the model builder
(``build``, :mod:`kerasbuild.build`), ``kerasbuild schema``, the generated reference docs, the
nolearn converter (positional arguments, backend variants) and the test matrix. Adding a layer
means one :func:`register` call in its family module and one test row (docs/adding-a-layer.md).
The family is the module's name; :data:`~kerasbuild.layers.catalogue.FAMILIES` lists the
family modules in the order :func:`entries` groups them.

``infer`` is pure Python: it receives the validated parameters and the input shapes (tuples
without the batch axis, NHWC, ``None`` for unknown sizes) and returns an :class:`Inferred`.
``build`` receives the parameters, the layer's name and the :class:`Shapes` the graph inferred,
and returns a callable mapping a list of Keras tensors to one Keras tensor; it imports Keras
lazily, so validation never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class Inferred:
    """Result of shape inference for one layer.

    ``shape``: output shape without the batch axis. ``params``: total parameter count,
    ``trainable``: trainable part of it (BatchNorm's moving statistics are not trainable).
    """

    shape: Shape
    params: int = 0
    trainable: int | None = None

    @property
    def trainable_params(self) -> int:
        return self.params if self.trainable is None else self.trainable


class ShapeError(ValueError):
    """Raised by ``infer`` when a layer cannot accept its input shapes (a user error)."""


@dataclass(frozen=True)
class Shapes:
    """What the graph inferred around one layer, handed to its builder: the input shapes and the
    output shape, all without the batch axis (``None``: unknown size)."""

    inputs: tuple[Shape, ...]
    output: Shape


@dataclass(frozen=True)
class KerasForm:
    """A Keras type name accepted for an entry, with Keras parameter names and defaults.

    ``rename`` maps Keras parameter names to the entry's (Lasagne) names; ``defaults`` are
    the Keras defaults that differ from Lasagne's, in Lasagne names (``Dense`` is linear).
    ``convert`` maps a Keras parameter to a function returning the Lasagne fields it sets
    (``momentum: 0.99`` -> ``{alpha: 0.01}``). ``use_bias: false`` -> ``b: null`` is built in.
    """

    rename: dict[str, str] = field(default_factory=dict)
    convert: dict[str, Callable[[Any], dict[str, Any]]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerEntry:
    name: str
    family: str
    schema: type[BaseModel]
    infer: Callable[[Any, list[Shape]], Inferred]
    build: Callable[[Any, str, Shapes], Callable[[list[Any]], Any]]
    aliases: tuple[str, ...] = ()
    variants: dict[str, str] = field(default_factory=dict)
    keras: dict[str, KerasForm] = field(default_factory=dict)
    fixed: dict[str, dict[str, Any]] = field(default_factory=dict)
    positional: tuple[str, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    summary: str = ""

    @property
    def type_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, *self.variants, *self.keras, *self.fixed)

    def plain_name(self, type_name: str) -> str:
        """The type name a spec writes for ``type_name``: a backend variant becomes the name it
        stands for (``MaxPool2DDNNLayer`` -> ``MaxPool2DLayer``), an alias the canonical name."""
        type_name = self.variants.get(type_name, type_name)
        return self.name if type_name in self.aliases else type_name


REGISTRY: dict[str, LayerEntry] = {}
"""Canonical name -> entry."""

_BY_TYPE: dict[str, LayerEntry] = {}
"""Every accepted type name (canonical, alias, Keras) -> entry."""


def register(
    name: str,
    *,
    schema: type[BaseModel],
    infer: Callable[[Any, list[Shape]], Inferred],
    build: Callable[[Any, str, Shapes], Callable[[list[Any]], Any]],
    positional: Iterable[str] = (),
    aliases: Iterable[str] = (),
    variants: dict[str, str] | None = None,
    keras: dict[str, KerasForm] | None = None,
    fixed: dict[str, dict[str, Any]] | None = None,
    min_inputs: int = 1,
    max_inputs: int | None = 1,
) -> LayerEntry:
    """Add a layer type; its family is the module that defines ``schema``.

    ``positional``: Lasagne's positional parameters after ``incoming``, in order (for nolearn
    scripts; Lasagne's names, which the converter maps). ``aliases``: other names for the same
    layer. ``variants``: backend variants (cuDNN, cuda-convnet) -> the type name they stand for
    (``Conv2DDNNLayer`` -> ``Conv2DLayer``). ``fixed`` maps extra type names to parameters they pin
    (``MaxPool2DLayer`` is ``Pool2DLayer`` with ``mode: max``)."""
    entry = LayerEntry(
        name=name,
        family=schema.__module__.rpartition(".")[2],
        schema=schema,
        infer=infer,
        build=build,
        aliases=tuple(aliases),
        variants=dict(variants or {}),
        keras=dict(keras or {}),
        fixed=dict(fixed or {}),
        positional=tuple(positional),
        min_inputs=min_inputs,
        max_inputs=max_inputs,
        summary=(schema.__doc__ or "").strip().split("\n")[0],
    )
    targets = {name, *entry.aliases, *entry.fixed}
    stray = {v: t for v, t in entry.variants.items() if t not in targets}
    if stray:
        raise ValueError(f"{name}: variants {stray} must stand for one of {sorted(targets)}")
    for type_name in entry.type_names:
        if type_name in _BY_TYPE:
            raise ValueError(f"layer type {type_name!r} registered twice")
        _BY_TYPE[type_name] = entry
    REGISTRY[name] = entry
    return entry


def lookup(type_name: str) -> LayerEntry | None:
    _ensure_loaded()
    return _BY_TYPE.get(type_name)


def all_type_names() -> list[str]:
    _ensure_loaded()
    return list(_BY_TYPE)


def entries() -> list[LayerEntry]:
    """Every entry, grouped by family in the order of ``catalogue.FAMILIES`` (families outside
    it last), then in registration order."""
    _ensure_loaded()
    from .catalogue import FAMILIES

    rank = {module.__name__.rpartition(".")[2]: i for i, module in enumerate(FAMILIES)}
    return sorted(REGISTRY.values(), key=lambda e: rank.get(e.family, len(rank)))


_loaded = False


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from . import catalogue  # noqa: F401  (registers every family)
