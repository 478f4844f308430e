"""The job's tuner: Keras Tuner's oracle for each kind, with the job's settings (no training)."""

from __future__ import annotations

import pytest
from keras_tuner import oracles
from typer.testing import CliRunner

from kerasbuild.cli import app
from kerasbuild.tuning.job import load_job
from kerasbuild.tuning.runner import SpecHyperband, build_tuner

runner = CliRunner()
STEPPED = "sampling: log, default: 0.1}"


@pytest.mark.parametrize(
    ("kind", "oracle_class"),
    [
        ("random", oracles.RandomSearchOracle),
        ("bayesian", oracles.BayesianOptimizationOracle),
        ("hyperband", oracles.HyperbandOracle),
        ("grid", oracles.GridSearchOracle),
    ],
)
def test_each_tuner_is_keras_tuners_own_with_the_job_settings(
    make_job, space_text, kind, oracle_class
):
    space = space_text.replace(STEPPED, "step: 2, sampling: log, default: 0.12}").replace(
        "min: 0.03, max: 0.3", "min: 0.03, max: 0.48"
    )
    budget = "hyperband: {max_epochs: 4, factor: 2}" if kind == "hyperband" else "max_trials: 7"
    path = make_job(
        f"spec: space.yaml\ntuner: {kind}\n{budget}\nobjective: val_loss\n"
        "max_retries_per_trial: 2\nmax_consecutive_failed_trials: 4\nexecutions_per_trial: 2\n"
        "directory: search\n",
        space=space,
    )
    tuner = build_tuner(load_job(path))
    oracle = tuner.oracle
    assert isinstance(oracle, oracle_class)
    assert isinstance(tuner, SpecHyperband) == (kind == "hyperband")
    assert (oracle.objective.name, oracle.objective.direction) == ("val_loss", "min")
    assert (oracle.max_retries_per_trial, oracle.failure_limit, tuner.executions_per_trial) == (
        2,
        4,
        2,
    )
    if kind == "hyperband":
        assert (oracle.max_epochs, oracle.factor) == (4, 2)
    else:
        assert oracle.max_trials == 7
    assert [hp.name for hp in oracle.get_space().space] == [
        "layers.hidden.num_units",
        "layers.drop.p",
        "train.update_learning_rate",
        "train.batch_size",
        "train.max_epochs",
    ]
    assert tuner.project_dir == str(path.parent / "search" / "job")


def test_grid_search_refuses_a_continuous_float_before_any_trial(make_job, space_text, tmp_path):
    path = make_job("spec: space.yaml\ntuner: grid\ndirectory: search\n")
    result = runner.invoke(app, ["tune", str(path)])
    assert result.exit_code == 1
    line = next(
        i for i, text in enumerate(space_text.splitlines(), 1) if "update_learning_rate" in text
    )
    assert result.output.startswith(f"{tmp_path / 'space.yaml'}:{line}:")
    assert (
        "grid search needs a finite space: give placeholder 'train.update_learning_rate' a step"
        in result.output
    )
    assert not list((tmp_path / "search").glob("*/trial_*"))


def _first_values(make_job, seed: int, project: str) -> list[dict]:
    path = make_job(
        f"spec: space.yaml\nmax_trials: 3\nseed: {seed}\ndirectory: search\n"
        f"project_name: {project}\n"
    )
    oracle = build_tuner(load_job(path)).oracle
    return [oracle.create_trial(f"tuner{i}").hyperparameters.values for i in range(3)]


def test_the_job_seed_fixes_the_sampled_values_seed_0_included(make_job):
    assert _first_values(make_job, 0, "a") == _first_values(make_job, 0, "b")
    assert _first_values(make_job, 0, "c") != _first_values(make_job, 1, "d")


def test_a_project_is_not_resumed_with_a_different_search_spec(make_job, space_text, tmp_path):
    path = make_job("spec: space.yaml\nmax_trials: 2\ndirectory: search\n")
    build_tuner(load_job(path))
    assert (tmp_path / "search" / "job" / "search_spec.yaml").is_file()
    build_tuner(load_job(path))  # the same spec: fine
    (tmp_path / "space.yaml").write_text(
        space_text.replace("values: [16, 32, 64]", "values: [16, 32, 128]")
    )
    result = runner.invoke(app, ["tune", str(path)])
    assert result.exit_code == 2
    assert "holds a search of a different spec" in result.output
