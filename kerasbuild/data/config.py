"""The ``data:`` section of a spec (pure pydantic, no TensorFlow)."""

from __future__ import annotations

from pydantic import Field

from ..layers.base import StrictModel


class DataConfig(StrictModel):
    """Where the examples come from and how they are split."""

    source: str = Field(description="builtin:mnist_5k, builtin:digits, tfds:NAME[/CONFIG], a .npz "
                        "file, an image folder or a facial-keypoints CSV.")
    test_size: int | float | None = None
    seed: int = 0
