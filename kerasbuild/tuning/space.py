"""Spec placeholders <-> Keras Tuner ``HyperParameters``.

Each ``{hp: ...}`` placeholder of a spec (see :mod:`kerasbuild.spec.placeholders`) becomes one
Keras Tuner hyper-parameter with the same name (``layers.fc1.num_units``):

====================  ==========================================================
``hp: int``           ``hp.Int(name, min, max, step, sampling, default)``
``hp: float``         ``hp.Float(name, min, max, step, sampling, default)``
``hp: choice``        ``hp.Choice(name, values, default)``
``hp: bool``          ``hp.Boolean(name, default)``
``when: {hp, values}``  declared inside ``hp.conditional_scope(parent, values)`` (and inside
                      the parent's own scopes, so conditions nest)
====================  ==========================================================

Keras Tuner choices hold numbers, strings or booleans of one type. Integer and float values
mixed become floats; any other mixture (``null``, lists such as ``[3, 3]``) is searched over
its JSON text (``"[3, 3]"``) and decoded back, so every YAML value can be a choice.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from ..spec.loader import LoadedSpec
from ..spec.placeholders import Placeholder
from ..spec.source import Source


def _choice_labels(values: list[Any]) -> tuple[list[Any], dict[Any, Any] | None]:
    """Values Keras Tuner accepts for ``values`` and, when encoded, the label -> value map."""
    kinds = {type(v) for v in values}
    if kinds in ({str}, {bool}, {int}, {float}):
        return list(values), None
    if kinds == {int, float}:
        return [float(v) for v in values], None
    labels = [json.dumps(v, sort_keys=True) for v in values]
    return labels, dict(zip(labels, values, strict=True))


@dataclass(frozen=True)
class SearchSpace:
    """The hyper-parameters of one spec, in an order where every parent precedes its children."""

    placeholders: tuple[Placeholder, ...]
    source: Source

    @classmethod
    def from_loaded(cls, loaded: LoadedSpec) -> SearchSpace:
        """The space of ``loaded.placeholders``; problems are located in ``loaded.source``."""
        found = loaded.placeholders
        by_name = {p.name: p for p in found}
        ordered: list[Placeholder] = []

        def visit(p: Placeholder, chain: tuple[str, ...]) -> None:
            if p in ordered:
                return
            if p.name in chain:
                raise loaded.source.error(
                    f"placeholder conditions form a cycle: {' -> '.join(chain + (p.name,))}",
                    p.path + ("when", "hp"),
                )
            if p.param.when is not None:
                visit(by_name[p.param.when.hp], chain + (p.name,))
            ordered.append(p)

        for p in found:
            visit(p, ())
        return cls(tuple(ordered), loaded.source)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.placeholders]

    def _scopes(self, p: Placeholder) -> list[tuple[str, list[Any]]]:
        """``(parent name, parent values)`` from the outermost condition to ``p``'s own."""
        by_name = {q.name: q for q in self.placeholders}
        chain: list[tuple[str, list[Any]]] = []
        while p.param.when is not None:
            parent = by_name[p.param.when.hp]
            values = p.param.when.values
            if parent.param.hp == "choice":
                labels, encoded = _choice_labels(parent.param.values or [])
                if encoded is not None:
                    values = [json.dumps(v, sort_keys=True) for v in values]
                elif labels and isinstance(labels[0], float):
                    values = [float(v) for v in values]
            chain.append((parent.name, values))
            p = parent
        return chain[::-1]

    def declare(self, hp: Any) -> dict[str, Any]:
        """Register every placeholder in ``hp`` (a ``keras_tuner.HyperParameters``) and return
        the active values by placeholder name, decoded (the ``hp_values`` of ``load_spec``)."""
        active: dict[str, Any] = {}
        for p in self.placeholders:
            with ExitStack() as stack:
                for parent, values in self._scopes(p):
                    stack.enter_context(hp.conditional_scope(parent, values))
                if _register(hp, p) is not None:  # None: the placeholder's condition is not met
                    active[p.name] = hp.values[p.name]
        return self.values(active)

    def values(self, tuner_values: dict[str, Any]) -> dict[str, Any]:
        """Keras Tuner's ``hp.values`` -> placeholder values (``tuner/*`` entries dropped,
        encoded choices decoded, integers as ``int``)."""
        out: dict[str, Any] = {}
        for p in self.placeholders:
            if p.name not in tuner_values:
                continue
            value = tuner_values[p.name]
            if p.param.hp == "choice":
                _, encoded = _choice_labels(p.param.values or [])
                value = encoded[value] if encoded is not None else value
            elif p.param.hp == "int":
                value = int(value)
            elif p.param.hp == "float":
                value = float(value)
            out[p.name] = value
        return out

    def check_finite(self) -> None:
        """Grid search enumerates the space: every float placeholder needs a ``step``."""
        problems = [
            self.source.problem(
                f"grid search needs a finite space: give placeholder '{p.name}' a step "
                "(or make it hp: choice)",
                p.path,
            )
            for p in self.placeholders
            if p.param.hp == "float" and p.param.step is None
        ]
        if problems:
            raise SpecError(problems)


def _register(hp: Any, p: Placeholder) -> Any:
    param = p.param
    if param.hp == "int":
        step = int(param.step) if param.step is not None else None
        if step is None and param.sampling == "linear":
            step = 1
        return hp.Int(
            p.name,
            int(param.min),
            int(param.max),
            step=step,
            sampling=param.sampling,
            default=param.default_value(),
        )
    if param.hp == "float":
        return hp.Float(
            p.name,
            float(param.min),
            float(param.max),
            step=param.step,
            sampling=param.sampling,
            default=float(param.default_value()),
        )
    if param.hp == "choice":
        labels, encoded = _choice_labels(param.values or [])
        default = param.default_value()
        if encoded is not None:
            default = json.dumps(default, sort_keys=True)
        elif isinstance(labels[0], float):
            default = float(default)
        return hp.Choice(p.name, labels, default=default)
    return hp.Boolean(p.name, default=bool(param.default_value()))
