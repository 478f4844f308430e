"""``train.unfreeze_at``: thaw frozen layers after N epochs, in the same ``fit``.

The optimiser is built once over every variable that will ever train (:func:`variables_to_build`),
so thawing only widens the set a step updates: its state (step count, moments, loss scale)
carries over unchanged, the checkpoint layout is the same before and after, and a resumed run
needs only to thaw the same layers again before its first epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from ..schema.train import UnfreezeAt
from ..spec.freeze import owner


def layers_of(model: keras.Model, names: set[str], spec_names: set[str]) -> list[Any]:
    """The Keras layers (helper layers included) of the spec layers ``names``."""
    return [layer for layer in model.layers if owner(layer.name, spec_names) in names]


def variables_to_build(model: keras.Model, thawed: list[Any]) -> list[Any]:
    """The trainable variables of ``model`` with the ``thawed`` layers trainable too, in
    ``model.trainable_variables`` order (what the optimiser is built over)."""
    was = [layer.trainable for layer in thawed]
    for layer in thawed:
        layer.trainable = True
    variables = list(model.trainable_variables)
    for layer, trainable in zip(thawed, was, strict=True):
        layer.trainable = trainable
    return variables


class Unfreeze(keras.callbacks.Callback):
    """Before 0-based epoch ``config.epoch`` (and before any later first epoch, on resume)
    makes ``thawed`` trainable and retraces the train step; at exactly that epoch it sets the
    learning rate (a resumed run restores it with the optimiser). ``note`` gets a one-line
    message."""

    def __init__(self, config: UnfreezeAt, thawed: list[Any], note: Callable[[str], None]) -> None:
        super().__init__()
        self.config = config
        self.thawed = thawed
        self.note = note

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if epoch < self.config.epoch or all(layer.trainable for layer in self.thawed):
            return
        for layer in self.thawed:
            layer.trainable = True
        rate = self.config.learning_rate
        if epoch == self.config.epoch and rate is not None:
            self.model.optimizer.learning_rate = rate  # wrappers pass it to the inner optimiser
        self.model.make_train_function(force=True)
        said = (
            f", learning rate {rate:g}" if rate is not None and epoch == self.config.epoch else ""
        )
        self.note(f"epoch {epoch + 1}: unfroze {len(self.thawed)} layer(s){said}")
