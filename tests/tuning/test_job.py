"""Search-job files: validation with located errors, the example jobs, CLI modes (no training)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kerasbuild.cli import app
from kerasbuild.errors import SpecError
from kerasbuild.tuning.job import load_job

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_job(path)
    return [str(p) for p in caught.value.problems]


def test_job_errors_are_located_with_line_column_and_path(make_job):
    path = make_job("spec: space.yaml\ntuner: hyperbnd\nobjective: val_accuracy\nmax_trial: 3\n")
    assert _problems(path) == [
        f"{path}:2:1: tuner: Input should be 'random', 'bayesian', 'hyperband' or 'grid', got "
        "'hyperbnd'",
        f"{path}:4:1: max_trial: unknown field 'max_trial' (did you mean 'max_trials'?); expected "
        "one of: "
        "spec, tuner, objective, direction, max_trials, executions_per_trial, hyperband, "
        "early_stopping, "
        "max_retries_per_trial, max_consecutive_failed_trials, trial_timeout, directory, "
        "project_name, "
        "seed, overrides",
    ]


@pytest.mark.parametrize(
    ("job", "where", "message"),
    [
        (
            "spec: space.yaml\nobjective: val_acuracy\n",
            "2:1: objective",
            "'val_acuracy' is not logged by this spec's training (did you mean 'val_accuracy'?)",
        ),
        ("spec: missing.yaml\n", "1:1: spec", "spec file not found"),
        (
            "spec: space.yaml\ntuner: hyperband\nmax_trials: 4\n",
            "1:1: <root>",
            "hyperband sets its own number of trials",
        ),
        (
            "spec: space.yaml\nhyperband: {factor: 1}\n",
            "2:13: hyperband.factor",
            "Input should be greater than or equal to 2, got 1",
        ),
        (
            "spec: space.yaml\nearly_stopping: {patience: 5}\n",
            "2:18: early_stopping.patience",
            "patience 5 is not below the most epochs a trial trains (3)",
        ),
    ],
)
def test_each_job_mistake_names_its_field(make_job, job, where, message):
    path = make_job(job)
    problems = _problems(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{where}: ")
    assert message in problems[0]


def test_a_spec_without_placeholders_is_refused(make_job, space_text):
    plain = space_text.replace("{hp: choice, values: [16, 32, 64], default: 32}", "32")
    for name in ("layers.drop.p", "update_learning_rate", "batch_size", "max_epochs"):
        assert name.split(".")[-1] in plain
    plain = "\n".join(
        line for line in plain.splitlines() if "{hp:" not in line and "when" not in line
    )
    plain = plain.replace("  - {name: drop, type: DropoutLayer, p:", "")
    path = make_job("spec: space.yaml\n", space=plain)
    assert "has no {hp: ...} placeholders" in _problems(path)[0]


def test_spec_errors_inside_the_searched_spec_point_into_the_spec(make_job, space_text):
    path = make_job("spec: space.yaml\n", space=space_text.replace("max: 0.3,", "max: 0.01,"))
    problems = _problems(path)
    assert problems[0].startswith(f"{path.parent / 'space.yaml'}:11:")
    assert "min must be < max" in problems[0]


@pytest.mark.parametrize("job", ["nielsen_hyperband.yaml", "fkp_random.yaml"])
def test_example_jobs_validate(job):
    loaded = load_job(REPO / "tuning" / job)
    assert loaded.project_dir == REPO / "runs" / "tuning" / loaded.project_name
    result = runner.invoke(app, ["tune", str(REPO / "tuning" / job), "--dry-run"])
    assert result.exit_code == 0, result.output
    for placeholder in loaded.search_spec.placeholders:
        assert placeholder.name[:18] in result.output


def test_nielsen_job_searches_the_published_space():
    loaded = load_job(REPO / "tuning" / "nielsen_hyperband.yaml")
    params = {p.name: p.param for p in loaded.search_spec.placeholders}
    assert params["layers.fc1.num_units"].values == [100, 300, 1000]
    assert params["train.update_learning_rate"].sampling == "log"
    # with every default the searched spec is the published net
    assert loaded.search_spec.graph.total_params == 1_672_570
    assert (loaded.job.tuner, loaded.job.objective, loaded.job.hyperband.max_epochs) == (
        "hyperband",
        "val_accuracy",
        9,
    )


def test_fkp_job_without_the_kaggle_csv_stops_before_any_trial_naming_the_file():
    job = REPO / "tuning" / "fkp_random.yaml"
    loaded = load_job(job)
    assert loaded.search_spec.graph.total_params == 16_561_502
    csv = REPO / "data" / "kaggle-facial-keypoints" / "training.csv"
    if csv.exists():
        pytest.skip(f"{csv} is present here")
    result = runner.invoke(app, ["tune", str(job)])
    assert result.exit_code == 1
    assert "fkp_net3_space.yaml:" in result.output and "data.source:" in result.output
    assert "data/kaggle-facial-keypoints/training.csv does not exist" in result.output
    assert not (loaded.project_dir / "oracle.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chief"], "--chief needs --port"),
        (["--worker", "w1"], "--worker ID and --oracle HOST:PORT go together"),
        (["--chief", "--port", "1", "--workers", "2"], "choose one of --chief, --workers"),
        (["--worker", "oracle", "--oracle", "127.0.0.1:1"], "'oracle' cannot be a worker id"),
        (["--worker", "w-chief", "--oracle", "127.0.0.1:1"], "'w-chief' cannot be a worker id"),
        (["--worker", "w1", "--oracle", "127.0.0.1"], "--oracle must be HOST:PORT"),
    ],
)
def test_contradictory_modes_exit_2(make_job, args, message):
    path = make_job("spec: space.yaml\n")
    result = runner.invoke(app, ["tune", str(path), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_loading_a_job_imports_neither_tensorflow_nor_keras() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from kerasbuild.tuning.job import load_job; "
        "load_job('tuning/nielsen_hyperband.yaml'); "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
