"""Real training runs: accuracy, the run directory, early stopping, NaN, precision."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from kerasbuild.build import build_model
from kerasbuild.errors import KerasbuildError, SpecError
from kerasbuild.layers import keras_layers  # noqa: F401
from kerasbuild.runs.runner import EXIT_DIVERGED, compile_model, train
from kerasbuild.spec.loader import load_spec


def _weights(path: Path) -> list[np.ndarray]:
    return keras.saving.load_model(path, safe_mode=True, compile=False).get_weights()


def test_digits_run_reaches_accuracy_and_writes_the_run_directory(
    digits_spec: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    result = train(load_spec(digits_spec), run)
    assert result.status == "complete" and result.epochs_completed == 8
    assert result.test_metrics["test_accuracy"] >= 0.93
    assert result.test_metrics["n_test"] == 359

    names = {p.name for p in run.iterdir()}
    assert {
        "spec.yaml",
        "run.json",
        "history.csv",
        "history.json",
        "metrics.json",
        "model_best.keras",
        "model_final.keras",
        "tensorboard",
        "backup",
        "loss.png",
    } <= names
    assert not [n for n in names if n.startswith(".")], "temporary files left behind"
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert json.loads((run / "backup" / "state.json").read_text())["epochs_completed"] == 8

    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and info["task"] == "classification"
    assert info["class_names"] == [str(i) for i in range(10)]
    assert info["inputs"] == [{"name": "image", "shape": [8, 8, 1]}]
    assert info["preprocessing"] == {"scale": 1 / 16}
    assert info["epochs_completed"] == 8 and info["seed"] == 1 and info["replicas"] == 1
    assert info["examples"] == {"train": 1150, "valid": 288, "test": 359}

    history = json.loads((run / "history.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, 9))
    assert {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "learning_rate",
        "momentum",
        "duration",
    } <= set(history[0])
    assert history[-1]["loss"] < history[0]["loss"] / 2
    csv_lines = (run / "history.csv").read_text().splitlines()
    assert len(csv_lines) == 9 and csv_lines[0].startswith("epoch,")

    metrics = json.loads((run / "metrics.json").read_text())
    best = metrics["best_epoch"]
    assert best == 1 + int(np.argmin([row["val_loss"] for row in history]))
    assert load_spec(run / "spec.yaml").spec.train.max_epochs == 8
    with zipfile.ZipFile(run / "model_best.keras") as archive:  # an inference model: no optimiser
        assert not json.loads(archive.read("config.json")).get("compile_config")
    model = keras.saving.load_model(run / "model_best.keras", safe_mode=True)
    assert model.count_params() == (9 * 8 + 8) + (72 * 32 + 32) + (32 * 10 + 10)


def test_existing_run_directory_needs_overwrite(digits_spec: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run).mkdir()
    (run / "run.json").write_text("{}")
    with pytest.raises(KerasbuildError, match="already exists; pass --overwrite") as info:
        train(load_spec(digits_spec, overrides={"train.max_epochs": 1}), run)
    assert info.value.exit_code == 2
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(KerasbuildError, match="not a kerasbuild run directory"):
        train(load_spec(digits_spec, overrides={"train.max_epochs": 1}), other, overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"


def test_unwritable_run_directory_is_a_clear_error(digits_spec: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(KerasbuildError, match="cannot write to run directory|is not a directory"):
        train(load_spec(digits_spec, overrides={"train.max_epochs": 1}), blocker / "run")


def test_early_stopping_restores_the_best_weights(digits_spec: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    overrides = {
        "train.max_epochs": 20,
        "train.on_epoch_finished": [
            {"type": "EarlyStopping", "patience": 3, "monitor": "val_accuracy", "min_delta": 0.5}
        ],
    }
    result = train(load_spec(digits_spec, overrides=overrides), run)
    # nothing can improve val_accuracy by 0.5, so epoch 1 stays best and training stops after 4
    assert (
        result.status == "early_stopped" and result.epochs_completed == 4 and result.best_epoch == 1
    )
    best, final = _weights(run / "model_best.keras"), _weights(run / "model_final.keras")
    for a, b in zip(best, final, strict=True):
        np.testing.assert_array_equal(a, b)
    loaded = load_spec(run / "spec.yaml")
    last = build_model(loaded)
    compile_model(last, loaded.spec.train)
    last.optimizer.build(last.trainable_variables)
    last.load_weights(run / "backup" / "epoch_0004.weights.h5")
    assert any(not np.array_equal(a, b) for a, b in zip(best, last.get_weights(), strict=True))
    history = json.loads((run / "history.json").read_text())
    assert result.test_metrics["test_accuracy"] == pytest.approx(
        history[0]["val_accuracy"], abs=0.05
    )


def test_nan_loss_stops_with_exit_code_and_keeps_the_last_good_checkpoint(
    digits_spec: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    overrides = {
        "train.max_epochs": 5,
        "train.update": "sgd",
        "train.schedules": [{"type": "exponential", "gamma": 1e12}],
    }  # lr 0.05, then 5e10
    with pytest.raises(KerasbuildError, match="loss became NaN in epoch 2") as info:
        train(load_spec(digits_spec, overrides=overrides), run)
    assert info.value.exit_code == EXIT_DIVERGED == 3
    assert "epoch 1" in str(info.value) and "backup" in str(info.value)
    state = json.loads((run / "backup" / "state.json").read_text())
    assert state["epochs_completed"] == 1 and (run / "backup" / state["weights"]).is_file()
    weights = _weights(run / "model_best.keras")
    assert all(np.isfinite(w).all() for w in weights)
    run_info = json.loads((run / "run.json").read_text())
    assert run_info["status"] == "diverged" and run_info["diverged_epoch"] == 2
    assert run_info["epochs_completed"] == 1 and not (run / "model_final.keras").exists()


def test_objective_l2_penalises_kernels_not_biases(digits_spec: Path, tmp_path: Path) -> None:
    plain = train(load_spec(digits_spec, overrides={"train.max_epochs": 3}), tmp_path / "plain")
    l2 = train(
        load_spec(digits_spec, overrides={"train.max_epochs": 3, "train.objective_l2": 0.01}),
        tmp_path / "l2",
    )
    k_plain = [w for w in _weights(tmp_path / "plain" / "model_final.keras") if w.ndim > 1]
    k_l2 = [w for w in _weights(tmp_path / "l2" / "model_final.keras") if w.ndim > 1]
    assert sum(float((w**2).sum()) for w in k_l2) < 0.7 * sum(float((w**2).sum()) for w in k_plain)
    assert l2.history[0]["loss"] > plain.history[0]["loss"]  # the penalty is part of the loss


@pytest.mark.parametrize(
    "setting",
    [
        {"train.precision": "mixed_bfloat16"},
        {"train.precision": "mixed_float16"},
        {"train.jit_compile": True, "train.deterministic": False},
    ],
)
def test_precision_and_xla_settings_train(digits_spec: Path, tmp_path: Path, setting: dict) -> None:
    result = train(
        load_spec(digits_spec, overrides={**setting, "train.max_epochs": 6}), tmp_path / "run"
    )
    assert result.test_metrics["test_accuracy"] >= 0.85
    assert keras.config.dtype_policy().name == "float32"  # restored after the run
    model = keras.saving.load_model(tmp_path / "run" / "model_best.keras", safe_mode=True)
    expected = setting.get("train.precision", "float32")
    assert model.get_layer("conv1").dtype_policy.name == expected
    assert model.get_layer("output").dtype_policy.name == "float32"  # the softmax runs in float32
    assert model.outputs[0].dtype == "float32"

    ran = json.loads((tmp_path / "run" / "run.json").read_text())["execution"]
    assert ran["jit_compile"] is setting.get(
        "train.jit_compile", False
    )  # read back from the compiled model
    assert ran["dtype_policy"] == expected
    assert ran["layer_dtypes"] == {
        "image": expected,
        "conv1": expected,
        "pool1": expected,
        "hidden_flatten": expected,
        "hidden": expected,
        "output": "float32",
    }
    assert ran["strategy"] == "DefaultDistributionStrategy" and ran["devices"][0].endswith("CPU:0")
    assert ran["steps_per_execution"] == 32
    if expected == "mixed_float16":  # the loss-scale optimizer: 36 steps per epoch, no overflow
        assert ran["loss_scale"] == {"scale": 32768.0, "good_steps": 6 * 36}
    else:
        assert ran["loss_scale"] is None


def test_jit_compile_with_deterministic_is_a_located_spec_error(digits_spec: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(digits_spec, overrides={"train.jit_compile": True})
    message = str(caught.value)
    assert f"{digits_spec}:" in message and "train" in message
    assert "jit_compile: true cannot run with deterministic: true" in message
    assert "XLA" in message and "docs/training.md" in message


@pytest.mark.slow
def test_mnist_5k_small_net_reaches_accuracy(mnist_spec: Path, tmp_path: Path) -> None:
    result = train(load_spec(mnist_spec), tmp_path / "run")
    assert result.test_metrics["n_test"] == 1000
    assert result.test_metrics["test_accuracy"] >= 0.95
    lrs = [row["learning_rate"] for row in result.history]
    assert lrs[0] == pytest.approx(0.01) and lrs[1] == pytest.approx(0.05) and lrs[-1] < 0.01


def test_resume_refuses_a_finished_run_and_a_changed_spec(
    digits_spec: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    train(load_spec(digits_spec, overrides={"train.max_epochs": 2}), run)
    with pytest.raises(KerasbuildError, match="already finished"):
        train(load_spec(digits_spec, overrides={"train.max_epochs": 2}), run, resume=True)
    with pytest.raises(KerasbuildError, match="the spec differs"):
        train(load_spec(digits_spec, overrides={"train.max_epochs": 3}), run, resume=True)
    with pytest.raises(KerasbuildError, match="not a run directory"):
        train(load_spec(digits_spec), tmp_path / "nothing", resume=True)


def test_epoch_table_rows_highlight_the_best_values() -> None:
    from rich.console import Console

    from kerasbuild.fit.display import EpochTable

    table = EpochTable(Console(record=True, width=100))
    first = table.row(1, {"loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.9}, 2.5)
    second = table.row(2, {"loss": 0.6, "val_loss": 0.3, "val_accuracy": 0.85}, 2.0)
    assert "[blue]     0.50000[/blue]" in first and "1.25000" in first and "2.50s" in first
    assert "[blue]" not in second and "[green]     0.30000[/green]" in second
    assert "0.8500" in second and second.count("[green]") == 1


def test_regression_reports_rmse(digits_spec: Path, tmp_path: Path) -> None:
    overrides = {
        "train.regression": True,
        "train.update": "adam",
        "train.update_learning_rate": 0.01,
        "layers.output.num_units": 1,
        "layers.output.nonlinearity": "linear",
    }
    result = train(load_spec(digits_spec, overrides=overrides), tmp_path / "run")
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["task"] == "regression" and info["class_names"] is None
    assert {"loss", "rmse", "val_rmse"} <= set(result.history[0])
    # predicting the digit's value: the labels' standard deviation is 2.87
    assert result.test_metrics["test_rmse"] < 1.5
    assert result.test_metrics["test_loss"] == pytest.approx(
        result.test_metrics["test_rmse"] ** 2, rel=1e-3
    )
    from sklearn.datasets import load_digits

    from kerasbuild.runs.predict import load_predictor

    digits = load_digits()
    predicted = load_predictor(tmp_path / "run")(digits.images[:300])  # raw 0..16 pixels
    assert predicted.shape == (300, 1)
    assert (
        float(np.sqrt(np.mean((predicted[:, 0] - digits.target[:300]) ** 2))) < 2.0
    )  # labels: std 2.87
