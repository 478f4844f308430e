"""Real local searches with tiny budgets on scikit-learn's digits: Hyperband end to end, the
winner as a plain spec that trains, resuming, and a search whose every trial raises."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from kerasbuild.cli import app
from kerasbuild.spec.loader import load_spec
from kerasbuild.tuning.job import load_job
from kerasbuild.tuning.runner import run_search

pytestmark = pytest.mark.slow
runner = CliRunner()

HYPERBAND = """\
spec: space.yaml
tuner: hyperband
objective: val_accuracy
hyperband: {max_epochs: 3, factor: 3}
directory: search
seed: 0
"""


def _hparams_of(run_dir) -> str:
    """The serialised HParams plugin data written into a TensorBoard run directory."""
    import tensorflow as tf

    found = []
    for events in run_dir.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "hparams":
                    found.append(value.metadata.plugin_data.content.decode("utf-8", "replace"))
    return "\n".join(found)


def _epochs_logged(run_dir) -> int:
    """How many epochs TensorBoard logged a loss for in ``run_dir``."""
    import tensorflow as tf

    return sum(
        1
        for events in run_dir.glob("events.out.tfevents.*")
        for event in tf.compat.v1.train.summary_iterator(str(events))
        for value in event.summary.value
        if value.tag == "epoch_loss"
    )


def _trial_files(project):
    return {p.parent.name: p.stat().st_mtime_ns for p in project.glob("trial_*/trial.json")}


def test_hyperband_search_writes_ranked_results_and_a_plain_best_spec_that_trains(
    make_job, tmp_path
):
    job = load_job(make_job(HYPERBAND))
    results = run_search(job)
    project = tmp_path / "search" / "job"
    # max_epochs 3, factor 3: a bracket of 3 one-epoch trials + 1 promoted to 3 epochs, and
    # a bracket of 2 three-epoch trials
    assert len(results.trials) == 6
    assert [t.status for t in results.trials] == ["COMPLETED"] * 6
    assert sorted(t.epochs for t in results.trials) == [1, 1, 1, 3, 3, 3]
    scores = [t.score for t in results.trials]
    assert scores == sorted(scores, reverse=True)
    assert results.best.score > 0.5  # 10 classes: chance is 0.1
    saved = json.loads((project / "results.json").read_text())
    assert saved["best"]["trial_id"] == results.best.trial_id
    assert saved["counts"] == {"COMPLETED": 6}
    assert [t["score"] for t in saved["trials"]] == scores
    # TensorBoard: one HParams run per trial, with the placeholders as hyper-parameters
    runs = sorted((project / "tensorboard").glob("*/execution0"))
    assert len(runs) == 6
    assert all("layers.hidden.num_units" in _hparams_of(run) for run in runs)

    best_file = project / "best_spec.yaml"
    text = best_file.read_text()
    assert "hp:" not in text
    best = load_spec(best_file)
    assert best.placeholders == []
    values = results.best.values
    assert best.spec.train.batch_size == values["train.batch_size"]
    assert best.spec.train.update_learning_rate == pytest.approx(
        values["train.update_learning_rate"]
    )
    hidden = values["layers.hidden.num_units"]
    assert best.graph.total_params == 64 * hidden + hidden + hidden * 10 + 10

    from kerasbuild.runs.runner import train

    trained = train(load_spec(best_file, overrides={"train.max_epochs": 3}), tmp_path / "run")
    assert trained.status == "complete"
    assert trained.epochs_completed == 3
    assert trained.test_metrics["test_accuracy"] > 0.6


def test_running_the_same_job_again_resumes_without_repeating_trials(make_job, tmp_path):
    job_text = (
        "spec: space.yaml\ntuner: random\nobjective: val_loss\n"
        "max_trials: 2\ndirectory: search\nseed: 1\n"
    )
    path = make_job(job_text)
    project = tmp_path / "search" / "job"
    started = time.perf_counter()
    first = run_search(load_job(path))
    first_s = time.perf_counter() - started
    done = _trial_files(project)
    assert sorted(done) == ["trial_0", "trial_1"]

    started = time.perf_counter()
    again = run_search(load_job(path))
    again_s = time.perf_counter() - started
    assert _trial_files(project) == done  # not one trial file rewritten
    assert [(t.trial_id, t.score) for t in again.trials] == [
        (t.trial_id, t.score) for t in first.trials
    ]
    assert again_s < first_s

    path.write_text(job_text.replace("max_trials: 2", "max_trials: 3"))
    more = run_search(load_job(path))
    files = _trial_files(project)
    assert sorted(files) == ["trial_0", "trial_1", "trial_2"]
    assert {k: files[k] for k in done} == done
    assert len(more.completed) == 3
    # each trial trained for its own train.max_epochs (a placeholder, applied in HyperModel.fit);
    # seed 1 samples both 2 and 3
    assert {t.values["train.max_epochs"] for t in more.trials} == {2, 3}
    saved = json.loads((project / "results.json").read_text())["trials"]
    assert [t["epochs"] for t in saved] == [t.values["train.max_epochs"] for t in more.trials]
    for trial in more.trials:
        run = project / "tensorboard" / trial.trial_id / "execution0" / "validation"
        assert _epochs_logged(run) == trial.values["train.max_epochs"] == trial.epochs


def test_a_trial_that_always_raises_ends_the_search_with_a_clear_report(
    make_job, space_text, tmp_path
):
    # no metric 'auc' is logged: every trial fails when its fit is prepared (the spec validates,
    # because which values an epoch logs is known only with the data)
    space = space_text.replace(
        "  update_momentum: 0.9\n",
        "  update_momentum: 0.9\n  on_epoch_finished: [{type: EarlyStopping, monitor: val_auc}]\n",
    )
    path = make_job(
        "spec: space.yaml\nmax_trials: 6\nmax_consecutive_failed_trials: 2\n"
        "max_retries_per_trial: 1\ndirectory: search\n",
        space=space,
    )
    result = runner.invoke(app, ["tune", str(path)])
    assert result.exit_code == 1
    assert "no trial completed" in result.output
    assert "the last 2 trials failed (max_consecutive_failed_trials: 2)" in result.output
    saved = json.loads((tmp_path / "search" / "job" / "results.json").read_text())
    assert saved["counts"] == {"FAILED": 2}
    assert saved["best"] is None
    assert "val_auc" in saved["stopped_reason"]
    assert all("val_auc" in t["error"] for t in saved["trials"])
    assert not (tmp_path / "search" / "job" / "best_spec.yaml").exists()
