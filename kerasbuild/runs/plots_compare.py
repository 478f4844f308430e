"""Several runs in one figure, the way Nielsen's ladder is read: validation loss (log scale)
and validation accuracy (or rmse) per epoch, one line per run. An ensemble directory has no
history of its own; its members' curves stand for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from .plots import epoch_axes, positive, pyplot


def run_history(run_dir: Path) -> list[dict[str, Any]]:
    """``history.json`` of a run, or a clear error naming what the directory is."""
    from ..fit.files import read_json
    from .rundir import read_run

    info = read_run(run_dir)
    path = run_dir / "history.json"
    if path.is_file():
        return read_json(path)
    if info.get("ensemble"):
        raise KerasbuildError(
            f"{run_dir} is an ensemble (no training history of its own); plot its "
            f"members: kerasbuild plot {' '.join(info['ensemble']['members'])}"
        )
    raise KerasbuildError(f"{path} does not exist; the run has no completed epoch")


def ensemble_members(run_dir: Path) -> list[Path]:
    """The member run directories of an ensemble directory ([] for an ordinary run)."""
    from .rundir import read_run

    return [Path(m) for m in (read_run(run_dir).get("ensemble") or {}).get("members", [])]


def run_label(run_dir: Path) -> str:
    """How a run is named in a legend: its directory name."""
    return Path(run_dir).resolve().name


def _score_key(histories: list[list[dict[str, Any]]]) -> str | None:
    for key in ("val_accuracy", "val_rmse", "accuracy", "rmse"):
        if any(key in row for history in histories for row in history):
            return key
    return None


def compare_figure(runs: list[Path], title: str = "") -> Any:
    """Validation loss (log) and the validation score of every run against the epoch; 1100x420
    pixels. Runs without a validation split show their training loss (dashed)."""
    histories = [run_history(Path(r)) for r in runs]
    score = _score_key(histories)
    plt = pyplot()
    fig, axes = plt.subplots(
        1, 2 if score else 1, figsize=(11 if score else 6, 4.2), dpi=100, squeeze=False
    )
    loss_ax = axes[0, 0]
    for run, history in zip(runs, histories, strict=True):
        epochs = [row["epoch"] for row in history]
        key, style = (
            ("val_loss", "-") if any("val_loss" in row for row in history) else ("loss", "--")
        )
        (line,) = loss_ax.plot(
            epochs,
            positive([row.get(key) for row in history]),
            style,
            linewidth=2,
            label=run_label(run) + ("" if key == "val_loss" else " (train)"),
        )
        if score:
            axes[0, 1].plot(
                epochs,
                [row.get(score) for row in history],
                style,
                linewidth=2,
                color=line.get_color(),
                label=run_label(run),
            )
    epoch_axes(loss_ax, "validation loss", log=True)
    loss_ax.legend(fontsize=8)
    if score:
        epoch_axes(axes[0, 1], score.replace("val_", "validation "), log=False)
        axes[0, 1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
