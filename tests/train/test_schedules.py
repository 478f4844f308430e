"""Schedule values per epoch, config rules, and reduce-on-plateau on a real optimiser."""

from __future__ import annotations

import math

import keras
import pytest
from pydantic import ValidationError

from kerasbuild.errors import SpecError
from kerasbuild.fit.callbacks import Schedules, current_values
from kerasbuild.fit.optimizers import SGD
from kerasbuild.fit.schedules import epoch_schedules
from kerasbuild.schema.train import PlateauSchedule, TrainConfig
from kerasbuild.spec.loader import load_spec

from .conftest import DIGITS_SPEC

ONE_CYCLE = {
    "type": "one_cycle",
    "max_learning_rate": 0.02,
    "div_factor": 10,
    "final_div_factor": 100,
    "pct_start": 0.4,
    "cycle_momentum": False,
}


def _fns(**train):
    return epoch_schedules(TrainConfig(**train))


def test_adjust_variable_is_linear_between_its_endpoints() -> None:
    fns = _fns(
        max_epochs=11,
        on_epoch_finished=[
            {
                "type": "AdjustVariable",
                "name": "update_learning_rate",
                "start": 0.03,
                "stop": 0.0001,
            },
            {"type": "AdjustVariable", "name": "update_momentum", "start": 0.9, "stop": 0.999},
        ],
    )
    lr, mom = fns["learning_rate"], fns["momentum"]
    assert lr(0) == pytest.approx(0.03) and lr(10) == pytest.approx(0.0001)
    assert lr(5) == pytest.approx((0.03 + 0.0001) / 2)
    assert mom(0) == pytest.approx(0.9) and mom(10) == pytest.approx(0.999)
    assert [round(mom(e), 6) for e in range(11)] == sorted(round(mom(e), 6) for e in range(11))


def test_one_cycle_raises_lr_while_lowering_momentum_then_reverses() -> None:
    fns = _fns(
        max_epochs=21, schedules=[{"type": "one_cycle", "max_learning_rate": 0.1, "pct_start": 0.3}]
    )
    lr, mom = fns["learning_rate"], fns["momentum"]
    peak = 6  # round(0.3 * 20)
    assert lr(0) == pytest.approx(0.1 / 25) and mom(0) == pytest.approx(0.95)
    assert lr(peak) == pytest.approx(0.1) and mom(peak) == pytest.approx(0.85)
    for e in range(peak):
        assert lr(e + 1) > lr(e) and mom(e + 1) < mom(e)
    for e in range(peak, 20):
        assert lr(e + 1) < lr(e) and mom(e + 1) > mom(e)
    assert lr(20) == pytest.approx(0.1 / 1e4) and mom(20) == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"type": "step", "step_size": 3, "gamma": 0.5}, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]),
        (
            {"type": "multistep", "milestones": [2, 5], "gamma": 0.1},
            [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001],
        ),
        ({"type": "exponential", "gamma": 0.5}, [0.1 * 0.5**e for e in range(7)]),
        ({"type": "inv", "gamma": 1.0, "power": 0.5}, [0.1 / math.sqrt(1 + e) for e in range(7)]),
        (
            {"type": "polynomial", "power": 2.0, "end": 0.0},
            [0.1 * (1 - e / 7) ** 2 for e in range(7)],
        ),
        (
            {"type": "cosine", "warmup_epochs": 2, "warmup_start": 0.0, "minimum": 0.0},
            [
                0.0,
                0.05,
                0.1,
                0.1 * 0.5 * (1 + math.cos(math.pi / 4)),
                0.05,
                0.1 * 0.5 * (1 + math.cos(3 * math.pi / 4)),
                0.0,
            ],
        ),
    ],
)
def test_learning_rate_schedule_values(schedule: dict, expected: list[float]) -> None:
    fn = _fns(max_epochs=7, update_learning_rate=0.1, schedules=[schedule])["learning_rate"]
    assert [fn(e) for e in range(7)] == pytest.approx(expected, abs=1e-12)


def test_momentum_schedule_uses_update_momentum_as_base() -> None:
    fn = _fns(
        update="momentum",
        update_momentum=0.8,
        max_epochs=4,
        schedules=[{"type": "step", "variable": "momentum", "step_size": 2, "gamma": 0.5}],
    )["momentum"]
    assert [fn(e) for e in range(4)] == pytest.approx([0.8, 0.8, 0.4, 0.4])


def test_two_schedules_for_one_variable_are_refused() -> None:
    with pytest.raises(ValidationError, match="learning_rate has two schedules"):
        TrainConfig(
            on_epoch_finished=[
                {
                    "type": "AdjustVariable",
                    "name": "update_learning_rate",
                    "start": 0.1,
                    "stop": 0.01,
                }
            ],
            schedules=[{"type": "exponential", "gamma": 0.9}],
        )


def test_momentum_schedule_needs_a_momentum_optimiser() -> None:
    with pytest.raises(
        ValidationError, match="needs update: momentum or nesterov_momentum, got update: adam"
    ):
        TrainConfig(update="adam", schedules=[{"type": "one_cycle", "max_learning_rate": 0.01}])


def test_one_cycle_with_adam_is_located_and_suggests_cycle_momentum(tmp_path) -> None:
    spec = tmp_path / "s.yaml"
    source = (
        DIGITS_SPEC.replace("update: nesterov_momentum", "update: adam")
        + "  schedules:\n    - {type: one_cycle, max_learning_rate: 0.02}\n"
    )
    spec.write_text(source)
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    text = str(info.value)
    line = source.splitlines().index("  schedules:") + 1
    assert f"s.yaml:{line}:3: train.schedules: " in text
    assert "got update: adam; set cycle_momentum: false" in text


@pytest.mark.slow
def test_one_cycle_without_momentum_trains_adam_along_the_cycle(digits_spec, tmp_path) -> None:
    from kerasbuild.runs.runner import train

    loaded = load_spec(
        digits_spec,
        overrides={"train.update": "adam", "train.max_epochs": 6, "train.schedules": [ONE_CYCLE]},
    )
    result = train(loaded, tmp_path / "run")
    assert result.status == "complete" and result.epochs_completed == 6
    # 6 epochs, pct_start 0.4: peak at epoch round(0.4 * 5) = 2
    expected = [
        0.02 / 10,
        0.011,
        0.02,
        0.02 * 2 / 3 + 0.02 / 100 / 3,
        0.02 / 3 + 0.02 / 100 * 2 / 3,
        0.02 / 100,
    ]
    assert [row["learning_rate"] for row in result.history] == pytest.approx(expected, rel=1e-5)
    assert all("momentum" not in row for row in result.history)
    assert result.history[-1]["val_accuracy"] > 0.8  # 10 classes: chance is 0.1


def test_multi_worker_without_a_seed_is_refused_with_a_located_error(tmp_path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "layers:\n  - {name: in, type: InputLayer, shape: [4]}\n"
        "  - {name: out, type: DenseLayer, num_units: 2}\ntrain:\n  distribute: multi_worker\n"
    )
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    text = str(info.value)
    assert "s.yaml:" in text and "train" in text and "needs train.seed" in text
    spec.write_text(spec.read_text() + "  seed: 3\n")
    assert load_spec(spec).spec.train.distribute == "multi_worker"


def test_reduce_on_plateau_lowers_the_optimiser_learning_rate() -> None:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(SGD(0.1, momentum=0.9), "mse")
    cb = Schedules(
        {}, PlateauSchedule(type="reduce_on_plateau", patience=2, factor=0.5, cooldown=1)
    )
    cb.set_model(model)
    lrs = []
    for epoch, val_loss in enumerate([1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.99, 0.98]):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, {"val_loss": val_loss})
        lrs.append(round(current_values(model.optimizer)["learning_rate"], 6))
    # Keras' ReduceLROnPlateau rule: two epochs without improvement on 0.9 -> halve; the
    # cooldown epoch resets the count and the next epochs count again
    assert lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]
    state = cb.get_state()
    fresh = Schedules({}, cb.plateau)
    fresh.set_model(model)
    model.optimizer.learning_rate = 0.1
    fresh.set_state(state)
    assert current_values(model.optimizer)["learning_rate"] == pytest.approx(0.0125)
    assert fresh.state == {"best": 0.9, "wait": 0, "cooldown": 1}
