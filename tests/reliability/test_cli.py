"""The real ``kerasbuild`` command on malformed input: exit 1, one located line per problem,
no traceback, bounded time; loading every case imports no TensorFlow and stays small."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .cases import CORPUS, PROBLEM_RE, SENTINEL, VALID, static_cases, write_generated

CASES = static_cases()
SCRIPT = Path(sys.executable).parent / "kerasbuild"
KERASBUILD = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "kerasbuild.cli"]
"""The installed console script (what users run), or the module when it is not installed."""
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "COLUMNS": "80"}


def run(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*KERASBUILD, *args], capture_output=True, text=True, timeout=timeout, env=ENV
    )


def assert_clean_failure(result: subprocess.CompletedProcess) -> list[re.Match]:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines
    matches = [PROBLEM_RE.match(line) for line in lines]
    assert all(matches), result.stderr
    return matches


def test_validate_reports_every_corpus_file_located():
    files = sorted(CORPUS.iterdir())
    result = run("validate", *map(str, files), timeout=300)
    matches = assert_clean_failure(result)
    by_file: dict[str, list] = {}
    for match in matches:
        by_file.setdefault(match["file"], []).append(match)
    assert set(by_file) == {str(f) for f in files}
    for f in files:
        expected = CASES[f.name]
        found = by_file[str(f)]
        assert any(expected["message"] in m["message"] for m in found), (f.name, found)
        if expected["line"] is not None:
            assert any(m["line"] == str(expected["line"]) for m in found), (f.name, expected)
    assert not SENTINEL.exists()


SUBSET = [
    "python_object_apply.yaml",
    "python_name.yaml",
    "alias_bomb.yaml",
    "lambda_layer.yaml",
    "tfsm_layer.yaml",
    "params_1e12.yaml",
    "giant_input.yaml",
    "duplicate_keys.json",
    "trailing_garbage.json",
    "typo_layer_field.yaml",
    "cycle.yaml",
    "merge_mismatch.yaml",
    "hp_min_gt_max.yaml",
    "non_utf8.yaml",
    "multi_document.yaml",
    "empty.yaml",
]


@pytest.mark.parametrize("name", SUBSET)
def test_validate_exits_1_with_located_first_line(name):
    path = CORPUS / name
    expected = CASES[name]
    matches = assert_clean_failure(run("validate", str(path)))
    first = next(m for m in matches if expected["message"] in m["message"])
    assert first["file"] == str(path)
    assert first["line"] == (None if expected["line"] is None else str(expected["line"]))
    if expected["path"] is not None:
        assert first["path"] == expected["path"]


@pytest.mark.parametrize("command", ["summary", "fmt"])
@pytest.mark.parametrize(
    "name", ["python_object_apply.yaml", "lambda_layer.yaml", "cycle.yaml", "non_utf8.yaml"]
)
def test_summary_and_fmt_fail_cleanly(command, name):
    assert_clean_failure(run(command, str(CORPUS / name)))


@pytest.mark.parametrize(
    "name", ["deep_list.yaml", "deep_map.json", "huge_file.yaml", "layers_100k.json"]
)
def test_generated_cases_fail_cleanly_in_bounded_time(tmp_path, name):
    expected = write_generated(tmp_path)[name]
    matches = assert_clean_failure(run("validate", str(tmp_path / name)))
    assert expected["message"] in matches[0]["message"]


def test_paths_that_cannot_be_read_fail_cleanly(tmp_path):
    for target in (tmp_path / "missing.yaml", tmp_path, Path("/dev/zero"), tmp_path / ("x" * 5000)):
        result = run("validate", str(target))
        assert_clean_failure(result)
    assert "file not found" in run("validate", str(tmp_path / "missing.yaml")).stderr
    assert "larger than 2,000,000 bytes" in run("summary", "/dev/zero").stderr
    assert "File name too long" in run("validate", str(tmp_path / ("x" * 5000))).stderr


def test_bom_files_validate():
    result = run("validate", str(VALID / "bom.yaml"), str(VALID / "bom.json"))
    assert result.returncode == 0, result.stderr
    assert "7,850 params" in result.stdout and "15 params" in result.stdout


LOAD_ALL = textwrap.dedent("""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
    from kerasbuild.errors import SpecError
    from kerasbuild.spec.loader import load_spec
    def peak_mib():
        # VmHWM belongs to this process image; ru_maxrss survives fork+exec from a big parent
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results, slowest = {}, 0.0
    for name in sys.argv[1:]:
        start = time.process_time()
        try:
            load_spec(name)
            results[name] = "loaded"
        except SpecError:
            results[name] = "refused"
        except BaseException as exc:
            results[name] = f"crashed: {type(exc).__name__}: {exc}"[:300]
        slowest = max(slowest, time.process_time() - start)
    print(json.dumps({"results": results, "slowest_s": slowest,
                      "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules,
                      "max_rss_mib": peak_mib()}))
""")


def test_loading_every_case_imports_no_tensorflow_and_stays_small(tmp_path):
    write_generated(tmp_path)
    files = [str(p) for p in sorted(CORPUS.iterdir())] + [
        str(p) for p in sorted(tmp_path.iterdir())
    ]
    result = subprocess.run(
        [sys.executable, "-c", LOAD_ALL, *files],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["results"].values()) == {"refused"}, report["results"]
    assert not report["tensorflow"] and not report["keras"]
    assert report["max_rss_mib"] < 1024, report
    assert report["slowest_s"] < 20, report


BLOCKED = (
    "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; "
    "from kerasbuild.cli import main; sys.argv = ['kerasbuild', *sys.argv[1:]]; main()"
)
"""The CLI with TensorFlow and Keras made unimportable: any import of them is an ImportError."""


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["validate", *map(str, sorted(CORPUS.iterdir()))], 1),
        (["summary", str(CORPUS / "lambda_layer.yaml")], 1),
        (["fmt", str(CORPUS / "cycle.yaml")], 1),
        (["validate", str(VALID / "bom.yaml")], 0),
        (["summary", "--json", str(VALID / "bom.yaml")], 0),
        (["fmt", str(VALID / "bom.json")], 0),
        (
            [
                "build",
                str(CORPUS / "params_1e12.yaml"),
                "-o",
                "/tmp/kerasbuild-never-written.keras",
            ],
            1,
        ),
        (
            [
                "train",
                str(CORPUS / "giant_input.yaml"),
                "--run-dir",
                "/tmp/kerasbuild-never-written",
            ],
            1,
        ),
    ],
)
def test_validate_summary_fmt_never_import_tensorflow(args, code):
    """Also ``build`` and ``train`` of absurd sizes: refused before TensorFlow could allocate."""
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, timeout=300, env=ENV
    )
    assert result.returncode == code, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "ImportError" not in result.stderr
    assert not Path("/tmp/kerasbuild-never-written").exists()


@pytest.mark.slow
def test_unwritable_output_is_an_error_not_a_traceback():
    result = run(
        "build", str(VALID / "bom.yaml"), "-o", "/proc/kerasbuild-nowhere/model.keras", timeout=300
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: /proc/kerasbuild-nowhere")


def _refusal(args: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    import time

    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, timeout=120, env=ENV
    )
    return result, time.perf_counter() - start


def test_cheap_refusals_come_before_tensorflow(tmp_path):
    """Each refusal needs no TensorFlow: with it unimportable the command still refuses, with
    the right message and code, in a few seconds (TensorFlow alone takes 8-12 s to import)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{}")
    spec = VALID / "bom.yaml"
    npz_spec = tmp_path / "npz.yaml"
    npz_spec.write_text(spec.read_text(encoding="utf-8-sig") + "\ndata: {source: missing.npz}\n")
    image = tmp_path / "a.png"
    image.write_bytes(b"")
    existing = tmp_path / "exists.keras"
    existing.write_text("mine")
    (tmp_path / "exists.csv").write_text("mine")
    (tmp_path / "exists.yaml").write_text("mine")
    script = tmp_path / "net.py"
    script.write_text(
        "net = NeuralNet(layers=[('input', InputLayer), ('output', DenseLayer)],\n"
        "                input_shape=(None, 4), output_num_units=2, update_learning_rate=0.1)\n"
    )
    cases = [
        (["train", str(spec), "--run-dir", str(run_dir)], 2, "already exists; pass --overwrite"),
        (
            ["train", str(npz_spec), "--run-dir", str(tmp_path / "new")],
            1,
            "missing.npz does not exist",
        ),
        (
            ["train", str(spec), "--set", "train.max_epochs", "--run-dir", str(tmp_path / "new")],
            1,
            "expected KEY=VALUE",
        ),
        (["train", "--resume", "--run-dir", str(tmp_path / "nothing")], 1, "file not found"),
        (
            ["predict", str(run_dir), str(tmp_path / "missing.png"), "-o", str(tmp_path / "p.csv")],
            1,
            "missing.png does not exist",
        ),
        (
            ["predict", str(run_dir), str(image), "-o", str(tmp_path / "exists.csv")],
            1,
            "exists.csv already exists; pass --overwrite",
        ),
        (
            ["predict", str(run_dir), str(image), "-o", str(tmp_path / "p.txt")],
            1,
            "must end in .npz or .csv",
        ),
        (
            ["build", str(spec), "-o", str(existing)],
            1,
            "exists.keras already exists; pass --overwrite",
        ),
        (
            ["from-nolearn", str(script), "-o", str(tmp_path / "exists.yaml")],
            1,
            "already exists; pass --overwrite",
        ),
        (
            ["ensemble", str(run_dir), str(run_dir), "-o", str(run_dir)],
            2,
            "already exists; pass --overwrite",
        ),
    ]
    for args, code, message in cases:
        result, seconds = _refusal(args)
        assert result.returncode == code, (args, result.stderr[-2000:])
        assert message in result.stderr, (args, result.stderr[-2000:])
        assert "Traceback" not in result.stderr and "ImportError" not in result.stderr
        assert seconds < 20, (args, seconds)  # ~1 s idle; TensorFlow alone takes 8-12 s idle
    assert existing.read_text() == "mine" and (tmp_path / "exists.yaml").read_text() == "mine"
    assert not (tmp_path / "new").exists()
