"""The run's preprocessing (``run.json`` ``preprocessing``, written by
:func:`kerasbuild.data.splits.load_arrays`), baked into exports.

Inputs, in training's order: ``resize`` ``[height, width]`` (bilinear) -> ``* scale`` ->
``(x - mean) / std`` (per channel). Regression outputs are mapped back to the target's units:
``y * target_scale + target_center``. ``expand_shifts`` (training-time augmentation) does not
apply at serving time. Any other key is refused: an export must not silently serve a model
with different preprocessing from the one it was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError, did_you_mean

INPUT_KEYS = ("resize", "scale", "mean", "std")
TARGET_KEYS = ("target_center", "target_scale")
TRAINING_ONLY = ("expand_shifts",)
KEYS = INPUT_KEYS + TARGET_KEYS + TRAINING_ONLY


@dataclass(frozen=True)
class Preprocessing:
    """The serving-time part of a run's preprocessing; ``Preprocessing()`` does nothing.

    ``resize``: ``(height, width)`` in pixels or ``None``. ``scale``: factor applied to raw
    values (1/255 for 8-bit pixels). ``mean``/``std``: per channel (length C) or length 1.
    ``target_center``/``target_scale``: regression outputs ``y * scale + center``.
    """

    resize: tuple[int, int] | None = None
    scale: float | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    target_center: float | tuple[float, ...] | None = None
    target_scale: float | tuple[float, ...] | None = None

    @property
    def is_identity(self) -> bool:
        return self == Preprocessing()

    def as_dict(self) -> dict[str, Any]:
        """The run.json form (``{"scale": 0.0039...}``), only the steps that apply."""
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in vars(self).items()
            if v is not None
        }

    def apply_tf(self, x: Any) -> Any:
        """Raw float32 tensor ``(N, H, W, C)`` (or ``(N, ...)``) -> the model's input."""
        import tensorflow as tf

        if self.resize is not None and x.shape.rank == 4:
            x = tf.image.resize(x, self.resize, method="bilinear")
        if self.scale is not None:
            x = x * tf.constant(self.scale, tf.float32)
        if self.mean is not None:
            x = (x - tf.constant(self.mean, tf.float32)) / tf.constant(self.std, tf.float32)
        return x

    def restore_tf(self, y: Any) -> Any:
        """Regression output in training units -> the target's units."""
        import tensorflow as tf

        if self.target_scale is None:
            return y
        return y * tf.constant(self.target_scale, tf.float32) + tf.constant(
            self.target_center, tf.float32
        )

    @property
    def raw_range(self) -> tuple[float, float]:
        """A range of raw input values that covers the training data: ``[0, 1/scale]`` (0..255
        for 8-bit pixels), ``mean -+ 2 std`` for standardised inputs, else ``[0, 1]``."""
        if self.scale is not None:
            return (0.0, 1.0 / self.scale)
        if self.mean is not None and self.std is not None:
            return (min(self.mean) - 2 * max(self.std), max(self.mean) + 2 * max(self.std))
        return (0.0, 1.0)


def parse_preprocessing(value: Any, where: Path | str) -> Preprocessing:
    """Validate ``run.json``'s ``preprocessing`` (``None`` or ``{}``: nothing to do)."""
    if not value:
        return Preprocessing()
    if not isinstance(value, dict):
        raise KerasbuildError(
            f'{where}: preprocessing must be a mapping like {{"scale": 0.0039}}, got {value!r}'
        )
    for key in value:
        if key not in KEYS:
            raise KerasbuildError(
                f"{where}: preprocessing.{key}: unknown step{did_you_mean(key, KEYS)}; "
                f"the export knows: {', '.join(KEYS)}"
            )
    try:
        resize = tuple(int(v) for v in value["resize"]) if "resize" in value else None
        scale = float(value["scale"]) if "scale" in value else None
        mean = _floats(value.get("mean"))
        std = _floats(value.get("std"))
        center = _floats(value.get("target_center"), scalar=True)
        target_scale = _floats(value.get("target_scale"), scalar=True)
    except (TypeError, ValueError) as exc:
        raise KerasbuildError(
            f"{where}: preprocessing: expected numbers, got {value!r} ({exc})"
        ) from None
    if (mean is None) != (std is None) or (center is None) != (target_scale is None):
        raise KerasbuildError(
            f"{where}: preprocessing: mean/std and target_center/target_scale come in "
            f"pairs, got {sorted(value)}"
        )
    if resize is not None and len(resize) != 2:
        raise KerasbuildError(
            f"{where}: preprocessing.resize: expected [height, width], got {value['resize']!r}"
        )
    return Preprocessing(resize, scale, mean, std, center, target_scale)


def _floats(value: Any, scalar: bool = False) -> Any:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value)
    return float(value) if scalar else (float(value),)
