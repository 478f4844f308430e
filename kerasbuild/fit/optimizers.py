"""Optimisers Keras 3 lacks or gets wrong for schedules, plus the ``train:`` -> optimiser map.

- :class:`SGD`: momentum SGD whose momentum is a ``keras.Variable`` (Keras 3's ``SGD`` stores
  it as a Python float that is baked into the traced train step, so a momentum schedule there
  silently changes nothing).
- :class:`RAdam`: rectified Adam (Liu et al. 2019).
- :class:`Lookahead`: slow/fast weights around any optimiser (Zhang et al. 2019).

All three are serialisable under the package ``kerasbuild``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from ..errors import KerasbuildError
from ..schema.train import TrainConfig

_KERAS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "nadam": "Nadam",
    "adamax": "Adamax",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "lion": "Lion",
}


@keras.saving.register_keras_serializable(package="kerasbuild")
class SGD(keras.optimizers.Optimizer):
    """SGD with (Nesterov) momentum held in a variable: ``SGD(learning_rate, momentum, nesterov)``.

    ``velocity = momentum * velocity - learning_rate * g``; ``w += velocity`` (or, Nesterov,
    ``w += momentum * velocity - learning_rate * g``) -- the same rule as ``keras.optimizers.SGD``.
    Assign ``optimizer.momentum_variable`` (or set ``optimizer.momentum``) between steps to
    change the momentum of the next update.
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= float(momentum) <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        with keras.name_scope(self.name, caller=self):
            self.momentum_variable = keras.Variable(
                float(momentum),
                name="momentum",
                dtype="float32",
                trainable=False,
                aggregation="only_first_replica",
            )
        self.nesterov = bool(nesterov)

    @property
    def momentum(self) -> float:
        return float(self.momentum_variable.numpy())

    @momentum.setter
    def momentum(self, value: float) -> None:
        self.momentum_variable.assign(float(value))

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = self.add_optimizer_variables(variables, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        m = ops.cast(self.momentum_variable, variable.dtype)
        v = self.velocities[self._get_variable_index(variable)]
        self.assign(v, ops.subtract(ops.multiply(v, m), ops.multiply(g, lr)))
        if self.nesterov:
            self.assign_add(variable, ops.subtract(ops.multiply(v, m), ops.multiply(g, lr)))
        else:
            self.assign_add(variable, v)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config


@keras.saving.register_keras_serializable(package="kerasbuild")
class RAdam(keras.optimizers.Optimizer):
    """Rectified Adam: Adam whose adaptive step is switched on only once the variance of the
    second-moment estimate is tractable (``rho_t > 5``), scaled by the rectification term
    ``r_t``; before that it takes bias-corrected momentum steps. Matches ``torch.optim.RAdam``.
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.m, self.v = self.add_optimizer_variables(variables, ["m", "v"])

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        b1, b2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        m = self.m[self._get_variable_index(variable)]
        v = self.v[self._get_variable_index(variable)]
        self.assign(m, ops.add(ops.multiply(m, b1), ops.multiply(g, 1 - b1)))
        self.assign(v, ops.add(ops.multiply(v, b2), ops.multiply(ops.square(g), 1 - b2)))
        b1_t, b2_t = ops.power(b1, t), ops.power(b2, t)
        m_hat = ops.divide(m, 1 - b1_t)
        rho_inf = 2.0 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2_t / (1 - b2_t)
        safe_rho = ops.maximum(rho_t, 5.0 + 1e-3)
        r = ops.sqrt(
            (safe_rho - 4) * (safe_rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * safe_rho)
        )
        adaptive = ops.divide(
            ops.sqrt(1 - b2_t), ops.add(ops.sqrt(v), ops.cast(self.epsilon, dtype))
        )
        step = ops.where(rho_t > 5.0, ops.multiply(m_hat, r * adaptive), m_hat)
        self.assign_sub(variable, ops.multiply(step, lr))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


@keras.saving.register_keras_serializable(package="kerasbuild")
class Lookahead(keras.optimizers.Optimizer):
    """``Lookahead(optimizer, k=5, alpha=0.5)``: the inner optimiser updates the fast weights
    every step; after every ``k``-th step the slow weights move ``alpha`` of the way towards
    the fast ones (``slow += alpha * (fast - slow)``) and the fast weights are reset to them.
    The learning rate is the inner optimiser's."""

    def __init__(
        self,
        optimizer: keras.optimizers.Optimizer,
        k: int = 5,
        alpha: float = 0.5,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.inner_optimizer = optimizer
        self.k, self.alpha = int(k), float(alpha)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.inner_optimizer.learning_rate = value

    def _get_current_learning_rate(self):
        return self.inner_optimizer._get_current_learning_rate()

    def build(self, variables):
        if self.built:
            return
        self.inner_optimizer.build(variables)
        super().build(variables)
        self.slow = self.add_optimizer_variables(variables, "slow")
        for slow, fast in zip(self.slow, variables, strict=True):
            slow.assign(fast)

    def apply(self, grads, trainable_variables=None):
        """The inner optimiser's full step (weight decay, clipping, its own counters), then
        the slow-weight sync when its step count reaches a multiple of ``k``."""
        if not self.built:
            with keras.name_scope(self.name, caller=self):
                self.build(trainable_variables)
            self.built = True
        variables = (
            trainable_variables if trainable_variables is not None else self._trainable_variables
        )
        self.inner_optimizer.apply(grads, variables)
        sync = ops.equal(ops.mod(self.inner_optimizer.iterations, self.k), 0)
        for fast in variables:  # may be a subset of the built variables (frozen layers)
            slow = self.slow[self._get_variable_index(fast)]
            moved = ops.add(
                slow, ops.multiply(ops.subtract(fast, slow), ops.cast(self.alpha, fast.dtype))
            )
            slow.assign(ops.where(sync, moved, slow))
            fast.assign(ops.where(sync, moved, fast))
        self._iterations.assign_add(1)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "k": self.k,
            "alpha": self.alpha,
            "optimizer": keras.saving.serialize_keras_object(self.inner_optimizer),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None) -> Lookahead:
        config = dict(config)
        inner = keras.saving.deserialize_keras_object(
            config.pop("optimizer"), custom_objects=custom_objects
        )
        return cls(inner, **config)


def make_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer:
    """The optimiser ``train:`` asks for, with its learning rate (and momentum) in variables."""
    lr = float(config.update_learning_rate)
    params = dict(config.update_params)
    try:
        if config.update in ("sgd", "momentum", "nesterov_momentum"):
            momentum = 0.0 if config.update == "sgd" else float(config.update_momentum)
            optimizer: keras.optimizers.Optimizer = SGD(
                lr, momentum=momentum, nesterov=config.nesterov, **params
            )
        elif config.update == "radam":
            optimizer = RAdam(lr, **params)
        else:
            optimizer = getattr(keras.optimizers, _KERAS[config.update])(learning_rate=lr, **params)
    except (TypeError, ValueError) as exc:
        raise KerasbuildError(
            f"train.update_params {params} do not fit update: {config.update}: {exc}"
        ) from None
    if config.lookahead is not None:
        optimizer = Lookahead(optimizer, k=config.lookahead.k, alpha=config.lookahead.alpha)
    return optimizer


def base_optimizer(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """The optimiser that owns the learning rate and momentum (inside loss-scale / Lookahead)."""
    while hasattr(optimizer, "inner_optimizer"):
        optimizer = optimizer.inner_optimizer
    return optimizer
