"""tools/nielsen_ladder.py --quick trains every rung of Nielsen's ladder for one epoch and
writes the measured table between the markers of a markdown file, leaving the rest alone."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from kerasbuild.spec.loader import load_spec

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "nielsen_ladder.py"
HEADER_PARAMS = re.compile(r"^# Parameters: ([\d,]+)", re.M)


def _ladder():
    """The tool's own module (tools/ is not a package)."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import nielsen_ladder
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return nielsen_ladder


def test_every_rung_names_a_spec_that_loads_with_its_overrides():
    """The ladder's rungs, as the tool defines them: each spec exists, loads with the rung's
    overrides, has the parameter count its header states, and the rungs climb (Nielsen's
    accuracies increase, the last rung is the ensemble)."""
    rungs = _ladder().RUNGS
    assert len(rungs) == 7 and rungs[-1].ensemble and not any(r.ensemble for r in rungs[:-1])
    assert all(a.nielsen < b.nielsen for a, b in zip(rungs, rungs[1:]))
    for rung in rungs:
        path = ROOT / "specs" / rung.spec
        loaded = load_spec(path, overrides=dict(rung.overrides) or None)
        stated = int(HEADER_PARAMS.search(path.read_text()).group(1).replace(",", ""))
        assert loaded.graph.total_params == stated, rung.key
        assert loaded.spec.data.source == "builtin:mnist_5k" and loaded.spec.data.seed == 0, (
            rung.key
        )
        expanded = loaded.spec.data.expand is not None and loaded.spec.data.expand.shifts == 1
        assert expanded == ("data.expand" in dict(rung.overrides)), rung.key


BEFORE = "# Ladder\n\nIntro text that must survive.\n\n<!-- ladder:start -->\n"
AFTER = "<!-- ladder:end -->\n\nClosing text, also untouched.\n"
ROW = re.compile(
    r"^\| (\d) \| ([^|]+?) \| .*? \| ([\d,]+) \| (\d+) \| ([\d.]+) % \| ([\d.]+) % \| (\d+) s \|$"
)


@pytest.mark.slow
def test_quick_ladder_writes_one_measured_row_per_rung(tmp_path):
    doc = tmp_path / "ladder.md"
    doc.write_text(BEFORE + "| stale | table |\n" + AFTER, encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--out",
            str(doc),
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # CPU seconds, not wall time: the bound holds on a loaded machine (a full run is ~10x this)
    assert cpu < 300, f"--quick used {cpu:.0f} CPU seconds"

    text = doc.read_text(encoding="utf-8")
    assert text.startswith(BEFORE) and text.endswith(AFTER)
    assert "stale" not in text
    inside = text[len(BEFORE) : -len(AFTER)]
    rows = [ROW.match(line) for line in inside.splitlines() if re.match(r"^\| \d \|", line)]
    assert all(rows), inside
    rungs = _ladder().RUNGS
    assert [m.group(2) for m in rows] == [r.key + (" (N=2)" if r.ensemble else "") for r in rungs]
    acc = {m.group(2): float(m.group(5)) / 100 for m in rows}
    params = {m.group(2): int(m.group(3).replace(",", "")) for m in rows}
    assert all(0.0 <= a <= 1.0 for a in acc.values()), acc
    assert all(int(m.group(4)) == 1 for m in rows)
    # parameter counts come from the graph
    for rung in rungs:
        one = load_spec(ROOT / "specs" / rung.spec).graph.total_params
        assert params[rung.key + (" (N=2)" if rung.ensemble else "")] == one * (
            2 if rung.ensemble else 1
        )
    # one epoch trains something: the ReLU and sigmoid-dense rungs are far above chance (10 %);
    # the sigmoid conv nets (eta 0.1, batch 10) may still sit at chance after a single epoch
    for rung in ["fc100", "relu_l2", "relu_l2_expand", "dropout_expand", "ensemble (N=2)"]:
        assert acc[rung] > 0.5, (rung, acc)
    assert [float(m.group(6)) for m in rows] == [r.nielsen for r in rungs]
    assert (tmp_path / "runs" / "ensemble" / "model_best.keras").is_file()
    assert proc.stdout.count("\n| ") >= len(rungs)  # the table is printed too


def test_missing_markers_are_refused(tmp_path):
    doc = tmp_path / "plain.md"
    doc.write_text("no markers here\n", encoding="utf-8")
    nielsen_ladder = _ladder()
    with pytest.raises(ValueError, match="ladder:start"):
        nielsen_ladder.replace_between_markers(doc.read_text(), "| t |")
    assert (
        nielsen_ladder.replace_between_markers(
            "a\n<!-- ladder:start -->\nold\n<!-- ladder:end -->\nb", "| new |"
        )
        == "a\n<!-- ladder:start -->\n| new |\n<!-- ladder:end -->\nb"
    )
