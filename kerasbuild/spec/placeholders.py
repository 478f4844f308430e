"""Search-space placeholders: any scalar in a spec may be ``{hp: int|float|choice|bool, ...}``.

A placeholder is named by its spec path with list items that have a ``name`` replaced by that
name (``layers.fc1.num_units``, ``train.update_learning_rate``). Without a tuner each takes its
``default``; the tuning package turns them into Keras Tuner hyper-parameters and substitutes
the values it picks. ``when: {hp: NAME, values: [...]}`` makes a placeholder conditional on
another one (Keras Tuner's ``conditional_scope``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ..errors import FieldPath, Problem, SpecError
from ..schema.base import StrictModel
from .source import Source


class Condition(StrictModel):
    hp: str = Field(description="Name of the parent placeholder.")
    values: list[Any] = Field(
        min_length=1, description="Parent values for which this one is active."
    )


class HyperParam(StrictModel):
    """A tunable value: ``{hp: int, min: 32, max: 512, step: 32, default: 128}``,
    ``{hp: float, min: 1e-4, max: 1e-1, sampling: log}``, ``{hp: choice, values: [relu, tanh]}``,
    ``{hp: bool, default: true}``."""

    hp: Literal["int", "float", "choice", "bool"] = Field(description="Kind of value searched.")
    min: float | None = Field(None, description="Smallest value (int, float; required for them).")
    max: float | None = Field(
        None, description="Largest value, inclusive (int, float; required for them)."
    )
    step: float | None = Field(None, description="Spacing of the values tried (int, float), > 0.")
    sampling: Literal["linear", "log", "reverse_log"] = Field(
        "linear", description="How values between min and max are drawn; log needs min > 0."
    )
    values: list[Any] | None = Field(None, description="The candidates of hp: choice (non-empty).")
    default: Any = Field(
        None, description="Value used without a tuner (default: min, the first choice, or false)."
    )
    when: Condition | None = Field(
        None, description="Active only when another placeholder has one of the given values."
    )

    @model_validator(mode="after")
    def _consistent(self) -> HyperParam:
        if self.hp in ("int", "float"):
            if self.min is None or self.max is None:
                raise ValueError(f"hp: {self.hp} needs both min and max")
            if self.values is not None:
                raise ValueError(f"hp: {self.hp} takes min/max, not values (use hp: choice)")
            if not (math.isfinite(self.min) and math.isfinite(self.max)):
                raise ValueError("min and max must be finite")
            if self.min >= self.max:
                raise ValueError(f"min must be < max, got min={self.min:g}, max={self.max:g}")
            if self.hp == "int" and (self.min != int(self.min) or self.max != int(self.max)):
                raise ValueError("hp: int needs integer min and max")
            if self.step is not None:
                if self.step <= 0:
                    raise ValueError(f"step must be > 0, got {self.step:g}")
                if self.hp == "int" and self.step != int(self.step):
                    raise ValueError("hp: int needs an integer step")
            if self.sampling != "linear" and self.min <= 0:
                raise ValueError(f"sampling: {self.sampling} needs min > 0, got min={self.min:g}")
            if self.default is not None:
                if isinstance(self.default, bool) or not isinstance(self.default, (int, float)):
                    raise ValueError(f"default must be a number, got {self.default!r}")
                if not self.min <= self.default <= self.max:
                    raise ValueError(
                        f"default {self.default:g} is outside [{self.min:g}, {self.max:g}]"
                    )
                if self.hp == "int" and self.default != int(self.default):
                    raise ValueError(f"hp: int needs an integer default, got {self.default}")
        elif self.hp == "choice":
            if not self.values:
                raise ValueError("hp: choice needs a non-empty list of values")
            if self.default is not None and self.default not in self.values:
                raise ValueError(f"default {self.default!r} is not one of the values {self.values}")
        else:
            if self.default is not None and not isinstance(self.default, bool):
                raise ValueError(f"hp: bool needs a true/false default, got {self.default!r}")
        if self.hp in ("choice", "bool") and (self.min is not None or self.max is not None):
            raise ValueError(f"hp: {self.hp} takes no min/max")
        return self

    def default_value(self) -> Any:
        if self.default is not None:
            return int(self.default) if self.hp == "int" else self.default
        if self.hp == "int":
            return int(self.min)
        if self.hp == "float":
            return float(self.min)
        if self.hp == "choice":
            return self.values[0]
        return False


@dataclass(frozen=True)
class Placeholder:
    name: str
    path: FieldPath
    param: HyperParam


def is_placeholder(value: Any) -> bool:
    return isinstance(value, dict) and "hp" in value


def _segment(container: list, index: int) -> str:
    item = container[index]
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return item["name"]
    return str(index)


def find_placeholders(source: Source, data: Any | None = None) -> list[Placeholder]:
    """Every placeholder in ``data`` (default: ``source.data``), validated, in document order."""
    found: list[Placeholder] = []
    problems: list[Problem] = []

    def walk(node: Any, path: FieldPath, name: tuple[str, ...]) -> None:
        if is_placeholder(node):
            try:
                found.append(Placeholder(".".join(name), path, HyperParam.model_validate(node)))
            except ValidationError as exc:
                for err in exc.errors():
                    sub = tuple(err["loc"])
                    message = err["msg"].removeprefix("Value error, ")
                    problems.append(
                        source.problem(f"search-space placeholder: {message}", path + sub)
                    )
            return
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + (key,), name + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + (i,), name + (_segment(node, i),))

    walk(source.data if data is None else data, (), ())
    names: dict[str, Placeholder] = {}
    for ph in found:
        if ph.name in names:
            problems.append(
                source.problem(
                    f"two placeholders are both named {ph.name!r}; give the layers distinct names",
                    ph.path,
                )
            )
        names[ph.name] = ph
    for ph in found:
        if ph.param.when is not None and ph.param.when.hp not in names:
            problems.append(
                source.problem(
                    f"when.hp refers to {ph.param.when.hp!r}, which is not a placeholder in this "
                    "spec",
                    ph.path + ("when", "hp"),
                )
            )
    if problems:
        raise SpecError(problems)
    return found


def substitute(data: Any, values: dict[str, Any] | None = None) -> Any:
    """A copy of ``data`` with each placeholder replaced by ``values[name]`` or its default."""
    values = values or {}

    def walk(node: Any, name: tuple[str, ...]) -> Any:
        if is_placeholder(node):
            key = ".".join(name)
            if key in values:
                return values[key]
            return HyperParam.model_validate(node).default_value()
        if isinstance(node, dict):
            return {k: walk(v, name + (k,)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, name + (_segment(node, i),)) for i, v in enumerate(node)]
        return node

    return walk(data, ())
