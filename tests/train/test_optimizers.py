"""Optimisers: variable momentum that schedules really change, RAdam and Lookahead against
hand-written references, every ``update:`` name trains and serialises."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from kerasbuild.fit.callbacks import Schedules
from kerasbuild.fit.optimizers import SGD, Lookahead, RAdam, make_optimizer
from kerasbuild.schema.train import OPTIMIZERS, TrainConfig


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    d = load_digits()
    return (d.data[:512] / 16.0).astype("float32"), d.target[:512].astype("int64")


def _model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _train_epochs(
    optimizer, digits, epochs: int, callbacks=(), initial=None
) -> list[list[np.ndarray]]:
    """Weights after each epoch (same data order every time: shuffle=False)."""
    x, y = digits
    model = _model()
    if initial is not None:
        model.set_weights(initial)
    model.compile(optimizer, "sparse_categorical_crossentropy")
    snapshots = []
    for epoch in range(epochs):
        model.fit(
            x,
            y,
            batch_size=32,
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=False,
            verbose=0,
            callbacks=list(callbacks),
        )
        snapshots.append([w.copy() for w in model.get_weights()])
    return snapshots


def test_momentum_schedule_changes_updates(digits) -> None:
    initial = _model().get_weights()
    constant = _train_epochs(SGD(0.05, momentum=0.9), digits, 2, initial=initial)
    schedule = Schedules({"momentum": lambda epoch: 0.9 if epoch == 0 else 0.1})
    scheduled = _train_epochs(
        SGD(0.05, momentum=0.9), digits, 2, callbacks=[schedule], initial=initial
    )
    for a, b in zip(constant[0], scheduled[0], strict=True):
        np.testing.assert_array_equal(a, b)  # epoch 1: the schedule has not moved yet
    diff = max(float(np.abs(a - b).max()) for a, b in zip(constant[1], scheduled[1], strict=True))
    assert diff > 1e-3, "the momentum schedule did not change the updates of epoch 2"


def test_keras_sgd_bakes_momentum_into_the_traced_step(digits) -> None:
    """The premise: assigning keras.optimizers.SGD.momentum after tracing changes nothing."""
    initial = _model().get_weights()
    constant = _train_epochs(keras.optimizers.SGD(0.05, momentum=0.9), digits, 2, initial=initial)

    class SetMomentum(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.model.optimizer.momentum = 0.1

    changed = _train_epochs(
        keras.optimizers.SGD(0.05, momentum=0.9),
        digits,
        2,
        callbacks=[SetMomentum()],
        initial=initial,
    )
    for a, b in zip(constant[1], changed[1], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_matches_keras_sgd_for_constant_momentum(digits, nesterov: bool) -> None:
    initial = _model().get_weights()
    ours = _train_epochs(SGD(0.05, momentum=0.9, nesterov=nesterov), digits, 1, initial=initial)[-1]
    theirs = _train_epochs(
        keras.optimizers.SGD(0.05, momentum=0.9, nesterov=nesterov), digits, 1, initial=initial
    )[-1]
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def _radam_reference(
    grads: list[np.ndarray], w0: np.ndarray, lr: float, b1=0.9, b2=0.999, eps=1e-8
):
    """torch.optim.RAdam's update rule in NumPy (float64)."""
    w, m, v = w0.astype(np.float64), np.zeros_like(w0, np.float64), np.zeros_like(w0, np.float64)
    rho_inf = 2 / (1 - b2) - 1
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            r = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            w = w - lr * m_hat * r * np.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        else:
            w = w - lr * m_hat
    return w


def test_radam_matches_reference_update_rule() -> None:
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 4)).astype("float32")
    grads = [rng.normal(size=(3, 4)).astype("float32") for _ in range(12)]  # rho_t > 5 from step 6
    var = keras.Variable(w0)
    opt = RAdam(0.01)
    for g in grads:
        opt.apply([keras.ops.convert_to_tensor(g)], [var])
    np.testing.assert_allclose(var.numpy(), _radam_reference(grads, w0, 0.01), rtol=1e-5, atol=1e-6)


def test_lookahead_moves_slow_weights_every_k_steps() -> None:
    w0 = np.array([1.0, -2.0], "float32")
    var = keras.Variable(w0)
    opt = Lookahead(SGD(0.1), k=3, alpha=0.5)
    g = np.array([1.0, 1.0], "float32")
    for _ in range(3):
        opt.apply([keras.ops.convert_to_tensor(g)], [var])
    fast = w0 - 3 * 0.1 * g
    expected = w0 + 0.5 * (fast - w0)  # synced after the 3rd step
    np.testing.assert_allclose(var.numpy(), expected, atol=1e-6)
    opt.apply([keras.ops.convert_to_tensor(g)], [var])
    np.testing.assert_allclose(var.numpy(), expected - 0.1 * g, atol=1e-6)  # fast again, no sync


def test_lookahead_keeps_inner_adam_step_count() -> None:
    var = keras.Variable(np.zeros(2, "float32"))
    opt = Lookahead(keras.optimizers.Adam(0.1), k=5)
    for _ in range(4):
        opt.apply([keras.ops.ones(2)], [var])
    assert int(opt.inner_optimizer.iterations.numpy()) == 4


_LR = {
    "sgd": 0.2,
    "momentum": 0.05,
    "nesterov_momentum": 0.05,
    "adagrad": 0.2,
    "adadelta": 1.0,
    "lion": 0.002,
}


@pytest.mark.parametrize("update", OPTIMIZERS)
@pytest.mark.parametrize("lookahead", [False, True])
def test_every_optimizer_trains_and_round_trips(
    update: str, lookahead: bool, digits, tmp_path
) -> None:
    config = TrainConfig(
        update=update,
        update_learning_rate=_LR.get(update, 0.01),
        lookahead={"k": 2} if lookahead else None,
    )
    x, y = digits
    model = _model()
    model.compile(make_optimizer(config), "sparse_categorical_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < before * (0.95 if lookahead else 0.9), (
        f"{update}: loss {before:.3f} -> {after:.3f}"
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(after, rel=1e-5)
