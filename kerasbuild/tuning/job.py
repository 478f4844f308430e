"""Search-job files: what to search, with which tuner, for how long, and where to keep it.

A job is a small YAML (or JSON) file, usually in ``tuning/``::

    spec: nielsen_dropout_space.yaml      # the spec with {hp: ...} placeholders
    tuner: hyperband                      # random | bayesian | hyperband | grid
    objective: val_accuracy               # a Keras metric name from fit's logs
    direction: max                        # default: max for *acc*/*auc*, else min
    hyperband: {max_epochs: 9, factor: 3}
    early_stopping: {patience: 3}         # per trial, on the objective
    overrides: {data.limit: 2000}         # dotted-path spec changes used only while searching
    directory: ../runs/tuning             # trials live in DIRECTORY/PROJECT_NAME
    seed: 0

Relative paths (``spec``, ``directory``) are relative to the job file. Problems are reported
like spec problems: ``FILE:LINE:COL: field.path: message``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import SpecError, did_you_mean
from ..schema.job import EarlyStoppingSettings, HyperbandSettings, Job
from ..schema.train import metric_names
from ..spec.loader import LoadedSpec, load_spec
from ..spec.source import Source, parse_file


@dataclass
class LoadedJob:
    """A validated job with its paths resolved and its spec loaded (placeholders intact)."""

    job: Job
    path: Path
    spec_path: Path
    search_spec: LoadedSpec

    @property
    def directory(self) -> Path:
        return _resolve(self.job.directory, self.path.parent)

    @property
    def project_name(self) -> str:
        return self.job.project_name or self.path.stem

    @property
    def project_dir(self) -> Path:
        """Where Keras Tuner keeps the trials, and where results are written."""
        return self.directory / self.project_name


def _resolve(path: str, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else Path(os.path.normpath(base / p))


def load_job(path: str | Path) -> LoadedJob:
    """Read and validate a job file and the spec it names; every problem is located."""
    source = parse_file(path)
    if not isinstance(source.data, dict):
        raise source.error("a search job must be a mapping with at least 'spec'")
    try:
        job = Job.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError(
            [
                source.problem(_message(err, source), tuple(err["loc"]))
                for err in exc.errors(include_url=False)
            ]
        ) from None
    job_path = Path(path)
    spec_path = _resolve(job.spec, job_path.parent)
    if not spec_path.is_file():
        raise source.error(f"spec file not found: {spec_path}", ("spec",))
    search_spec = load_spec(spec_path, overrides=job.overrides or None)
    if not search_spec.placeholders:
        raise source.error(
            f"the spec {spec_path} has no {{hp: ...}} placeholders, so there is nothing to search",
            ("spec",),
        )
    _check_objective(job, search_spec, source)
    if job.early_stopping is not None and job.early_stopping.patience >= _most_epochs(
        job, search_spec
    ):
        raise source.error(
            f"patience {job.early_stopping.patience} is not below the most epochs a "
            f"trial trains ({_most_epochs(job, search_spec)}), so it would never stop "
            "a trial",
            ("early_stopping", "patience"),
        )
    return LoadedJob(job, job_path, spec_path, search_spec)


def _check_objective(job: Job, spec: LoadedSpec, source: Source) -> None:
    """The objective (and the early-stopping monitor) must be a value fit logs: the loss or a
    metric of ``train.metrics``, on the training or (``val_``) the validation split."""
    logged = ["loss", *metric_names(spec.spec.train)]
    names = logged + [f"val_{n}" for n in logged]
    checks = [("objective",), ("early_stopping", "monitor")]
    for path in checks:
        value = (
            job.objective
            if path == ("objective",)
            else (job.early_stopping and job.early_stopping.monitor)
        )
        if value is not None and value not in names:
            raise source.error(
                f"'{value}' is not logged by this spec's training{did_you_mean(value, names)}; "
                f"expected one of: {', '.join(names)}",
                path,
            )


def _most_epochs(job: Job, spec: LoadedSpec) -> int:
    if job.tuner == "hyperband":
        return (job.hyperband or HyperbandSettings()).max_epochs
    tuned = next((p for p in spec.placeholders if p.name == "train.max_epochs"), None)
    return int(tuned.param.max) if tuned is not None else spec.spec.train.max_epochs


def _message(err: dict[str, Any], source: Source) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        field = str(loc[-1])
        allowed = list(_fields_at(loc))
        return (
            f"unknown field '{field}'{did_you_mean(field, allowed)}; expected one of: "
            f"{', '.join(allowed)}"
        )
    if err["type"] == "missing":
        return f"missing required field '{loc[-1]}'"
    if (
        err["type"].startswith("literal_error")
        or "input" in err
        and not isinstance(err["input"], dict)
    ):
        return f"{msg}, got {err.get('input')!r}"
    return msg


def _fields_at(loc: tuple) -> dict[str, Any]:
    sections = {"hyperband": HyperbandSettings, "early_stopping": EarlyStoppingSettings}
    if len(loc) == 2 and loc[0] in sections:
        return sections[loc[0]].model_fields
    return Job.model_fields
