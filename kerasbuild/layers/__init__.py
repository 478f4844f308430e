"""Layer registry and the layer families registered in it."""

from .registry import (
    REGISTRY,
    Inferred,
    KerasForm,
    LayerEntry,
    ShapeError,
    Shapes,
    all_type_names,
    entries,
    lookup,
)

__all__ = [
    "REGISTRY",
    "Inferred",
    "KerasForm",
    "LayerEntry",
    "ShapeError",
    "Shapes",
    "all_type_names",
    "entries",
    "lookup",
]
