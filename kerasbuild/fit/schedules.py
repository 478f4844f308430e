"""Per-epoch values of the learning rate and the momentum (pure Python, no TensorFlow).

Every schedule is a function of the 0-based epoch index (and, for ``reduce_on_plateau``, of
the monitored history), evaluated before the epoch runs. :func:`epoch_schedules` turns a
:class:`~kerasbuild.schema.train.TrainConfig` into ``{variable: function(epoch) -> value}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..schema.train import (
    AdjustVariable,
    CosineSchedule,
    ExponentialSchedule,
    InvSchedule,
    LinearSchedule,
    MultiStepSchedule,
    OneCycleSchedule,
    PlateauSchedule,
    PolynomialSchedule,
    StepSchedule,
    TrainConfig,
)

EpochFn = Callable[[int], float]


def linear(start: float, stop: float, epochs: int) -> EpochFn:
    """nolearn's ``AdjustVariable``: ``numpy.linspace(start, stop, epochs)[epoch]``."""

    def value(epoch: int) -> float:
        if epochs <= 1:
            return start
        e = min(max(epoch, 0), epochs - 1)
        return start + (stop - start) * e / (epochs - 1)

    return value


def one_cycle(s: OneCycleSchedule, epochs: int) -> tuple[EpochFn, EpochFn]:
    """(learning rate, momentum) functions of Smith's one-cycle policy."""
    peak = max(1, round(s.pct_start * (epochs - 1)))
    lr_lo, lr_hi, lr_end = (
        s.max_learning_rate / s.div_factor,
        s.max_learning_rate,
        s.max_learning_rate / s.final_div_factor,
    )

    def phase(epoch: int) -> tuple[bool, float]:
        if epoch <= peak:
            return True, epoch / peak
        return False, (epoch - peak) / max(1, epochs - 1 - peak)

    def lr(epoch: int) -> float:
        up, t = phase(epoch)
        return lr_lo + (lr_hi - lr_lo) * t if up else lr_hi + (lr_end - lr_hi) * min(t, 1.0)

    def momentum(epoch: int) -> float:
        up, t = phase(epoch)
        hi, lo = s.max_momentum, s.min_momentum
        return hi + (lo - hi) * t if up else lo + (hi - lo) * min(t, 1.0)

    return lr, momentum


def schedule_fn(s, base: float, epochs: int) -> EpochFn:
    """The value function of one non-plateau, single-variable schedule."""
    base = s.base if getattr(s, "base", None) is not None else base
    if isinstance(s, LinearSchedule):
        return linear(s.start, s.stop, epochs)
    if isinstance(s, StepSchedule):
        return lambda e: base * s.gamma ** (e // s.step_size)
    if isinstance(s, MultiStepSchedule):
        return lambda e: base * s.gamma ** sum(1 for m in s.milestones if m <= e)
    if isinstance(s, ExponentialSchedule):
        return lambda e: base * s.gamma**e
    if isinstance(s, InvSchedule):
        return lambda e: base * (1 + s.gamma * e) ** -s.power
    if isinstance(s, PolynomialSchedule):
        return lambda e: s.end + (base - s.end) * max(0.0, 1 - e / epochs) ** s.power
    if isinstance(s, CosineSchedule):

        def cosine(e: int) -> float:
            if e < s.warmup_epochs:
                return s.warmup_start + (base - s.warmup_start) * e / s.warmup_epochs
            span = max(1, epochs - 1 - s.warmup_epochs)
            t = min(1.0, (e - s.warmup_epochs) / span)
            return s.minimum + (base - s.minimum) * 0.5 * (1 + math.cos(math.pi * t))

        return cosine
    raise TypeError(f"not an epoch schedule: {type(s).__name__}")


def epoch_schedules(config: TrainConfig) -> dict[str, EpochFn]:
    """``{"learning_rate": f, "momentum": g}`` for the variables that have a schedule."""
    epochs = config.max_epochs
    bases = {"learning_rate": config.update_learning_rate, "momentum": config.update_momentum}
    fns: dict[str, EpochFn] = {}
    for hook in config.on_epoch_finished:
        if isinstance(hook, AdjustVariable):
            fns[hook.name.removeprefix("update_")] = linear(hook.start, hook.stop, epochs)
    for s in config.schedules:
        if isinstance(s, OneCycleSchedule):
            fns["learning_rate"], momentum = one_cycle(s, epochs)
            if s.cycle_momentum:
                fns["momentum"] = momentum
        elif not isinstance(s, PlateauSchedule):
            fns[s.variable] = schedule_fn(s, bases[s.variable], epochs)
    return fns


def plateau_schedule(config: TrainConfig) -> PlateauSchedule | None:
    return next((s for s in config.schedules if isinstance(s, PlateauSchedule)), None)
