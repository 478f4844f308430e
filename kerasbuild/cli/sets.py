"""``--set key=value`` options: dotted spec paths with values read as YAML scalars
(``train.max_epochs=5`` -> 5, ``train.update=adam`` -> "adam", ``data.resize=[32, 32]``)."""

from __future__ import annotations

from typing import Any

from ..errors import KerasbuildError, SpecError
from ..spec.source import parse_text


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["train.max_epochs=5"]`` -> ``{"train.max_epochs": 5}``; KerasbuildError when malformed."""
    overrides: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise KerasbuildError(
                f"--set {item!r}: expected KEY=VALUE with a dotted key, "
                "e.g. --set train.max_epochs=5"
            )
        try:  # read like a spec file: plain data only, no tags, no alias bombs, finite numbers
            overrides[key] = parse_text(text, "--set").data if text.strip() else ""
        except SpecError as exc:
            raise KerasbuildError(
                f"--set {item!r}: the value is not valid ({exc.problems[0].message})"
            ) from None
    return overrides
