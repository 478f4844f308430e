"""The ``train:`` section of a spec (pure pydantic, no TensorFlow).

Field names follow nolearn's ``NeuralNet`` keywords so a pasted nolearn net keeps its meaning:
``update`` (the optimiser; nolearn's default ``nesterov_momentum``), ``update_learning_rate``,
``update_momentum``, ``max_epochs``, ``regression``, ``on_epoch_finished`` hooks
(``AdjustVariable``, ``EarlyStopping``), ``batch_iterator_train`` (``BatchIterator`` or
``FlipBatchIterator``), ``objective_l2``. Everything else (``schedules``, ``lookahead``,
``precision``, ``distribute``...) is kerasbuild's own.

Schedules are evaluated once per epoch, before the epoch runs, from the 0-based epoch index;
that keeps them exact across ``--resume``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import StrictModel

OPTIMIZERS = (
    "sgd",
    "momentum",
    "nesterov_momentum",
    "adam",
    "adamw",
    "nadam",
    "adamax",
    "rmsprop",
    "adagrad",
    "adadelta",
    "lion",
    "radam",
)
MOMENTUM_OPTIMIZERS = ("sgd", "momentum", "nesterov_momentum")
COMMON_UPDATE_PARAMS = (
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)
"""Keyword arguments every Keras optimiser takes."""
UPDATE_PARAMS = {
    "sgd": (),
    "momentum": (),
    "nesterov_momentum": (),
    "adam": ("beta_1", "beta_2", "epsilon", "amsgrad"),
    "adamw": ("beta_1", "beta_2", "epsilon", "amsgrad"),
    "nadam": ("beta_1", "beta_2", "epsilon"),
    "adamax": ("beta_1", "beta_2", "epsilon"),
    "rmsprop": ("rho", "momentum", "epsilon", "centered"),
    "adagrad": ("initial_accumulator_value", "epsilon"),
    "adadelta": ("rho", "epsilon"),
    "lion": ("beta_1", "beta_2"),
    "radam": ("beta_1", "beta_2", "epsilon"),
}
"""The further keyword arguments of each optimiser (``update_params``), besides the common ones."""
"""Optimisers whose momentum lives in a variable that a schedule can move."""

Variable = Literal["learning_rate", "momentum"]
METRICS = ("accuracy", "top5_accuracy", "mae", "mse", "rmse", "pixel_accuracy", "mean_iou")
REGRESSION_METRICS = ("mae", "mse", "rmse")
"""Metrics of real-valued targets; the others compare class indices with probabilities."""


class AdjustVariable(StrictModel):
    """nolearn's ``AdjustVariable(name, start, stop)``: moves ``update_learning_rate`` or
    ``update_momentum`` linearly from ``start`` (first epoch) to ``stop`` (last epoch) over
    ``max_epochs`` epochs."""

    type: Literal["AdjustVariable"]
    name: Literal["update_learning_rate", "update_momentum"]
    start: float
    stop: float


class EarlyStoppingHook(StrictModel):
    """nolearn-style ``EarlyStopping(patience)``: stop when ``monitor`` has not improved by
    ``min_delta`` for ``patience`` epochs and (``restore_best_weights``) restore the weights of
    the best epoch, as nolearn's EarlyStopping recipe did."""

    type: Literal["EarlyStopping"]
    patience: int = Field(100, ge=1)
    monitor: str = "val_loss"
    min_delta: float = Field(0.0, ge=0)
    restore_best_weights: bool = True


Hook = Annotated[AdjustVariable | EarlyStoppingHook, Field(discriminator="type")]


class BatchIterator(StrictModel):
    """``BatchIterator(batch_size)`` or ``FlipBatchIterator(batch_size, flip_indices)``: the
    latter flips half of each batch horizontally and swaps the keypoint pairs in
    ``flip_indices`` (pairs of target columns, x and y interleaved as in the Kaggle data)."""

    type: Literal["BatchIterator", "FlipBatchIterator"] = "BatchIterator"
    batch_size: int = Field(128, ge=1)
    flip_indices: list[tuple[int, int]] | None = None


# ----------------------------------------------------------------------------------- schedules
class _Schedule(StrictModel):
    variable: Variable = "learning_rate"
    base: float | None = Field(
        None,
        ge=0,
        description="Value at epoch 0 (default: update_learning_rate or update_momentum).",
    )


class LinearSchedule(_Schedule):
    """``start`` at the first epoch to ``stop`` at the last, linearly (nolearn AdjustVariable)."""

    type: Literal["linear"]
    start: float
    stop: float


class StepSchedule(_Schedule):
    """``base * gamma ** floor(epoch / step_size)`` (Caffe ``step``)."""

    type: Literal["step"]
    step_size: int = Field(ge=1)
    gamma: float = Field(0.1, gt=0)


class MultiStepSchedule(_Schedule):
    """``base * gamma ** (number of milestones <= epoch)`` (Caffe ``multistep``)."""

    type: Literal["multistep"]
    milestones: list[int] = Field(min_length=1)
    gamma: float = Field(0.1, gt=0)


class ExponentialSchedule(_Schedule):
    """``base * gamma ** epoch`` (Caffe ``exp``)."""

    type: Literal["exponential"]
    gamma: float = Field(gt=0)


class InvSchedule(_Schedule):
    """``base * (1 + gamma * epoch) ** -power`` (Caffe ``inv``, per epoch)."""

    type: Literal["inv"]
    gamma: float = Field(ge=0)
    power: float = Field(0.75, ge=0)


class PolynomialSchedule(_Schedule):
    """``end + (base - end) * (1 - epoch / max_epochs) ** power`` (Caffe ``poly``)."""

    type: Literal["polynomial"]
    power: float = Field(1.0, ge=0)
    end: float = Field(0.0, ge=0)


class CosineSchedule(_Schedule):
    """Linear warm-up from ``warmup_start`` to ``base`` over ``warmup_epochs``, then cosine
    decay to ``minimum`` at the last epoch (SGDR without restarts)."""

    type: Literal["cosine"]
    warmup_epochs: int = Field(0, ge=0)
    warmup_start: float = Field(0.0, ge=0)
    minimum: float = Field(0.0, ge=0)


class OneCycleSchedule(StrictModel):
    """Smith's one-cycle policy: the learning rate rises linearly from ``max_learning_rate /
    div_factor`` to ``max_learning_rate`` over the first ``pct_start`` of the epochs while the
    momentum falls from ``max_momentum`` to ``min_momentum``; then the learning rate falls to
    ``max_learning_rate / final_div_factor`` while the momentum rises back."""

    type: Literal["one_cycle"]
    variable: Literal["both"] = "both"
    cycle_momentum: bool = Field(
        True,
        description="false: schedule the learning rate only and leave the "
        "momentum alone (PyTorch's cycle_momentum=False), as update: adam and the "
        "other optimisers without a momentum variable need.",
    )
    max_learning_rate: float = Field(gt=0)
    div_factor: float = Field(25.0, gt=0)
    final_div_factor: float = Field(1e4, gt=0)
    pct_start: float = Field(0.3, gt=0, lt=1)
    max_momentum: float = Field(0.95, ge=0, lt=1)
    min_momentum: float = Field(0.85, ge=0, lt=1)


class PlateauSchedule(StrictModel):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved by
    ``min_delta`` for ``patience`` epochs (then wait ``cooldown`` epochs); never below
    ``minimum``."""

    type: Literal["reduce_on_plateau"]
    variable: Literal["learning_rate"] = "learning_rate"
    monitor: str = "val_loss"
    factor: float = Field(0.1, gt=0, lt=1)
    patience: int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0)
    cooldown: int = Field(0, ge=0)
    minimum: float = Field(0.0, ge=0)


Schedule = Annotated[
    LinearSchedule
    | StepSchedule
    | MultiStepSchedule
    | ExponentialSchedule
    | InvSchedule
    | PolynomialSchedule
    | CosineSchedule
    | OneCycleSchedule
    | PlateauSchedule,
    Field(discriminator="type"),
]


class Lookahead(StrictModel):
    """Lookahead (Zhang et al. 2019) around the chosen optimiser: every ``k`` steps the slow
    weights move ``alpha`` of the way to the fast weights and the fast weights restart there."""

    k: int = Field(5, ge=1)
    alpha: float = Field(0.5, gt=0, le=1)


class InitWeights(StrictModel):
    """``init:``: start from saved weights instead of a random initialisation. ``weights``: a
    ``.weights.h5`` file, a ``.keras`` model (read in safe mode), a legacy Keras ``.h5`` weights
    file (``~/.keras/models``) or a run directory (its ``model_best.keras``), relative to the
    spec file. Layers match by name, else by order where the shapes agree; ``strict: true``
    refuses a file that leaves a layer on either side unmatched."""

    weights: str = Field(
        min_length=1, description="Weights file or run directory, relative to the spec file."
    )
    strict: bool = Field(True, description="false: load what matches, skip and report the rest.")


class UnfreezeAt(StrictModel):
    """Two-stage fine-tuning: after ``epoch`` epochs, make ``layers`` (names or glob patterns;
    default: every layer) trainable and, when given, set the learning rate to
    ``learning_rate``; the optimiser keeps its state (step count, moments of the layers that
    were trainable)."""

    epoch: int = Field(
        ge=1, description="Epochs trained with the frozen layers; epoch N+1 trains them."
    )
    learning_rate: float | None = Field(
        None, gt=0, description="Learning rate from then on (default: unchanged)."
    )
    layers: list[str] | None = Field(
        None,
        min_length=1,
        description="Layer names or glob patterns to unfreeze (default: every frozen layer).",
    )


class OutputTraining(StrictModel):
    """``train.outputs.NAME``: the loss and metrics of one output layer of a model with several
    outputs. ``regression`` and ``metrics`` mean what they mean at the top of ``train:`` (whose
    values an output takes when it leaves them out); ``loss_weight`` multiplies the output's
    loss in the total that training minimises (Keras' ``loss_weights``)."""

    regression: bool | None = Field(
        None,
        description="true: mean squared error on real targets; false: cross-entropy on class "
        "indices (default: train.regression).",
    )
    metrics: list[Literal[METRICS]] | None = Field(  # type: ignore[valid-type]
        None, description="Metrics of this output (default: train.metrics, else by its task)."
    )
    loss_weight: float = Field(
        1.0, ge=0, description="Factor of this output's loss in the total loss."
    )


class TrainConfig(StrictModel):
    """Training settings; every field has a nolearn-compatible default."""

    update: Literal[OPTIMIZERS] = "nesterov_momentum"  # type: ignore[valid-type]
    update_learning_rate: float = Field(0.01, gt=0)
    update_momentum: float = Field(0.9, ge=0, lt=1)
    update_nesterov: bool | None = None
    update_params: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra keyword arguments "
        "of the Keras optimiser, e.g. {beta_1: 0.9, weight_decay: 1e-4}.",
    )
    lookahead: Lookahead | None = None
    batch_size: int = Field(128, ge=1)
    max_epochs: int = Field(100, ge=1)
    regression: bool = False
    objective_l1: float = Field(
        0.0, ge=0, description="nolearn: lambda * sum |W| over weights, not biases."
    )
    objective_l2: float = Field(
        0.0, ge=0, description="nolearn: lambda * sum W**2 over weights, not biases."
    )
    metrics: list[Literal[METRICS]] | None = None  # type: ignore[valid-type]
    on_epoch_finished: list[Hook] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    batch_iterator_train: BatchIterator | None = None
    eval_size: float | None = Field(None, ge=0, lt=1)
    verbose: int = 1
    seed: int | None = None
    deterministic: bool = False
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = "float32"
    jit_compile: bool = Field(
        False,
        description="Compile the train step with XLA; cannot be combined with deterministic: true.",
    )
    steps_per_execution: int | None = Field(
        None, ge=1, description="Default: 32 on CPU, 1 elsewhere."
    )
    distribute: Literal["none", "mirrored", "multi_worker"] = "none"
    freeze: list[str] = Field(
        default_factory=list,
        description="Layer names or glob patterns (conv*) "
        "whose weights training leaves unchanged, as trainable: false on the layer.",
    )
    unfreeze_at: UnfreezeAt | None = None
    outputs: dict[str, OutputTraining] | None = Field(
        None,
        description="Per output layer of a model with several outputs: its regression, "
        "metrics and loss_weight, e.g. {digit: {metrics: [accuracy]}, size: {regression: "
        "true, loss_weight: 0.5}}.",
    )

    @field_validator("update_params")
    @classmethod
    def _params_fit_the_optimiser(cls, value: dict[str, Any], info: Any) -> dict[str, Any]:
        update = info.data.get("update")
        allowed = (*UPDATE_PARAMS.get(update, ()), *COMMON_UPDATE_PARAMS)
        wrong = [key for key in value if key not in allowed]
        if update in UPDATE_PARAMS and wrong:
            hint = (
                " (set update_momentum / update_nesterov instead)"
                if update in MOMENTUM_OPTIMIZERS
                else ""
            )
            raise ValueError(
                f"update: {update} takes no '{wrong[0]}'{hint}; it takes: {', '.join(allowed)}"
            )
        return value

    @field_validator("schedules")
    @classmethod
    def _one_cycle_has_a_momentum(cls, value: list[Any], info: Any) -> list[Any]:
        update = info.data.get("update")
        for schedule in value:
            if (
                isinstance(schedule, OneCycleSchedule)
                and schedule.cycle_momentum
                and update in OPTIMIZERS
                and update not in MOMENTUM_OPTIMIZERS[1:]
            ):
                raise ValueError(
                    f"a momentum schedule (one_cycle) needs update: momentum or "
                    f"nesterov_momentum, got update: {update}; set cycle_momentum: false on "
                    "it to schedule the learning rate only (PyTorch's cycle_momentum=False)"
                )
        return value

    @model_validator(mode="after")
    def _one_schedule_per_variable(self) -> TrainConfig:
        seen: dict[str, str] = {}
        for name, variable in self.schedule_targets():
            if variable in seen:
                raise ValueError(
                    f"the {variable} has two schedules ({seen[variable]} and {name}); "
                    "give each variable at most one"
                )
            seen[variable] = name
        if "momentum" in seen and self.update not in MOMENTUM_OPTIMIZERS[1:]:
            raise ValueError(
                f"a momentum schedule ({seen['momentum']}) needs update: momentum or "
                f"nesterov_momentum, got update: {self.update}"
            )
        if self.distribute == "mirrored" and (self.steps_per_execution or 1) > 1:
            raise ValueError(
                "steps_per_execution > 1 fails under distribute: mirrored in Keras 3.15 "
                "(multi-step loop placeholder error); leave it unset"
            )
        if self.distribute == "multi_worker":
            self._check_multi_worker()
        if self.jit_compile and self.deterministic:
            raise ValueError(
                "jit_compile: true cannot run with deterministic: true: Keras switches "
                "XLA off under TensorFlow op determinism (not every XLA op has a "
                "deterministic kernel); drop one of them (see docs/training.md, "
                "'XLA and determinism')"
            )
        if self.lookahead is not None and self.distribute != "none":
            raise ValueError(f"lookahead is not supported with distribute: {self.distribute}")
        self._check_unfreeze()
        return self

    def _check_multi_worker(self) -> None:
        """What kerasbuild's multi-worker loop needs (see kerasbuild.fit.multi_worker)."""
        if self.seed is None:
            raise ValueError(
                "distribute: multi_worker needs train.seed: every worker splits and shuffles "
                "the data with it, so the workers agree on which examples are whose; "
                "e.g. seed: 1"
            )
        for name in ("steps_per_execution", "jit_compile", "unfreeze_at"):
            if getattr(self, name) not in (None, False, 1):
                raise ValueError(
                    f"distribute: multi_worker runs kerasbuild's own training step "
                    "(Keras fit() fails under MultiWorkerMirroredStrategy, "
                    "keras-team/keras#20585), "
                    f"which does not apply {name}; leave it unset"
                )

    def _check_unfreeze(self) -> None:
        unfreeze = self.unfreeze_at
        if unfreeze is None:
            return
        if unfreeze.epoch >= self.max_epochs:
            raise ValueError(
                f"unfreeze_at.epoch ({unfreeze.epoch}) must be below max_epochs "
                f"({self.max_epochs}), or the unfrozen layers never train"
            )
        scheduled = [
            name for name, variable in self.schedule_targets() if variable == "learning_rate"
        ]
        if unfreeze.learning_rate is not None and scheduled:
            raise ValueError(
                f"unfreeze_at.learning_rate and the learning-rate schedule ({scheduled[0]}) "
                "would both set the learning rate; drop one of them"
            )

    def schedule_targets(self) -> list[tuple[str, str]]:
        """``(schedule name, variable)`` for every schedule and AdjustVariable hook."""
        targets = []
        for hook in self.on_epoch_finished:
            if isinstance(hook, AdjustVariable):
                targets.append(("AdjustVariable", hook.name.removeprefix("update_")))
        for schedule in self.schedules:
            if schedule.variable == "both":
                targets.append((schedule.type, "learning_rate"))
                if schedule.cycle_momentum:
                    targets.append((schedule.type, "momentum"))
            else:
                targets.append((schedule.type, schedule.variable))
        return targets

    @property
    def early_stopping(self) -> EarlyStoppingHook | None:
        return next((h for h in self.on_epoch_finished if isinstance(h, EarlyStoppingHook)), None)

    @property
    def nesterov(self) -> bool:
        if self.update_nesterov is not None:
            return self.update_nesterov
        return self.update == "nesterov_momentum"

    @property
    def effective_batch_size(self) -> int:
        """``batch_iterator_train.batch_size`` when given (nolearn), else ``batch_size``."""
        return (
            self.batch_iterator_train.batch_size if self.batch_iterator_train else self.batch_size
        )


def metric_names(config: TrainConfig) -> list[str]:
    """Metrics that training logs besides the loss (``val_`` + name on the validation split).
    With ``train.outputs``: one ``OUTPUT_loss`` and ``OUTPUT_METRIC`` per output, as Keras names
    them."""
    if config.outputs is not None:
        return [
            logged
            for name in config.outputs
            for logged in (f"{name}_loss", *(f"{name}_{m}" for m in output_metrics(config, name)))
        ]
    if config.metrics is not None:
        return list(config.metrics)
    return ["rmse"] if config.regression else ["accuracy"]


def output_is_regression(config: TrainConfig, name: str) -> bool:
    """Whether output ``name`` of ``train.outputs`` regresses (its own setting, else the
    top-level ``regression``)."""
    own = config.outputs[name].regression if config.outputs else None
    return config.regression if own is None else own


def output_metrics(config: TrainConfig, name: str) -> list[str]:
    """The metrics of output ``name`` of ``train.outputs``: its own, else ``train.metrics``,
    else ``rmse`` (regression) or ``accuracy``."""
    own = config.outputs[name].metrics if config.outputs else None
    if own is not None:
        return list(own)
    if config.metrics is not None:
        return list(config.metrics)
    return ["rmse"] if output_is_regression(config, name) else ["accuracy"]
