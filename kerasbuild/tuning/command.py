"""``kerasbuild tune``: pick the mode (local, chief, worker, launcher, dry run) and report."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..errors import KerasbuildError
from .job import LoadedJob, load_job
from .results import BEST_SPEC, RESULTS, SearchResults, render_results


def render_space(loaded_job: LoadedJob, console: Console) -> None:
    """The search space of a job: one row per placeholder."""
    job = loaded_job.job
    table = Table(
        title=f"{loaded_job.path}: {job.tuner} search of {loaded_job.spec_path.name}, "
        f"objective {job.objective} ({job.objective_direction})"
    )
    for column in ("hyper-parameter", "kind", "range / values", "sampling", "default", "when"):
        table.add_column(column, overflow="fold")
    for p in loaded_job.search_spec.placeholders:
        param = p.param
        span = (
            str(param.values)
            if param.hp == "choice"
            else (
                "true / false"
                if param.hp == "bool"
                else f"[{param.min:g}, {param.max:g}]"
                + (f" step {param.step:g}" if param.step else "")
            )
        )
        when = f"{param.when.hp} in {param.when.values}" if param.when else ""
        table.add_row(
            p.name,
            param.hp,
            span,
            param.sampling if param.hp in ("int", "float") else "",
            str(param.default_value()),
            when,
        )
    console.print(table)
    console.print(f"trials are kept in {loaded_job.project_dir}", highlight=False)


def tune(
    job_path: Path,
    console: Console,
    *,
    chief: bool = False,
    port: int | None = None,
    host: str = "0.0.0.0",
    until_stopped: bool = False,
    worker: str | None = None,
    oracle: str | None = None,
    workers: int | None = None,
    dry_run: bool = False,
    verbose: int = 0,
) -> SearchResults | None:
    """Run ``kerasbuild tune`` in the mode its options select; returns the results (None for
    a worker or a dry run). Raises KerasbuildError (exit 2) for options that do not fit."""
    modes = [
        name
        for name, on in (
            ("--chief", chief),
            ("--worker", worker is not None),
            ("--workers", workers is not None),
            ("--dry-run", dry_run),
        )
        if on
    ]
    if len(modes) > 1:
        raise KerasbuildError(f"choose one of {', '.join(modes)}", exit_code=2)
    if chief and port is None:
        raise KerasbuildError("--chief needs --port (the port workers connect to)", exit_code=2)
    if (worker is None) != (oracle is None):
        raise KerasbuildError("--worker ID and --oracle HOST:PORT go together", exit_code=2)
    if worker is not None:
        from .distributed import check_worker_id, parse_address

        check_worker_id(worker)
        parse_address(str(oracle))
    loaded_job = load_job(job_path)
    if dry_run:
        render_space(loaded_job, console)
        return None
    if not chief:  # the chief trains nothing, so it needs no data
        from ..data.paths import check_data

        check_data(loaded_job.search_spec)
    if worker is not None:
        from .distributed import run_worker

        run_worker(loaded_job, worker, str(oracle))
        console.print(f"{worker}: the chief has no more trials; done", highlight=False)
        return None
    if chief:
        from .distributed import run_chief

        with _search_lock(loaded_job, "kerasbuild tune --chief"):
            results = run_chief(loaded_job, int(port or 0), host=host, until_stopped=until_stopped)
    elif workers is not None:
        from .distributed import launch

        launched = launch(loaded_job, workers)
        results = launched.results
        console.print(
            f"workers exited with {launched.worker_exit_codes}; logs in {launched.log_dir}",
            highlight=False,
        )
    else:
        from .runner import run_search

        with _search_lock(loaded_job, "kerasbuild tune"):
            results = run_search(loaded_job, verbose=verbose)
    report(loaded_job, results, console)
    return results


@contextlib.contextmanager
def _search_lock(loaded_job: LoadedJob, command: str) -> Iterator[None]:
    """Hold the project directory (one search process writes it; workers of a distributed
    search get their trials from the chief, which holds it) and turn a failed write into one
    line saying that finished trials are kept."""
    from ..fit.write_errors import as_write_error
    from ..runs.lock import hold

    with hold(loaded_job.project_dir, command):
        try:
            yield
        except Exception as exc:
            failure = as_write_error(exc, loaded_job.project_dir)
            if failure is None:
                raise
            raise failure.with_advice(
                "finished trials are kept; free space and run the same job again to "
                "resume the search"
            ) from None


def report(loaded_job: LoadedJob, results: SearchResults, console: Console) -> None:
    """Print the ranked trials and where the results are; raise when no trial completed."""
    render_results(results, console)
    project = loaded_job.project_dir
    console.print(f"results: {project / RESULTS}", highlight=False)
    if results.best is None:
        raise KerasbuildError(
            "no trial completed, so there is no best spec"
            + (f": {results.stopped_reason}" if results.stopped_reason else "")
        )
    console.print(
        f"best spec: {project / BEST_SPEC} (train it with: kerasbuild train {project / BEST_SPEC})",
        highlight=False,
    )
