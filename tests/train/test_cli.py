"""The train / evaluate / predict / plot / ensemble commands through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from kerasbuild.cli import app
from kerasbuild.cli.sets import parse_sets
from kerasbuild.errors import KerasbuildError

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    from .conftest import DIGITS_SPEC

    base = tmp_path_factory.mktemp("cli")
    spec = base / "digits.yaml"
    spec.write_text(DIGITS_SPEC)
    for name, seed in (("a", 1), ("b", 2)):
        result = _invoke(
            "train",
            spec,
            "--set",
            "train.max_epochs=5",
            "--set",
            f"train.seed={seed}",
            "--run-dir",
            base / name,
        )
        assert result.exit_code == 0, result.output
        assert "test accuracy" in result.output and "359 held-out examples" in result.output
    return spec, base / "a", base / "b"


def test_train_set_values_are_yaml_scalars(two_runs) -> None:
    _, run, _ = two_runs
    info = json.loads((run / "run.json").read_text())
    assert info["epochs_completed"] == 5 and info["seed"] == 1
    assert parse_sets(["train.update=adam", "data.resize=[16, 16]", "train.objective_l2=1e-4"]) == {
        "train.update": "adam",
        "data.resize": [16, 16],
        "train.objective_l2": 1e-4,
    }
    with pytest.raises(KerasbuildError, match="expected KEY=VALUE"):
        parse_sets(["train.max_epochs"])


def test_train_refuses_an_existing_run_dir_and_bad_sets(two_runs) -> None:
    spec, run, _ = two_runs
    result = _invoke("train", spec, "--run-dir", run)
    assert result.exit_code == 2 and "already exists; pass --overwrite" in result.output
    result = _invoke("train", spec, "--set", "train.max_epoch=3", "--run-dir", run.parent / "typo")
    assert result.exit_code == 1 and "max_epoch" in result.output and "max_epochs" in result.output
    assert "Traceback" not in result.output


def test_train_nan_exits_3(two_runs) -> None:
    spec, run, _ = two_runs
    result = _invoke(
        "train",
        spec,
        "--set",
        "train.update=sgd",
        "--set",
        "train.update_learning_rate=1e12",
        "--run-dir",
        run.parent / "nan",
    )
    assert result.exit_code == 3, result.output
    assert "loss became NaN" in result.output and "Traceback" not in result.output


def test_evaluate_reproduces_the_test_metrics(two_runs) -> None:
    _, run, _ = two_runs
    result = _invoke("evaluate", run)
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    scores = dict(part.split("=") for part in result.output.split())
    assert int(scores["n"]) == 359
    assert float(scores["accuracy"]) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    result = _invoke("evaluate", run, "--data", "builtin:digits")
    scores = dict(part.split("=") for part in result.output.split())
    assert int(scores["n"]) == 1797 and float(scores["accuracy"]) >= 0.9


def test_predict_writes_probabilities_and_labels(two_runs, tmp_path: Path) -> None:
    _, run, _ = two_runs
    digits = load_digits()
    np.savez(tmp_path / "in.npz", x=digits.images[:200])  # raw 0..16 pixels, (N, 8, 8)
    result = _invoke("predict", run, tmp_path / "in.npz", "-o", tmp_path / "out.npz")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "out.npz") as out:
        assert out["y"].shape == (200, 10)
        np.testing.assert_allclose(out["y"].sum(axis=1), 1.0, atol=1e-5)
        assert (out["labels"] == digits.target[:200]).mean() >= 0.9
    np.savez(tmp_path / "bad.npz", images=digits.images[:2])
    result = _invoke("predict", run, tmp_path / "bad.npz", "-o", tmp_path / "o.npz")
    assert result.exit_code == 1 and "no array named 'x'" in result.output
    np.savez(tmp_path / "shape.npz", x=np.zeros((2, 9, 9)))
    result = _invoke("predict", run, tmp_path / "shape.npz", "-o", tmp_path / "o.npz")
    assert result.exit_code == 1 and "expected (N, 8, 8, 1)" in result.output


def test_plot_draws_loss_and_kernels(two_runs) -> None:
    _, run, _ = two_runs
    result = _invoke("plot", run, "--filters", "conv1")
    assert result.exit_code == 0, result.output
    for name in ("loss.png", "filters_conv1.png"):
        assert (run / name).read_bytes()[:4] == b"\x89PNG"
    result = _invoke("plot", run, "--filters", "hidden")
    assert result.exit_code == 1 and "no 2-D convolution kernel" in result.output


def test_ensemble_averages_members_into_a_run_directory(two_runs) -> None:
    _, a, b = two_runs
    out = a.parent / "ens"
    result = _invoke("ensemble", a, b, "-o", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    members = [m["test_accuracy"] for m in metrics["members"].values()]
    assert metrics["test_accuracy"] >= min(members) - 0.01
    info = json.loads((out / "run.json").read_text())
    assert info["ensemble"]["combine"] == "mean" and len(info["ensemble"]["members"]) == 2
    assert {"model_best.keras", "spec.yaml", "run.json", "metrics.json"} <= {
        p.name for p in out.iterdir()
    }
    evaluated = _invoke("evaluate", out)
    scores = dict(part.split("=") for part in evaluated.output.split())
    assert float(scores["accuracy"]) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert float(scores["loss"]) < 1.0  # probabilities averaged, not mistaken for logits
