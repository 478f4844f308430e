"""The nolearn-style epoch table printed while training (``verbose: 1``)::

      epoch    train loss    valid loss    train/val    valid acc    dur
    -------  ------------  ------------  -----------  -----------  -----
          1       0.71094       0.34377      2.06812       0.9010  2.97s

The best train loss so far is shown in blue and the best valid loss / accuracy in green, as
nolearn did; a transient progress bar runs through the batches of each epoch on a terminal.
"""

from __future__ import annotations

import math
import time

import keras
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

_HEADER = ("epoch", "train loss", "valid loss", "train/val", "valid acc", "dur")
_WIDTHS = (7, 12, 12, 11, 11, 7)


class EpochTable(keras.callbacks.Callback):
    """Prints one row per epoch to ``console``; ``steps`` batches per epoch for the bar."""

    def __init__(self, console: Console, steps: int | None = None) -> None:
        super().__init__()
        self.console = console
        self.steps = steps
        self.best = {"loss": math.inf, "val_loss": math.inf, "val_acc": -math.inf}
        self._start = 0.0
        self._progress: Progress | None = None
        self._task = None
        self._header_done = False

    def on_train_begin(self, logs=None) -> None:
        if not self._header_done:
            self.console.print(
                "  ".join(h.rjust(w) for h, w in zip(_HEADER, _WIDTHS, strict=True)),
                highlight=False,
            )
            self.console.print("  ".join("-" * w for w in _WIDTHS), highlight=False)
            self._header_done = True

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._start = time.perf_counter()
        if self.console.is_terminal and self.steps:
            self._progress = Progress(
                TextColumn(f"epoch {epoch + 1}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("train", total=self.steps)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=batch + 1)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        logs = logs or {}
        self.console.print(
            self.row(epoch + 1, logs, time.perf_counter() - self._start), highlight=False
        )

    def row(self, epoch: int, logs: dict, duration: float) -> str:
        """One table row as rich markup; updates the running bests."""
        loss, val_loss = logs.get("loss"), logs.get("val_loss")
        acc = logs.get("val_accuracy", logs.get("val_acc", logs.get("val_pixel_accuracy")))
        cells = [str(epoch).rjust(_WIDTHS[0])]
        cells.append(self._cell(loss, "loss", "blue", 5, _WIDTHS[1], lower=True))
        cells.append(self._cell(val_loss, "val_loss", "green", 5, _WIDTHS[2], lower=True))
        ratio = loss / val_loss if loss is not None and val_loss else None
        cells.append((f"{ratio:.5f}" if ratio is not None else "-").rjust(_WIDTHS[3]))
        cells.append(self._cell(acc, "val_acc", "green", 4, _WIDTHS[4], lower=False))
        cells.append(f"{duration:.2f}s".rjust(_WIDTHS[5]))
        return "  ".join(cells)

    def _cell(self, value, key: str, colour: str, digits: int, width: int, *, lower: bool) -> str:
        if value is None:
            return "-".rjust(width)
        text = f"{value:.{digits}f}".rjust(width)
        improved = value < self.best[key] if lower else value > self.best[key]
        if improved:
            self.best[key] = value
            return f"[{colour}]{text}[/{colour}]"
        return text
