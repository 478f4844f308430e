"""Malformed search-job files (``kerasbuild tune JOB``) are refused like specs: a located
``FILE:LINE:COL: field.path: message`` per problem, no code run, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasbuild.errors import SpecError, format_path
from kerasbuild.tuning.job import load_job

from .cases import CORPUS, PROBLEM_RE, SENTINEL, VALID

SPACE = VALID / "space.yaml"
FC100 = Path(__file__).parents[2] / "specs" / "nielsen_fc100.yaml"
BOMB = "".join(
    f"{c}: &{c} [" + ",".join([f"*{p}"] * 10 if p else ["x"] * 10) + "]\n"
    for p, c in zip([None, "a", "b", "c", "d", "e"], "abcdef")
)

# name: (job text, file the problem is in ("job" or a path), line, field path, message fragment)
JOBS = {
    "python_tag": (
        "spec: !!python/object/apply:os.system ['touch /tmp/kerasbuild-corpus-pwned']\n",
        "job",
        1,
        "spec",
        "python/object/apply:os.system' is not allowed",
    ),
    "alias_bomb": (BOMB + "spec: *f\n", "job", 1, None, "more than 200,000 values"),
    "duplicate_key": (
        f"spec: {SPACE}\ntuner: random\ntuner: grid\n",
        "job",
        3,
        "<root>",
        'duplicate key "tuner"',
    ),
    "typo_key": (f"spec: {SPACE}\ntunner: random\n", "job", 2, "tunner", "(did you mean 'tuner'?)"),
    "unknown_tuner": (f"spec: {SPACE}\ntuner: genetic\n", "job", 2, "tuner", "got 'genetic'"),
    "spec_missing": ("spec: nowhere/space.yaml\n", "job", 1, "spec", "spec file not found"),
    "no_placeholders": (f"spec: {FC100}\n", "job", 1, "spec", "has no {hp: ...} placeholders"),
    "objective_injection": (
        f"spec: {SPACE}\nobjective: 'val_accuracy; rm -rf /'\n",
        "job",
        2,
        "objective",
        "objective must be a metric name",
    ),
    "negative_trials": (
        f"spec: {SPACE}\nmax_trials: -1\n",
        "job",
        2,
        "max_trials",
        "greater than or equal to 1",
    ),
    "hyperband_trials": (
        f"spec: {SPACE}\ntuner: hyperband\nmax_trials: 3\n",
        "job",
        1,
        "<root>",
        "remove max_trials",
    ),
    "project_traversal": (
        f"spec: {SPACE}\nproject_name: ../../etc\n",
        "job",
        2,
        "project_name",
        "must be a plain file name",
    ),
    "nan_timeout": (
        f"spec: {SPACE}\ntrial_timeout: .nan\n",
        "job",
        2,
        "trial_timeout",
        "nan is not allowed",
    ),
    "placeholder_in_job": (
        f"spec: {SPACE}\nmax_trials: {{hp: int, min: 1, max: 3}}\n",
        "job",
        2,
        "max_trials",
        "valid integer",
    ),
    "empty": ("", "job", None, "<root>", "file is empty"),
    "root_list": ("- spec\n", "job", 1, "<root>", "must be a mapping"),
    "lambda_spec": (
        f"spec: {CORPUS / 'lambda_layer.yaml'}\n",
        str(CORPUS / "lambda_layer.yaml"),
        4,
        "layers.hack.type",
        "code-loading layers",
    ),
    "override_nowhere": (
        f"spec: {SPACE}\noverrides: {{layers.nope.num_units: 3}}\n",
        str(SPACE),
        None,
        "<root>",
        "no item 'nope'",
    ),
}


@pytest.mark.parametrize("name", sorted(JOBS))
def test_malformed_job_is_refused_with_located_problem(tmp_path, name):
    text, where, line, path, fragment = JOBS[name]
    job = tmp_path / f"{name}.yaml"
    job.write_text(text)
    with pytest.raises(SpecError) as info:
        load_job(job)
    for problem in info.value.problems:
        assert PROBLEM_RE.match(str(problem)), str(problem)
    hit = next(p for p in info.value.problems if fragment in p.message)
    assert hit.file == (str(job) if where == "job" else where)
    assert hit.line == line
    if path is not None:
        assert format_path(hit.path) == path
    assert not SENTINEL.exists()


def test_valid_job_loads(tmp_path):
    job = tmp_path / "ok.yaml"
    job.write_text(f"spec: {SPACE}\ntuner: random\nmax_trials: 2\n")
    loaded = load_job(job)
    assert [p.name for p in loaded.search_spec.placeholders] == [
        "layers.hidden.num_units",
        "train.update_learning_rate",
    ]


def test_tune_dry_run_fails_cleanly(tmp_path):
    job = tmp_path / "typo.yaml"
    job.write_text(JOBS["typo_key"][0])
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kerasbuild"), "tune", str(job), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{job}:2:1: tunner: unknown field 'tunner' (did you mean 'tuner'?)" in result.stderr
