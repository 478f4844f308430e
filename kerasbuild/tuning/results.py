"""Search results, read from the trial files Keras Tuner keeps in the project directory.

Works the same for a local search, a distributed chief and a launcher whose chief has been
stopped: everything comes from ``PROJECT/trial_*/trial.json`` (plus ``worker.json``, written
by :class:`~kerasbuild.tuning.runner.SpecTuner`) and ``PROJECT/oracle.json``. Writes:

- ``PROJECT/results.json``: every trial ranked (values, score, status, worker), the best one
  and why the search stopped;
- ``PROJECT/best_spec.yaml``: the searched spec with every placeholder replaced by the best
  trial's value, a plain spec that ``kerasbuild train`` runs as is.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..data.paths import spec_dir
from ..data.sources import resolve_path
from ..fit.files import atomic_write_json, atomic_write_text
from ..spec.format import canonical_yaml
from ..spec.loader import load_spec, load_text
from ..spec.placeholders import substitute
from .job import LoadedJob
from .space import SearchSpace

RESULTS = "results.json"
BEST_SPEC = "best_spec.yaml"


@dataclass
class TrialRow:
    """One trial: placeholder ``values``, ``score`` (the objective at its best epoch, None
    unless COMPLETED), the ``epochs`` its model trained (with Hyperband, counting those taken
    over from the trial it continues; fewer than planned after early stopping), the
    ``worker`` (tuner id) that ran it last, how many ``seconds`` that took and, for a failed
    trial, the last line of its error."""

    trial_id: str
    status: str
    score: float | None
    values: dict[str, Any]
    epochs: int | None = None
    worker: str | None = None
    seconds: float | None = None
    error: str | None = None


@dataclass
class SearchResults:
    objective: str
    direction: str
    trials: list[TrialRow] = field(default_factory=list)
    stopped_reason: str | None = None

    @property
    def completed(self) -> list[TrialRow]:
        return [t for t in self.trials if t.status == "COMPLETED"]

    @property
    def best(self) -> TrialRow | None:
        return self.completed[0] if self.completed else None

    def to_json(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "direction": self.direction,
            "best": asdict(self.best) if self.best else None,
            "stopped_reason": self.stopped_reason,
            "counts": {
                s: sum(t.status == s for t in self.trials)
                for s in sorted({t.status for t in self.trials})
            },
            "trials": [asdict(t) for t in self.trials],
        }


def failure_streak(statuses: dict[str, str], end_order: list[str]) -> int:
    """How many trials in a row, counting back from the last one to end, failed."""
    streak = 0
    for trial_id in reversed(end_order):
        if statuses.get(trial_id) != "FAILED":
            break
        streak += 1
    return streak


def collect_results(loaded_job: LoadedJob) -> SearchResults:
    """Read every trial of the job's project, ranked: completed trials best first, then the rest."""
    job = loaded_job.job
    space = SearchSpace.from_loaded(loaded_job.search_spec)
    project = loaded_job.project_dir
    rows = []
    for file in sorted(project.glob("trial_*/trial.json")):
        state = json.loads(file.read_text(encoding="utf-8"))
        values = state["hyperparameters"]["values"]
        worker_file = file.parent / "worker.json"
        ran = json.loads(worker_file.read_text()) if worker_file.is_file() else {}
        score = state.get("score")
        completed = state["status"] == "COMPLETED" and score is not None and math.isfinite(score)
        message = (state.get("message") or "").strip()
        rows.append(
            TrialRow(
                state["trial_id"],
                state["status"],
                float(score) if completed else None,
                space.values(values),
                ran.get("epochs"),
                ran.get("tuner_id"),
                ran.get("seconds"),
                message.splitlines()[-1] if message and not completed else None,
            )
        )
    sign = -1.0 if job.objective_direction == "max" else 1.0
    rows.sort(
        key=lambda r: (r.score is None, sign * r.score if r.score is not None else 0.0, r.trial_id)
    )
    results = SearchResults(job.objective, job.objective_direction, rows)
    oracle_file = project / "oracle.json"
    if oracle_file.is_file():
        end_order = json.loads(oracle_file.read_text(encoding="utf-8")).get("end_order", [])
        streak = failure_streak({r.trial_id: r.status for r in rows}, end_order)
        if streak >= job.max_consecutive_failed_trials:
            last = next((r.error for r in rows if r.trial_id == end_order[-1]), None)
            results.stopped_reason = (
                f"the last {streak} trials failed (max_consecutive_failed_trials: "
                f"{job.max_consecutive_failed_trials}); last error: {last}"
            )
    return results


def best_spec_yaml(loaded_job: LoadedJob, values: dict[str, Any]) -> str:
    """The job's spec (without the job's search-time overrides) with every placeholder replaced
    by ``values`` and a relative data path made absolute; checked to load without placeholders."""
    loaded = load_spec(loaded_job.spec_path, hp_values=values)
    document = substitute(copy.deepcopy(loaded.document), values)
    data = loaded.spec.data
    if data is not None and data.is_path:
        document["data"]["source"] = str(resolve_path(data.source, spec_dir(loaded)))
    text = canonical_yaml(dataclasses.replace(loaded, document=document))
    check = load_text(text)
    if check.placeholders:
        raise AssertionError(
            f"best spec still has placeholders: {[p.name for p in check.placeholders]}"
        )
    return text


def write_results(loaded_job: LoadedJob, results: SearchResults) -> None:
    """``results.json`` and (when a trial completed) ``best_spec.yaml``, written atomically."""
    project = loaded_job.project_dir
    project.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        project / RESULTS,
        {
            "job": str(loaded_job.path),
            "spec": str(loaded_job.spec_path),
            "tuner": loaded_job.job.tuner,
            **results.to_json(),
        },
    )
    best = results.best
    if best is not None:
        header = (
            f"# Best trial {best.trial_id} of {loaded_job.path.name} ({results.objective} "
            f"{best.score:.6g}), from {loaded_job.spec_path.name} with every placeholder "
            "replaced.\n"
        )
        atomic_write_text(project / BEST_SPEC, header + best_spec_yaml(loaded_job, best.values))


Column = tuple[str, list[str]]
"""A table column: header and one cell per shown trial."""


def render_results(results: SearchResults, console: Console, limit: int = 20) -> None:
    """The ranked table of trials: rank, trial, status, score, epochs trained, worker and one
    column per hyper-parameter (named without the ``layers.`` / ``train.`` prefix; the full
    names are in ``results.json``). Columns are never wrapped: those that do not fit the
    console's width continue in further tables, each keyed by the rank ``#``."""
    shown = results.trials[:limit]
    rank: Column = ("#", [str(i) for i in range(1, len(shown) + 1)])
    fixed = [
        rank,
        ("trial", [t.trial_id for t in shown]),
        ("status", [t.status for t in shown]),
        (results.objective, ["" if t.score is None else f"{t.score:.4f}" for t in shown]),
        ("epochs", ["" if t.epochs is None else str(t.epochs) for t in shown]),
        ("worker", [t.worker or "" for t in shown]),
    ]
    names = list(dict.fromkeys(name for t in shown for name in t.values))
    hyper = [
        (
            name.removeprefix("layers.").removeprefix("train."),
            [_short(t.values[name]) if name in t.values else "" for t in shown],
        )
        for name in names
    ]
    groups = [fixed]
    unbounded = console.options.update_width(sys.maxsize)
    for column in hyper:
        if (
            len(groups[-1]) > 1
            and console.measure(_table(groups[-1] + [column]), options=unbounded).maximum
            > console.width
        ):
            groups.append([rank])
        groups[-1].append(column)
    for i, group in enumerate(groups):
        title = f"trials ranked by {results.objective} ({results.direction})" if i == 0 else None
        console.print(_table(group, title))
    if len(results.trials) > limit:
        console.print(f"... {len(results.trials) - limit} more trials in results.json")
    if results.stopped_reason:
        console.print(
            f"search stopped early: {results.stopped_reason}", markup=False, highlight=False
        )


def _table(columns: list[Column], title: str | None = None) -> Table:
    table = Table(title=title)
    for header, _ in columns:
        table.add_column(Text(header), no_wrap=True)
    for row in zip(*(cells for _, cells in columns), strict=True):
        table.add_row(*map(Text, row))
    return table


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
