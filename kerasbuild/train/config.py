"""The ``train:`` section of a spec (pure pydantic, no TensorFlow).

Field names follow nolearn's ``NeuralNet`` keywords so a pasted nolearn net keeps its meaning:
``update`` (the optimiser; nolearn's default ``nesterov_momentum``), ``update_learning_rate``,
``update_momentum``, ``max_epochs``, ``regression``, ``on_epoch_finished`` hooks
(``AdjustVariable``, ``EarlyStopping``), ``batch_iterator_train`` (``BatchIterator`` or
``FlipBatchIterator``), ``objective_l2``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ..layers.base import StrictModel

OPTIMIZERS = ("sgd", "momentum", "nesterov_momentum", "adam", "adamw", "nadam", "adamax",
              "rmsprop", "adagrad", "adadelta", "lion", "radam")


class AdjustVariable(StrictModel):
    """nolearn's ``AdjustVariable(name, start, stop)``: moves ``update_learning_rate`` or
    ``update_momentum`` linearly from ``start`` to ``stop`` over ``max_epochs`` epochs."""

    type: Literal["AdjustVariable"]
    name: Literal["update_learning_rate", "update_momentum"]
    start: float
    stop: float


class EarlyStoppingHook(StrictModel):
    """nolearn-style ``EarlyStopping(patience)``: stop when ``monitor`` has not improved by
    ``min_delta`` for ``patience`` epochs and restore the best weights."""

    type: Literal["EarlyStopping"]
    patience: int = Field(100, ge=1)
    monitor: str = "val_loss"
    min_delta: float = Field(0.0, ge=0)


Hook = Annotated[AdjustVariable | EarlyStoppingHook, Field(discriminator="type")]


class BatchIterator(StrictModel):
    """``BatchIterator(batch_size)`` or ``FlipBatchIterator(batch_size, flip_indices)``: the
    latter flips half of each batch horizontally and swaps the keypoint pairs in
    ``flip_indices`` (pairs of target columns, x and y interleaved as in the Kaggle data)."""

    type: Literal["BatchIterator", "FlipBatchIterator"] = "BatchIterator"
    batch_size: int = Field(128, ge=1)
    flip_indices: list[tuple[int, int]] | None = None


class TrainConfig(StrictModel):
    """Training settings; every field has a nolearn-compatible default."""

    update: Literal[OPTIMIZERS] = "nesterov_momentum"  # type: ignore[valid-type]
    update_learning_rate: float = Field(0.01, gt=0)
    update_momentum: float = Field(0.9, ge=0, lt=1)
    update_nesterov: bool | None = None
    update_params: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(128, ge=1)
    max_epochs: int = Field(100, ge=1)
    regression: bool = False
    objective_l1: float = Field(0.0, ge=0)
    objective_l2: float = Field(0.0, ge=0)
    on_epoch_finished: list[Hook] = Field(default_factory=list)
    batch_iterator_train: BatchIterator | None = None
    eval_size: float | None = Field(None, ge=0, lt=1)
    verbose: int = 1
    seed: int | None = None
