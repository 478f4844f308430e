"""Data paths that do not exist are refused with a located error before any data is read or
any run directory is written (and, in-process, without importing TensorFlow)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kerasbuild.errors import SpecError

from .cases import PROBLEM_RE

SPEC = textwrap.dedent("""\
    name: missing_data
    input: {shape: [8, 8, 1]}
    layers:
      - {name: out, type: DenseLayer, num_units: 10, nonlinearity: softmax}
    train: {max_epochs: 1}
    data: %s
""")


def write(tmp_path: Path, data_line: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC % data_line)
    return path


CHECK = textwrap.dedent("""
    import sys
    from kerasbuild.data.paths import check_data
    from kerasbuild.errors import SpecError
    from kerasbuild.spec.loader import load_spec
    try:
        check_data(load_spec(sys.argv[1]))
        print("ok")
    except SpecError as exc:
        print(exc)
    print("tensorflow imported:", "tensorflow" in sys.modules)
""")


@pytest.mark.parametrize(
    ("data_line", "field", "message"),
    [
        (
            "{source: no/such/file.npz}",
            "data.source",
            "no/such/file.npz does not exist (relative to ",
        ),
        (
            "{source: ../../nowhere/training.csv}",
            "data.source",
            "nowhere/training.csv does not exist (relative to ",
        ),
        ("{source: /nonexistent/images/}", "data.source", "/nonexistent/images does not exist"),
        (
            "{source: 'tfds:mnist', data_dir: missing_tfds_dir}",
            "data.data_dir",
            "missing_tfds_dir does not exist",
        ),
    ],
)
def test_missing_data_path_is_located_without_tensorflow(tmp_path, data_line, field, message):
    path = write(tmp_path, data_line)
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    match = PROBLEM_RE.match(first)
    assert match, result.stdout
    assert (match["file"], match["line"], match["path"]) == (str(path), "6", field)
    assert message in match["message"]
    assert "tensorflow imported: False" in result.stdout


def test_existing_relative_path_passes(tmp_path):
    from kerasbuild.data.paths import check_data
    from kerasbuild.spec.loader import load_spec

    (tmp_path / "digits.npz").write_bytes(b"")
    check_data(load_spec(write(tmp_path, "{source: digits.npz}")))
    with pytest.raises(SpecError):
        check_data(load_spec(write(tmp_path, "{source: digit.npz}")))


@pytest.mark.slow
def test_train_stops_before_writing_a_run_when_data_is_missing(tmp_path):
    spec = write(tmp_path, "{source: no/such/file.npz}")
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "kerasbuild"),
            "train",
            str(spec),
            "--run-dir",
            str(run_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    match = PROBLEM_RE.match(last)
    assert match, result.stderr
    assert (match["file"], match["line"], match["path"]) == (str(spec), "6", "data.source")
    assert "no/such/file.npz does not exist" in match["message"]
    assert not run_dir.exists()
