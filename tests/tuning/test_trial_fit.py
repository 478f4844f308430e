"""A trial trains through ``prepare_fit``, as ``kerasbuild train`` trains its spec: a diverging
trial fails with its reason and is never best, Keras' 'ran out of data' and 'Skipping variable
loading for optimizer' warnings do not occur, and a trial's score is the run's own."""

from __future__ import annotations

import json
import warnings

import pytest

from kerasbuild.runs.runner import train
from kerasbuild.spec.loader import load_spec
from kerasbuild.tuning.job import load_job
from kerasbuild.tuning.runner import run_search

from .test_search import HYPERBAND

pytestmark = pytest.mark.slow

KERAS_WARNINGS = ("Your input ran out of data", "Skipping variable loading for optimizer")


def test_a_diverging_trial_fails_with_its_reason_is_never_best_and_keras_does_not_warn(
    make_job, space_text, tmp_path
):
    # a learning rate of 10^30 makes the loss NaN in the first epoch (weights overflow to inf)
    space = space_text.replace(
        "{hp: float, min: 0.03, max: 0.3, sampling: log, default: 0.1}",
        "{hp: choice, values: [0.1, 1.0e+30]}",
    )
    job = load_job(make_job(HYPERBAND.replace("seed: 0", "seed: 3"), space=space))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = run_search(job)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if m.startswith(KERAS_WARNINGS)]

    diverging = [t for t in results.trials if t.values["train.update_learning_rate"] == 1e30]
    sane = [t for t in results.trials if t.values["train.update_learning_rate"] == 0.1]
    assert diverging and sane
    assert {t.status for t in diverging} == {"FAILED"}
    assert all(t.score is None for t in diverging)
    assert all(
        "training diverged: the training loss became NaN in epoch 1" in t.error for t in diverging
    )
    assert {t.status for t in sane} == {"COMPLETED"}
    assert results.best.values["train.update_learning_rate"] == 0.1
    assert results.best.score > 0.5  # 10 classes: chance is 0.1
    # Hyperband continued a first-round trial (weights and optimiser state) in a later round
    assert any(t.epochs == 3 for t in sane)

    saved = json.loads((tmp_path / "search" / "job" / "results.json").read_text())
    assert saved["best"]["values"]["train.update_learning_rate"] == 0.1
    failed = [t for t in saved["trials"] if t["status"] == "FAILED"]
    assert len(failed) == len(diverging)
    assert all("became NaN" in t["error"] for t in failed)


def test_a_trial_scores_what_kerasbuild_train_measures_for_its_values(
    make_job, space_text, tmp_path
):
    job = load_job(
        make_job(
            "spec: space.yaml\ntuner: random\nmax_trials: 1\nobjective: val_accuracy\n"
            "directory: search\nseed: 0\n",
            space=space_text.replace("  seed: 0\n", "  seed: 0\n  deterministic: true\n"),
        )
    )
    results = run_search(job)
    (trial,) = results.trials
    assert trial.status == "COMPLETED"
    best_spec = tmp_path / "search" / "job" / "best_spec.yaml"
    run = train(load_spec(best_spec), tmp_path / "run")
    # same seeds, op determinism, data draws and callbacks: the same best validation accuracy
    assert trial.score == pytest.approx(max(row["val_accuracy"] for row in run.history), abs=1e-6)
