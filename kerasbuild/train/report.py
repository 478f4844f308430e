"""Human-readable summaries of runs for the command line, and ``kerasbuild plot``."""

from __future__ import annotations

from pathlib import Path

from ..errors import KerasbuildError


def describe_result(result) -> str:
    """One line: status, epochs, best epoch, test metrics, run directory."""
    m = result.test_metrics
    parts = [f"{result.status} after {result.epochs_completed} epochs (best epoch {result.best_epoch})"]
    if "test_accuracy" in m:
        parts.append(f"test accuracy {m['test_accuracy']:.4f} on {m['n_test']} held-out examples")
    if "test_rmse" in m:
        parts.append(f"test rmse {m['test_rmse']:.5f} on {m['n_test']} held-out examples")
    parts.append(f"{result.duration_s:.1f}s; run directory {result.run_dir}")
    return "; ".join(parts)


def plot_run(run_dir: Path | str, filters: str | None = None) -> list[Path]:
    """Redraw ``loss.png`` from history.json; with ``filters``, write ``filters_<layer>.png``."""
    from .files import read_json
    from .plots import plot_filters, plot_loss
    from .rundir import load_run_model, read_run

    run_dir = Path(run_dir)
    info = read_run(run_dir)
    history_path = run_dir / "history.json"
    if not history_path.is_file():
        raise KerasbuildError(f"{history_path} does not exist; the run has no completed epoch")
    written = [plot_loss(read_json(history_path), run_dir / "loss.png", info.get("name", ""))]
    if filters is not None:
        written.append(plot_filters(load_run_model(run_dir), run_dir / f"filters_{filters}.png", filters))
    return written
