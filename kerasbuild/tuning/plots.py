"""Pictures of a search, from its ``results.json`` (:mod:`kerasbuild.tuning.results`):

- the objective against each hyper-parameter (one panel each; choices on a category axis);
- a parallel-coordinates plot of all completed trials (each axis scaled to its range,
  lines coloured by the objective);
- the best-so-far curve: the best objective among the first k trials to finish.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from ..runs.plots import integer_ticks, pyplot
from .results import RESULTS


def is_search_dir(path: Path) -> bool:
    """Whether ``path`` is a search project directory (it holds ``results.json``)."""
    return (Path(path) / RESULTS).is_file()


def read_results(project: Path) -> dict[str, Any]:
    """``results.json`` of a search project, with at least one completed trial."""
    path = Path(project) / RESULTS
    if not path.is_file():
        raise KerasbuildError(
            f"{project} is not a search directory (no {RESULTS}); run 'kerasbuild tune JOB'"
        )
    results = json.loads(path.read_text(encoding="utf-8"))
    if not any(t["status"] == "COMPLETED" for t in results["trials"]):
        raise KerasbuildError(f"{path}: no trial has completed yet; nothing to plot")
    return results


def completed_trials(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Completed trials in the order the oracle created them (by trial id)."""
    done = [t for t in results["trials"] if t["status"] == "COMPLETED" and t["score"] is not None]
    return sorted(done, key=lambda t: t["trial_id"])


def best_so_far(scores: list[float], direction: str) -> list[float]:
    """Running best of ``scores`` (``min`` or ``max``)."""
    pick = np.minimum if direction == "min" else np.maximum
    return list(pick.accumulate(np.asarray(scores, dtype=float)))


def axis_values(values: list[Any]) -> tuple[np.ndarray, list[str] | None]:
    """Numbers to plot for one hyper-parameter's values: numbers as they are, anything else
    as category indices (returned with the category names)."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float), None
    categories = sorted({str(v) for v in values})
    return np.asarray([categories.index(str(v)) for v in values], dtype=float), categories


def _log_scale(values: np.ndarray) -> bool:
    return bool(values.size and values.min() > 0 and values.max() / values.min() >= 20)


def objective_figure(results: dict[str, Any]) -> Any:
    """One scatter panel per hyper-parameter: its value (x) against the objective (y)."""
    trials = completed_trials(results)
    names = list(trials[0]["values"])
    cols = min(3, max(1, len(names)))
    rows = math.ceil(max(1, len(names)) / cols)
    plt = pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), dpi=100, squeeze=False)
    scores = [t["score"] for t in trials]
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names, strict=False):
        x, categories = axis_values([t["values"].get(name) for t in trials])
        ax.scatter(x, scores, s=18)
        if categories:
            ax.set_xticks(range(len(categories)), categories)
        elif _log_scale(x):
            ax.set_xscale("log")
        ax.set_xlabel(name, fontsize=8)
        ax.set_ylabel(results["objective"], fontsize=8)
    fig.suptitle(
        f"{results['objective']} ({results['direction']}) against each hyper-parameter, "
        f"{len(trials)} completed trials",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def parallel_figure(results: dict[str, Any]) -> Any:
    """Parallel coordinates: one axis per hyper-parameter plus the objective, each scaled to
    [0, 1] over the trials; one line per completed trial, coloured by the objective."""
    trials = completed_trials(results)
    names = list(trials[0]["values"]) + [results["objective"]]
    columns, ticks = [], []
    for name in names:
        raw = (
            [t["score"] for t in trials]
            if name == results["objective"]
            else [t["values"].get(name) for t in trials]
        )
        values, categories = axis_values(raw)
        low, high = float(values.min()), float(values.max())
        columns.append((values - low) / (high - low) if high > low else np.full_like(values, 0.5))
        ticks.append(", ".join(categories) if categories else f"{low:.4g} .. {high:.4g}")
    data = np.stack(columns, axis=1)
    scores = data[:, -1]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.8 * len(names)), 4.2), dpi=100)
    cmap = plt.get_cmap("viridis_r" if results["direction"] == "min" else "viridis")
    for row, score in zip(data, scores, strict=True):
        ax.plot(range(len(names)), row, color=cmap(score), alpha=0.8, linewidth=1.5)
    ax.set_xticks(
        range(len(names)), [f"{n}\n{t}" for n, t in zip(names, ticks, strict=True)], fontsize=7
    )
    ax.set_yticks([0, 1], ["low", "high"])
    for k in range(len(names)):
        ax.axvline(k, color="black", linewidth=0.8)
    ax.set_title(
        f"{len(trials)} completed trials; colour: {results['objective']} (bright = better)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def best_so_far_figure(results: dict[str, Any]) -> Any:
    """Each completed trial's objective (dots) and the best so far (line) against the trial
    number; integer ticks."""
    trials = completed_trials(results)
    scores = [t["score"] for t in trials]
    order = range(1, len(scores) + 1)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.scatter(order, scores, s=18, label="trial", color="grey")
    ax.step(
        order,
        best_so_far(scores, results["direction"]),
        where="post",
        linewidth=2,
        label="best so far",
    )
    integer_ticks(ax)
    ax.set_xlabel("trial (in order of trial id)")
    ax.set_ylabel(results["objective"])
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


SEARCH_FIGURES = {
    "search_objective.png": ("objective against each hyper-parameter", objective_figure),
    "search_parallel.png": ("parallel coordinates of all completed trials", parallel_figure),
    "search_best_so_far.png": ("best objective so far, by trial", best_so_far_figure),
}
"""File name -> (caption, figure function) of a search's pictures."""
