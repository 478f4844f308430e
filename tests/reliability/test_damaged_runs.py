"""A damaged run directory (truncated ``run.json``, a model file that is not a ``.keras``
archive) is reported as an error naming the file, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasbuild.errors import KerasbuildError
from kerasbuild.runs.rundir import load_run_model, read_run


@pytest.fixture
def damaged_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text('{"status": "finished", "task": "classi')
    (run / "model_best.keras").write_bytes(b"PK\x03\x04 truncated")
    return run


def test_truncated_run_json_names_the_file(damaged_run):
    with pytest.raises(KerasbuildError) as info:
        read_run(damaged_run)
    assert str(info.value).startswith(f"{damaged_run / 'run.json'}: not valid JSON")


def test_damaged_model_file_names_the_file(damaged_run):
    with pytest.raises(KerasbuildError) as info:
        load_run_model(damaged_run)
    assert str(info.value) == (
        f"{damaged_run / 'model_best.keras'}: not a valid .keras archive (a .keras "
        "file is a zip archive); the file may be truncated or not a Keras model"
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", ["evaluate", "predict", "plot"])
def test_cli_on_damaged_run_exits_1_without_traceback(damaged_run, tmp_path, command):
    extra = {"predict": [str(tmp_path / "x.npz"), "-o", str(tmp_path / "p.csv")]}.get(command, [])
    if command == "predict":
        import numpy as np

        np.savez(tmp_path / "x.npz", x=np.zeros((2, 4), "float32"))
        (damaged_run / "run.json").write_text(
            json.dumps({"status": "finished", "task": "classification"})
        )
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kerasbuild"), command, str(damaged_run), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: {damaged_run}/" in result.stderr


@pytest.mark.slow
def test_export_of_a_run_with_a_tampered_spec_is_an_error(tmp_path):
    from kerasbuild.build import build_model

    run = tmp_path / "run"
    run.mkdir()
    spec = {
        "name": "tiny",
        "input": {"shape": [4]},
        "layers": [
            {"name": "out", "type": "DenseLayer", "num_units": 2, "nonlinearity": "softmax"}
        ],
    }
    build_model(spec).save(run / "model_best.keras")
    (run / "run.json").write_text("{}")
    (run / "spec.yaml").write_text(
        "train: !!python/object/apply:os.system ['touch /tmp/kerasbuild-corpus-pwned']\n"
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "kerasbuild"),
            "export",
            str(run),
            "--out",
            str(tmp_path / "models"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "error: the run's spec.yaml:1:8: train: YAML tag" in result.stderr
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
    assert not Path("/tmp/kerasbuild-corpus-pwned").exists()
