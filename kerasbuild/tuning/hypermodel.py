"""The Keras Tuner ``HyperModel`` of a search job: hyper-parameter values -> spec -> model -> fit.

``build(hp)`` declares the spec's placeholders (:mod:`kerasbuild.tuning.space`), loads the spec
with the values Keras Tuner picked, builds and compiles it as ``kerasbuild train`` would.
``fit(hp, model, ...)`` trains it on the spec's data with the trial's own ``train.batch_size``,
``train.max_epochs`` (unless Hyperband sets the epochs), augmentation and schedules, so those
are tunable like any layer parameter.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner

from ..build import build_model
from ..data.splits import Splits, load_for_spec
from ..fit.callbacks import Schedules
from ..fit.objective import compile_model
from ..fit.schedules import epoch_schedules, plateau_schedule
from ..fit.session import default_steps_per_execution, effective_seed
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
        """The job's spec with this trial's values (and the job's search-time overrides)."""
        job = self.loaded_job
        return load_spec(job.spec_path, hp_values=self.space.declare(hp), overrides=job.job.overrides or None)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        loaded = self.resolve(hp)
        keras.utils.set_random_seed(effective_seed(loaded.spec.train))
        model = build_model(loaded)
        train = loaded.spec.train
        return compile_model(model, train, steps_per_execution=default_steps_per_execution(train))

    def splits(self, loaded: LoadedSpec) -> Splits:
        """The data of ``loaded``, loaded once per data section (augmentation aside)."""
        data = loaded.spec.data
        key = data.model_dump_json(exclude={"augment"}) if data is not None else ""
        if key not in self._splits:
            self._splits[key] = load_for_spec(loaded)
        return self._splits[key]

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any,
            callbacks: list[keras.callbacks.Callback] | None = None, epochs: int | None = None,
            initial_epoch: int = 0, **kwargs: Any) -> keras.callbacks.History:
        """Train ``model`` on the spec's training split, validating on its validation split.

        ``epochs``: Hyperband's budget for this trial; otherwise ``train.max_epochs``.
        """
        loaded = self.resolve(hp)
        train = loaded.spec.train
        splits = self.splits(loaded)
        if splits.size("valid") == 0:
            raise ValueError("the search needs a validation split (the objective is measured on it); "
                             "set data.valid_size or train.eval_size above 0")
        splits.augment = augmentations_for(loaded.spec.data, train)
        train_ds = splits.dataset("train", train.effective_batch_size, training=True)
        valid_ds = splits.dataset("valid", train.effective_batch_size)
        callbacks = list(callbacks or [])
        functions = epoch_schedules(train)
        plateau = plateau_schedule(train)
        if functions or plateau is not None:
            callbacks.insert(0, Schedules(functions, plateau))
        early = self.loaded_job.job.early_stopping
        if early is not None:
            monitor = early.monitor or self.loaded_job.job.objective
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=monitor, patience=early.patience, min_delta=early.min_delta,
                mode=_mode(self.loaded_job.job.objective_direction if monitor == self.loaded_job.job.objective
                           else None, monitor)))
        return model.fit(train_ds, validation_data=valid_ds, epochs=epochs or train.max_epochs,
                         initial_epoch=initial_epoch, callbacks=callbacks, verbose=self.verbose)


def _mode(direction: str | None, monitor: str) -> str:
    if direction is not None:
        return direction
    return "max" if higher_is_better(monitor) else "min"
