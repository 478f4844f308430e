"""Input preprocessing recorded by training (``run.json`` ``preprocessing``), baked into exports.

``{"scale": 0.00392156862745098}`` means the model was trained on ``x * scale``; optional
``offset`` is added after scaling, and ``mean``/``std`` standardise after that:
``((x * scale + offset) - mean) / std``. Applied in float32 to every floating-point input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError, did_you_mean

KEYS = ("scale", "offset", "mean", "std")


@dataclass(frozen=True)
class Preprocessing:
    """``((x * scale + offset) - mean) / std`` elementwise; the default is the identity."""

    scale: float = 1.0
    offset: float = 0.0
    mean: float = 0.0
    std: float = 1.0

    @property
    def is_identity(self) -> bool:
        return self == Preprocessing()

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in KEYS if getattr(self, k) != getattr(Preprocessing(), k)}

    def apply(self, x: Any) -> Any:
        """Apply to a float32 tensor or NumPy array (any shape, NHWC for images)."""
        if self.is_identity:
            return x
        return ((x * self.scale + self.offset) - self.mean) / self.std

    @property
    def raw_range(self) -> tuple[float, float]:
        """The raw input range that maps onto [0, 1] after scaling: (0, 255) for scale 1/255."""
        return (-self.offset / self.scale, (1.0 - self.offset) / self.scale)


def parse_preprocessing(value: Any, where: Path | str) -> Preprocessing:
    """Validate ``run.json``'s ``preprocessing`` (``None`` or ``{}``: nothing to do)."""
    if value is None:
        return Preprocessing()
    if not isinstance(value, dict):
        raise KerasbuildError(f"{where}: preprocessing must be a mapping like "
                              f"{{\"scale\": 0.00392156862745098}}, got {value!r}")
    for key, number in value.items():
        if key not in KEYS:
            raise KerasbuildError(f"{where}: preprocessing.{key}: unknown step{did_you_mean(key, KEYS)}; "
                                  f"expected some of: {', '.join(KEYS)}")
        if not isinstance(number, (int, float)) or isinstance(number, bool):
            raise KerasbuildError(f"{where}: preprocessing.{key}: expected a number, got {number!r}")
    if value.get("scale", 1.0) == 0 or value.get("std", 1.0) == 0:
        raise KerasbuildError(f"{where}: preprocessing scale and std must be non-zero, got {value!r}")
    return Preprocessing(**{k: float(v) for k, v in value.items()})
