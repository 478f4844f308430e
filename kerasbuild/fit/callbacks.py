"""Training callbacks: schedules, best-model tracking with early stopping, NaN guard, history.

Each callback that carries state across epochs has ``get_state() -> dict`` and
``set_state(dict)`` (JSON-safe) so :mod:`kerasbuild.fit.backup` can resume a killed run
with the schedules and early stopping exactly where they were.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..safe_load import load_keras_model
from ..schema.metrics import higher_is_better
from ..schema.train import EarlyStoppingHook, PlateauSchedule
from .files import save_inference_model, write_history
from .optimizers import base_optimizer


def is_better(monitor: str, value: float, best: float | None, min_delta: float) -> bool:
    """Accuracy-like monitors improve upwards, losses downwards (:func:`higher_is_better`)."""
    if best is None or not math.isfinite(best):
        return math.isfinite(value)
    if higher_is_better(monitor):
        return value > best + min_delta
    return value < best - min_delta


def _assign_variable(optimizer: keras.optimizers.Optimizer, variable: str, value: float) -> None:
    opt = base_optimizer(optimizer)
    if variable == "learning_rate":
        opt.learning_rate = float(value)
    else:
        opt.momentum_variable.assign(float(value))


def current_values(optimizer: keras.optimizers.Optimizer) -> dict[str, float]:
    """The learning rate (and momentum, for :class:`~kerasbuild.fit.optimizers.SGD`) now."""
    opt = base_optimizer(optimizer)
    values = {"learning_rate": _float(opt.learning_rate)}
    if hasattr(opt, "momentum_variable"):
        values["momentum"] = _float(opt.momentum_variable)
    return values


def _float(value) -> float:
    return float(value.numpy()) if hasattr(value, "numpy") else float(value)


class Schedules(keras.callbacks.Callback):
    """Sets the learning rate / momentum variables before each epoch from epoch functions, and
    applies reduce-on-plateau after each epoch. Adds ``learning_rate`` and ``momentum`` (the
    values the epoch used) to the epoch logs."""

    def __init__(
        self, functions: dict[str, Callable[[int], float]], plateau: PlateauSchedule | None = None
    ):
        super().__init__()
        self.functions = functions
        self.plateau = plateau
        self.state = {"best": None, "wait": 0, "cooldown": 0}
        self._used: dict[str, float] = {}

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        for variable, fn in self.functions.items():
            _assign_variable(self.model.optimizer, variable, fn(epoch))
        self._used = current_values(self.model.optimizer)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is not None:
            logs.update(self._used)
        p = self.plateau
        if p is None or logs is None or p.monitor not in logs:
            return
        value = float(logs[p.monitor])
        state = self.state
        if state["cooldown"] > 0:
            state["cooldown"] -= 1
            state["wait"] = 0
        if is_better(p.monitor, value, state["best"], p.min_delta):
            state["best"], state["wait"] = value, 0
        elif state["cooldown"] == 0:
            state["wait"] += 1
            if state["wait"] >= p.patience:
                lr = current_values(self.model.optimizer)["learning_rate"]
                _assign_variable(
                    self.model.optimizer, "learning_rate", max(p.minimum, lr * p.factor)
                )
                state["cooldown"], state["wait"] = p.cooldown, 0

    def get_state(self) -> dict[str, Any]:
        return {
            **self.state,
            "learning_rate": current_values(self.model.optimizer)["learning_rate"],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.state = {k: state[k] for k in ("best", "wait", "cooldown")}
        if self.plateau is not None:
            _assign_variable(self.model.optimizer, "learning_rate", state["learning_rate"])


class NanGuard(keras.callbacks.Callback):
    """Stops training as soon as the training loss is NaN or infinite; ``diverged_epoch``
    (0-based) says where. Put it before the callbacks that save, which then skip that epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.diverged_epoch: int | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._check(logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._check(logs)

    def _check(self, logs) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_epoch = self._epoch
            self.model.stop_training = True


class BestModel(keras.callbacks.Callback):
    """Keeps the best epoch by ``monitor``: writes ``path`` (``model_best.keras``, atomically; None:
    weights kept in memory only) whenever it improves by more than ``min_delta``; with ``patience``
    it stops training after that many epochs without improvement (nolearn's EarlyStopping) and, with
    ``restore_best_weights``, puts the best weights back when training ends."""

    def __init__(
        self,
        path: Path | None,
        monitor: str,
        nan_guard: NanGuard,
        early_stopping: EarlyStoppingHook | None = None,
    ) -> None:
        super().__init__()
        self.path = path
        self.monitor = monitor
        self.nan_guard = nan_guard
        self.early_stopping = early_stopping
        self.min_delta = early_stopping.min_delta if early_stopping else 0.0
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.nan_guard.diverged_epoch is not None or logs is None:
            return
        if self.monitor not in logs:
            raise KeyError(
                f"early stopping monitors '{self.monitor}' but the epoch logs have only: "
                f"{', '.join(sorted(logs))}"
            )
        value = float(logs[self.monitor])
        if is_better(self.monitor, value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_weights = self.model.get_weights()
            if self.path is not None:
                save_inference_model(self.model, self.path)
        else:
            self.wait += 1
            es = self.early_stopping
            if es is not None and self.wait >= es.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        es = self.early_stopping
        if (
            es is not None
            and es.restore_best_weights
            and self.best_weights is not None
            and self.nan_guard.diverged_epoch is None
        ):
            self.model.set_weights(self.best_weights)

    def get_state(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        if self.best_epoch is not None and self.path is not None and self.path.exists():
            best = load_keras_model(self.path, compile=False)
            self.best_weights = best.get_weights()


class HistoryWriter(keras.callbacks.Callback):
    """Collects one row per epoch (``epoch`` 1-based, the logs, ``duration`` in seconds) and
    rewrites ``history.csv`` / ``history.json`` after every epoch."""

    def __init__(self, run_dir: Path, nan_guard: NanGuard) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.nan_guard = nan_guard
        self.rows: list[dict[str, Any]] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        row = {
            "epoch": epoch + 1,
            **{k: float(v) for k, v in (logs or {}).items()},
            "duration": round(time.perf_counter() - self._start, 3),
        }
        self.rows.append(row)
        write_history(self.run_dir, self.rows)

    def get_state(self) -> dict[str, Any]:
        return {"rows": self.rows}

    def set_state(self, state: dict[str, Any]) -> None:
        self.rows = list(state["rows"])
        write_history(self.run_dir, self.rows)


class Checkpoint(keras.callbacks.Callback):
    """Writes the resume point after every good epoch: ``backup/epoch_NNNN.weights.h5`` (model
    and optimizer variables) then ``backup/state.json`` (epoch, the stateful callbacks' state,
    the layers' random-seed states), each atomically, then drops older weight files. Unlike
    Keras' ``BackupAndRestore`` it never deletes the backup when training ends, so the last good
    checkpoint survives a NaN stop or a crash."""

    def __init__(self, backup_dir: Path, stateful: dict[str, Any], nan_guard: NanGuard) -> None:
        super().__init__()
        self.backup_dir = backup_dir
        self.stateful = stateful
        self.nan_guard = nan_guard

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.nan_guard.diverged_epoch is not None:
            return
        from .backup import write_checkpoint

        write_checkpoint(
            self.backup_dir,
            self.model,
            epoch + 1,
            self.stateful,
            stop_training=bool(self.model.stop_training),
        )


class RunStatus(keras.callbacks.Callback):
    """Calls ``update(epochs_completed)`` after every epoch (keeps ``run.json`` current)."""

    def __init__(self, update: Callable[[int], None], nan_guard: NanGuard) -> None:
        super().__init__()
        self.update = update
        self.nan_guard = nan_guard

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.nan_guard.diverged_epoch is None:
            self.update(epoch + 1)
