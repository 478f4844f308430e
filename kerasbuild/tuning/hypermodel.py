"""The Keras Tuner ``HyperModel`` of a search job: hyper-parameter values -> spec -> trained model.

``build(hp)`` declares the spec's placeholders (:mod:`kerasbuild.tuning.space`), loads the spec
with the values Keras Tuner picked and builds it. :meth:`SpecHyperModel.train_trial` trains it
through :func:`kerasbuild.fit.prepare.prepare_fit`, exactly as ``kerasbuild train`` trains the
spec (seeds, op determinism, precision, distribution, schedules, NaN guard, early stopping), on
the spec's data with the trial's own ``train.batch_size``, ``train.max_epochs`` (unless
Hyperband sets the epochs) and augmentation, so those are tunable like any layer parameter.
"""

from __future__ import annotations

from pathlib import Path

import keras
import keras_tuner

from ..data.paths import resolve_auto_sizes
from ..data.splits import Splits, load_for_spec
from ..fit.prepare import PreparedFit, monitor_for, prepare_fit
from ..fit.session import effective_seed
from ..schema.data import augmentations_for
from ..schema.metrics import higher_is_better
from ..spec.loader import LoadedSpec, load_spec
from .job import LoadedJob
from .space import SearchSpace


class SpecHyperModel(keras_tuner.HyperModel):
    """Builds and trains the job's spec for one set of hyper-parameter values."""

    def __init__(self, loaded_job: LoadedJob, *, verbose: int = 0) -> None:
        super().__init__(name=loaded_job.search_spec.name)
        self.loaded_job = loaded_job
        self.space = SearchSpace.from_loaded(loaded_job.search_spec)
        self.verbose = verbose
        self._splits: dict[str, Splits] = {}

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> None:
        self.space.declare(hp)

    def resolve(self, hp: keras_tuner.HyperParameters) -> LoadedSpec:
        """The job's spec with this trial's values (and the job's search-time overrides), its
        ``auto`` sizes taken from the data."""
        job = self.loaded_job
        loaded = load_spec(
            job.spec_path, hp_values=self.space.declare(hp), overrides=job.job.overrides or None
        )
        return resolve_auto_sizes(loaded, self.splits(loaded)) if loaded.autos else loaded

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """The trial's compiled model, as :func:`prepare_fit` builds it (Keras Tuner's
        ``load_model``; a search trains through :meth:`train_trial`)."""
        loaded = self.resolve(hp)
        with self._prepare(loaded) as fit:
            return fit.model

    def splits(self, loaded: LoadedSpec) -> Splits:
        """The data of ``loaded``, loaded once per data section (augmentation aside)."""
        data = loaded.spec.data
        key = data.model_dump_json(exclude={"augment"}) if data is not None else ""
        if key not in self._splits:
            self._splits[key] = load_for_spec(loaded)
        return self._splits[key]

    def _prepare(self, loaded: LoadedSpec):
        splits = self.splits(loaded)
        if splits.size("valid") == 0:
            raise ValueError(
                "the search needs a validation split (the objective is measured on it); "
                "set data.valid_size or train.eval_size above 0"
            )
        splits.augment = augmentations_for(loaded.spec.data, loaded.spec.train)
        return prepare_fit(
            loaded,
            splits,
            seed=effective_seed(loaded.spec.train),
            monitor=monitor_for(loaded, True),
        )

    def train_trial(
        self,
        hp: keras_tuner.HyperParameters,
        *,
        callbacks: list[keras.callbacks.Callback],
        epochs: int | None = None,
        initial_epoch: int = 0,
        weights: Path | str | None = None,
    ) -> keras.callbacks.History:
        """Train the spec with this trial's values, validating on its validation split, with
        Keras Tuner's ``callbacks`` after the fit's own (and the job's early stopping).

        ``epochs``: Hyperband's budget for this trial, otherwise ``train.max_epochs``;
        ``weights``: a ``save_weights`` file to continue from (Hyperband's earlier round).
        Raises ``keras_tuner.errors.FailedTrialError`` (a failed trial: not retried, never
        best) when the training loss becomes NaN or infinite."""
        loaded = self.resolve(hp)
        keras.backend.clear_session()
        with self._prepare(loaded) as fit:
            if weights is not None:
                fit.load_weights(weights)
            history = fit.fit(
                epochs=epochs or loaded.spec.train.max_epochs,
                initial_epoch=initial_epoch,
                callbacks=[*callbacks, *self._early_stopping()],
                verbose=self.verbose,
            )
            _fail_if_diverged(fit)
        return history

    def _early_stopping(self) -> list[keras.callbacks.Callback]:
        """The job's ``early_stopping`` (per trial, on the objective by default)."""
        job = self.loaded_job.job
        early = job.early_stopping
        if early is None:
            return []
        monitor = early.monitor or job.objective
        return [
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                patience=early.patience,
                min_delta=early.min_delta,
                mode=_mode(job.objective_direction if monitor == job.objective else None, monitor),
            )
        ]


def _fail_if_diverged(fit: PreparedFit) -> None:
    if fit.diverged_epoch is not None:
        raise keras_tuner.errors.FailedTrialError(
            f"training diverged: the training loss became NaN in epoch {fit.diverged_epoch}; lower "
            "train.update_learning_rate or clip gradients (train.update_params: {clipnorm: 1.0})"
        )


def _mode(direction: str | None, monitor: str) -> str:
    if direction is not None:
        return direction
    return "max" if higher_is_better(monitor) else "min"
