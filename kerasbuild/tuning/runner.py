"""Build the Keras Tuner tuner of a job and run a search in this process.

The oracle is Keras Tuner's own (random, Bayesian, Hyperband, grid) with one change: the
search stops, instead of raising, when ``max_consecutive_failed_trials`` trials in a row have
failed (:class:`StopAfterFailures`), so the trials are saved, the results are written and the
report says why it stopped. Trials live in ``DIRECTORY/PROJECT_NAME`` and the project is never
overwritten: running the same job again resumes it, and finished trials are not repeated.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner
from keras_tuner import oracles

from ..errors import KerasbuildError
from ..fit.files import atomic_write_text
from ..spec.format import canonical_yaml
from .hypermodel import SpecHyperModel
from .job import HyperbandSettings, LoadedJob
from .results import SearchResults, collect_results, failure_streak, write_results

IDLE_PAUSE_S = 0.5
"""Pause of a worker between two requests for a trial that the chief answered IDLE."""


class StopAfterFailures:
    """Oracle mixin: answer STOPPED once the last ``failure_limit`` ended trials all failed."""

    failure_limit: int = 3

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if (
            failure_streak({i: t.status for i, t in self.trials.items()}, self.end_order)
            >= self.failure_limit
        ):
            return {"status": "STOPPED"}
        return super().populate_space(trial_id)


_ORACLES = {
    "random": oracles.RandomSearchOracle,
    "bayesian": oracles.BayesianOptimizationOracle,
    "hyperband": oracles.HyperbandOracle,
    "grid": oracles.GridSearchOracle,
}


def make_oracle(loaded_job: LoadedJob) -> keras_tuner.Oracle:
    """The job's oracle (Keras Tuner's, with :class:`StopAfterFailures`)."""
    job = loaded_job.job
    base = _ORACLES[job.tuner]
    cls = type(f"Stopping{base.__name__}", (StopAfterFailures, base), {})
    kwargs: dict[str, Any] = dict(
        objective=keras_tuner.Objective(job.objective, job.objective_direction),
        # Keras Tuner reads seed 0 as "no seed" (``seed or random.randint(...)``): shift by one.
        seed=None if job.seed is None else job.seed + 1,
        max_retries_per_trial=job.max_retries_per_trial,
        # Keras Tuner raises out of end_trial at its own limit; StopAfterFailures stops instead.
        max_consecutive_failed_trials=None,
    )
    if job.tuner == "hyperband":
        hb = job.hyperband or HyperbandSettings()
        kwargs.update(
            max_epochs=hb.max_epochs, factor=hb.factor, hyperband_iterations=hb.iterations
        )
    else:
        kwargs["max_trials"] = job.max_trials or (None if job.tuner == "grid" else 10)
    oracle = cls(**kwargs)
    oracle.failure_limit = job.max_consecutive_failed_trials
    return oracle


class SpecTuner(keras_tuner.Tuner):
    """Keras Tuner's ``Tuner`` over a :class:`SpecHyperModel`; records which worker ran each trial,
    and for how long, in ``trial_ID/worker.json`` and, as a distributed worker, keeps the chief
    informed that it is alive (:mod:`kerasbuild.tuning.distributed`)."""

    def __init__(
        self, oracle: keras_tuner.Oracle, hypermodel: SpecHyperModel, **kwargs: Any
    ) -> None:
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.heartbeat_interval: float | None = None
        self._heartbeat = None
        self._waiting = False
        self._started = time.monotonic()
        self._epochs = 0

    def pre_create_trial(self) -> None:
        # Keras Tuner asks again at once after an IDLE answer (a distributed Hyperband round,
        # or the chief holding workers while others finish): pause between such requests.
        if self._waiting:
            time.sleep(IDLE_PAUSE_S)
        self._waiting = True

    def _populate_initial_space(self) -> None:
        # The spec declares its whole space, conditional placeholders included, so unlike
        # Keras Tuner's default this builds no model: a space whose models fail to build
        # fails in its trials (retried, counted, reported), and the chief stays light.
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        # Keras Tuner's hook for one execution of a trial (build, then fit): here the spec
        # trains through prepare_fit, as ``kerasbuild train`` trains it. Hyperband continues a
        # trial of its earlier round from that trial's best checkpoint (weights and optimiser
        # state, loaded into a model whose optimiser is built).
        hp = trial.hyperparameters
        previous = hp.values.get("tuner/trial_id")
        weights = self._get_checkpoint_fname(previous) if previous else None
        return self.hypermodel.train_trial(hp, weights=weights, **kwargs)

    def on_trial_begin(self, trial: Any) -> None:
        self._waiting = False
        self._started = time.monotonic()
        self._epochs = 0
        super().on_trial_begin(trial)
        print(f"{self.tuner_id}: trial {trial.trial_id} started (pid {os.getpid()})", flush=True)
        if self.heartbeat_interval is not None:
            from .distributed import Heartbeat

            self._heartbeat = Heartbeat(self.oracle, trial.trial_id, self.heartbeat_interval)

    def on_epoch_end(
        self, trial: Any, model: keras.Model, epoch: int, logs: dict | None = None
    ) -> None:
        # ``epoch`` counts from 0 and includes the epochs a Hyperband trial took over from its
        # parent's checkpoint, so the model has trained ``epoch + 1`` epochs in all.
        self._epochs = max(self._epochs, epoch + 1)
        super().on_epoch_end(trial, model, epoch, logs)

    def on_trial_end(self, trial: Any) -> None:
        record = {
            "tuner_id": self.tuner_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "status": trial.status,
            "seconds": round(time.monotonic() - self._started, 3),
            "epochs": self._epochs,
        }
        atomic_write_text(
            Path(self.get_trial_dir(trial.trial_id), "worker.json"), json.dumps(record) + "\n"
        )
        try:
            super().on_trial_end(trial)
        finally:
            if self._heartbeat is not None:
                self._heartbeat.stop()
                self._heartbeat = None


class SpecHyperband(SpecTuner, keras_tuner.Hyperband):
    """:class:`SpecTuner` with Hyperband's epochs and checkpoint hand-over between rounds."""


SEARCH_SPEC = "search_spec.yaml"
"""The searched spec (placeholders and search-time overrides in), kept in the project so a
later run can tell whether it resumes the same search."""


def check_same_search(loaded_job: LoadedJob) -> None:
    """Record the searched spec in a new project; refuse to resume a project that searched a
    different one (KerasbuildError, exit 2)."""
    text = canonical_yaml(loaded_job.search_spec)
    project = loaded_job.project_dir
    saved = project / SEARCH_SPEC
    if not saved.is_file():
        project.mkdir(parents=True, exist_ok=True)
        atomic_write_text(saved, text)
    elif saved.read_text(encoding="utf-8") != text:
        raise KerasbuildError(
            f"{project} holds a search of a different spec (see {saved}); resuming it "
            f"with {loaded_job.spec_path} would mix trials of two spaces. Use another "
            "project_name, or delete that directory to start afresh",
            exit_code=2,
        )


def build_tuner(loaded_job: LoadedJob, *, verbose: int = 0) -> SpecTuner:
    """The job's tuner; reloads the project when it exists (never overwrites it)."""
    check_same_search(loaded_job)
    job = loaded_job.job
    oracle = make_oracle(loaded_job)
    hypermodel = SpecHyperModel(loaded_job, verbose=verbose)
    if job.tuner == "grid":
        hypermodel.space.check_finite()
    cls = SpecHyperband if job.tuner == "hyperband" else SpecTuner
    loaded_job.directory.mkdir(parents=True, exist_ok=True)
    tuner = cls(
        oracle,
        hypermodel,
        directory=str(loaded_job.directory),
        project_name=loaded_job.project_name,
        overwrite=False,
        executions_per_trial=job.executions_per_trial,
    )
    oracle_file = loaded_job.project_dir / "oracle.json"
    if (
        isinstance(tuner.oracle, keras_tuner.Oracle)
        and not tuner.oracle.trials
        and oracle_file.is_file()
    ):
        # Started before under another tuner id (e.g. distributed): take the trials over.
        tuner.oracle.reload()
    return tuner


def tensorboard_callback(loaded_job: LoadedJob) -> keras.callbacks.TensorBoard:
    """TensorBoard logs under ``PROJECT/tensorboard``; Keras Tuner adds one HParams run per
    trial (``tensorboard --logdir PROJECT/tensorboard``, HPARAMS tab)."""
    return keras.callbacks.TensorBoard(
        log_dir=str(loaded_job.project_dir / "tensorboard"), write_graph=False, profile_batch=0
    )


def search(tuner: SpecTuner, loaded_job: LoadedJob) -> None:
    """Run trials until the oracle says stop (this process is the whole search, or a worker)."""
    tuner.search(callbacks=[tensorboard_callback(loaded_job)])


def run_search(loaded_job: LoadedJob, *, verbose: int = 0) -> SearchResults:
    """Run (or resume) the job's search here; write ``results.json`` and ``best_spec.yaml``."""
    tuner = build_tuner(loaded_job, verbose=verbose)
    search(tuner, loaded_job)
    results = collect_results(loaded_job)
    write_results(loaded_job, results)
    return results
