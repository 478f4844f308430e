"""``prepare_fit``: the one place a spec becomes a model ready to fit, used by ``kerasbuild
train`` (:mod:`kerasbuild.runs.runner`) and by every tuning trial
(:class:`kerasbuild.tuning.runner.SpecTuner`), so a trial trains exactly as ``train`` trains
its spec.

Inside the :func:`~kerasbuild.fit.session.training_session` (seeds, op determinism, dtype
policy) and the distribution strategy's scope it builds the model, compiles it
(:func:`~kerasbuild.fit.objective.compile_model`) and builds its optimiser (so weights with
optimiser state can be loaded before ``fit``); it makes the datasets (the training split one
seeded draw per epoch, with a known length) and the callbacks every fit has: the schedules,
the NaN guard and the best-epoch tracker with the spec's early stopping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from ..build import build_model
from ..data.pipeline import steps_per_epoch
from ..errors import SpecError
from ..schema.train import metric_names
from ..spec.loader import LoadedSpec
from ..transfer.plan import TransferPlan
from . import session
from .callbacks import BestModel, NanGuard, Schedules
from .objective import compile_model
from .schedules import epoch_schedules, plateau_schedule


def monitor_for(loaded: LoadedSpec, has_valid: bool) -> str:
    """The epoch-log value that picks the best epoch: the spec's early-stopping monitor, else
    ``val_loss`` (``loss`` without a validation split). Raises a located SpecError when early
    stopping or reduce-on-plateau monitor a value the epoch logs will not have."""
    config = loaded.spec.train
    names = ["loss", *metric_names(config)]
    available = names + ([f"val_{n}" for n in names] if has_valid else [])
    es = config.early_stopping
    checks = (
        [
            (
                es.monitor,
                ("train", "on_epoch_finished", config.on_epoch_finished.index(es), "monitor"),
            )
        ]
        if es
        else []
    )
    for i, s in enumerate(config.schedules):
        if s.type == "reduce_on_plateau":
            checks.append((s.monitor, ("train", "schedules", i, "monitor")))
    for monitor, path in checks:
        if monitor not in available:
            hint = (
                " (there is no validation split)"
                if monitor.startswith("val_") and not has_valid
                else ""
            )
            raise SpecError(
                [
                    loaded.source.problem(
                        f"cannot monitor '{monitor}'{hint}; the epoch logs "
                        f"have: {', '.join(available)}",
                        path,
                    )
                ]
            )
    if es is not None:
        return es.monitor
    return "val_loss" if has_valid else "loss"


def one_draw_per_epoch(dataset: tf.data.Dataset, steps: int) -> tf.data.Dataset:
    """``dataset`` (``steps`` batches per pass) behind a lazy ``flat_map``: its iterator (and
    so the per-epoch reshuffle and augmentation draw) is created only when an epoch pulls its
    first batch, not each time Keras creates an iterator it may never use. Epoch ``k`` thus
    always sees the ``k``-th draw, which lets a resumed run skip ahead by creating ``k``
    iterators. The asserted cardinality keeps Keras on its known-length epoch loop (an
    unknown length ends each first epoch with "Your input ran out of data")."""
    lazy = tf.data.Dataset.range(1).flat_map(lambda _: dataset)
    return lazy.apply(tf.data.experimental.assert_cardinality(steps))


@dataclass
class PreparedFit:
    """A compiled model (optimiser built) with its data and the callbacks every fit has.

    ``callbacks``: ``[unfreeze (with train.unfreeze_at), schedules, nan_guard, best]`` in that
    order (the NaN guard before every callback that saves); ``valid_ds`` is None without a
    validation split; ``batch_size`` is the global batch (per replica x replicas);
    ``transfer``: the spec's ``init:`` and ``unfreeze_at`` for this model."""

    config: Any
    model: keras.Model
    strategy: tf.distribute.Strategy
    splits: Any
    batch_size: int
    steps_per_execution: int
    train_ds: tf.data.Dataset
    valid_ds: tf.data.Dataset | None
    schedules: Schedules
    nan_guard: NanGuard
    best: BestModel
    transfer: TransferPlan
    unfreeze: list[keras.callbacks.Callback]

    @property
    def callbacks(self) -> list[keras.callbacks.Callback]:
        return [*self.unfreeze, self.schedules, self.nan_guard, self.best]

    @property
    def steps(self) -> int:
        """Training batches per epoch."""
        return steps_per_epoch(self.splits.size("train"), self.batch_size)

    @property
    def diverged_epoch(self) -> int | None:
        """The 1-based epoch whose training loss became NaN or infinite, if any."""
        epoch = self.nan_guard.diverged_epoch
        return None if epoch is None else epoch + 1

    def load_weights(self, path: Path | str) -> None:
        """Weights and optimiser state saved by ``model.save_weights`` (e.g. a Hyperband round
        continuing an earlier trial), loaded under the strategy."""
        with self.strategy.scope():
            self.model.load_weights(path)

    def fit(
        self,
        *,
        epochs: int,
        initial_epoch: int = 0,
        callbacks: list[keras.callbacks.Callback] = (),
        verbose: int = 0,
    ) -> keras.callbacks.History:
        """``model.fit`` from ``initial_epoch`` to ``epochs`` with :attr:`callbacks` first, then
        ``callbacks``. Epoch ``k`` gets the training split's ``k``-th draw, also when it starts
        after epoch 0 (a resumed run, a continued Hyperband trial). Under ``distribute:
        multi_worker`` kerasbuild's own step loop runs instead (:mod:`.multi_worker`)."""
        for _ in range(initial_epoch):  # advance the per-epoch reshuffle to where the run was
            iter(self.train_ds)
        if self.config.distribute == "multi_worker":
            from .multi_worker import fit

            return fit(
                self.model,
                self.strategy,
                self.train_ds,
                self.valid_ds,
                config=self.config,
                epochs=epochs,
                initial_epoch=initial_epoch,
                callbacks=[*self.callbacks, *callbacks],
            )
        return self.model.fit(
            one_draw_per_epoch(self.train_ds, self.steps),
            validation_data=self.valid_ds,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=[*self.callbacks, *callbacks],
            shuffle=False,
            verbose=verbose,
        )


@contextlib.contextmanager
def prepare_fit(
    loaded: LoadedSpec,
    splits: Any,
    *,
    seed: int,
    monitor: str,
    best_path: Path | None = None,
    note: Callable[[str], None] = lambda _: None,
) -> Iterator[PreparedFit]:
    """Open the training session for ``loaded.spec.train`` with ``seed`` and yield the
    :class:`PreparedFit` of ``loaded`` on ``splits`` (a :class:`~kerasbuild.data.splits.Splits`
    or a stream). Fit inside the block: op determinism and the dtype policy are restored when
    it ends. ``monitor`` (:func:`monitor_for`) picks the best epoch; ``best_path``: where the
    best epoch's model is written (None: kept in memory only); ``note``: prints what transfer
    learning did (weights loaded, layers unfrozen)."""
    config = loaded.spec.train
    with session.training_session(config, seed):
        strategy = session.strategy_for(config)
        steps_per_execution = config.steps_per_execution or session.default_steps_per_execution(
            config
        )
        with strategy.scope():
            model = build_model(loaded)
            compile_model(model, config, steps_per_execution=steps_per_execution)
            transfer = TransferPlan(loaded, model, note)
            # built now, not by fit, over every variable that will ever train (unfreeze_at):
            # saved optimiser state can be loaded before the first step, and the checkpoint
            # sizes are known
            model.optimizer.build(transfer.optimizer_variables())
        batch_size = config.effective_batch_size
        nan_guard = NanGuard()
        prepared = PreparedFit(
            config=config,
            model=model,
            strategy=strategy,
            splits=splits,
            batch_size=batch_size,
            steps_per_execution=steps_per_execution,
            train_ds=splits.dataset("train", batch_size, training=True),
            valid_ds=splits.dataset("valid", batch_size) if splits.size("valid") > 0 else None,
            schedules=Schedules(epoch_schedules(config), plateau_schedule(config)),
            nan_guard=nan_guard,
            best=BestModel(best_path, monitor, nan_guard, config.early_stopping),
            transfer=transfer,
            unfreeze=transfer.callbacks(),
        )
        for cb in prepared.callbacks:
            cb.set_model(model)
        yield prepared
