"""Human-readable summaries of runs for the command line."""

from __future__ import annotations


def describe_result(result) -> str:
    """One line: status, epochs, best epoch, test metrics, run directory."""
    m = result.test_metrics
    parts = [
        f"{result.status} after {result.epochs_completed} epochs (best epoch {result.best_epoch})"
    ]
    if "test_accuracy" in m:
        parts.append(f"test accuracy {m['test_accuracy']:.4f} on {m['n_test']} held-out examples")
    if "test_rmse" in m:
        parts.append(f"test rmse {m['test_rmse']:.5f} on {m['n_test']} held-out examples")
    parts.append(f"{result.duration_s:.1f}s; run directory {result.run_dir}")
    return "; ".join(parts)
