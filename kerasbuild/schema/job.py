"""The search-job file as pydantic models (see :mod:`kerasbuild.tuning.job` for the layout
and for loading one with its spec)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import StrictModel
from .metrics import higher_is_better

TUNERS = ("random", "bayesian", "hyperband", "grid")


class HyperbandSettings(StrictModel):
    """Hyperband's budget: the most epochs one model trains and the reduction ``factor``."""

    max_epochs: int = Field(9, ge=1, description="Most epochs one model is trained for.")
    factor: int = Field(3, ge=2, description="Reduction factor between successive rounds.")
    iterations: int = Field(1, ge=1, description="How many times the whole Hyperband runs.")


class EarlyStoppingSettings(StrictModel):
    """Stop a trial when ``monitor`` (default: the objective) has not improved for ``patience``
    epochs."""

    patience: int = Field(ge=1)
    monitor: str | None = None
    min_delta: float = Field(0.0, ge=0)


class Job(StrictModel):
    """A search job (see the module docstring for the file layout)."""

    spec: str = Field(description="Spec file with placeholders, relative to the job file.")
    tuner: Literal[TUNERS] = "random"  # type: ignore[valid-type]
    objective: str = "val_loss"
    direction: Literal["min", "max"] | None = None
    max_trials: int | None = Field(
        None,
        ge=1,
        description="Trials to run (random, bayesian, grid; "
        "default 10 for random and bayesian, the whole grid for grid).",
    )
    executions_per_trial: int = Field(1, ge=1)
    hyperband: HyperbandSettings | None = None
    early_stopping: EarlyStoppingSettings | None = None
    max_retries_per_trial: int = Field(0, ge=0)
    max_consecutive_failed_trials: int = Field(3, ge=1)
    trial_timeout: float = Field(
        120.0,
        gt=0,
        description="Distributed search: seconds without a "
        "heartbeat from a worker after which its trial is ended (retried "
        "or failed).",
    )
    directory: str = Field(
        "runs/tuning", description="Parent of the project directory, relative to the job file."
    )
    project_name: str | None = Field(
        None, description="Default: the job file's name without suffix."
    )
    seed: int | None = Field(0, ge=0, description="Seed of the oracle's sampling (None: random).")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="Dotted spec paths and values "
        "used while searching (e.g. data.limit: 2000); best_spec.yaml "
        "is written without them.",
    )

    @field_validator("objective")
    @classmethod
    def _metric_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", value):
            raise ValueError(
                f"objective must be a metric name such as val_loss or val_accuracy, got {value!r}"
            )
        return value

    @field_validator("project_name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError(
                f"project_name must be a plain file name (letters, digits, _ . -), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _tuner_settings(self) -> Job:
        if self.tuner == "hyperband" and self.max_trials is not None:
            raise ValueError(
                "hyperband sets its own number of trials from hyperband.max_epochs and "
                "hyperband.factor; remove max_trials"
            )
        if self.tuner != "hyperband" and self.hyperband is not None:
            raise ValueError(
                f"the hyperband section only applies to tuner: hyperband, not tuner: {self.tuner}"
            )
        return self

    @property
    def objective_direction(self) -> str:
        """``min`` or ``max``: as given, else ``max`` for accuracy-like metrics."""
        if self.direction is not None:
            return self.direction
        return "max" if higher_is_better(self.objective) else "min"
