"""The ranked trials table on an 80-column terminal: one column per hyper-parameter, no name
or value cut (columns that do not fit continue in a further table keyed by rank)."""

from __future__ import annotations

import io
import re

from rich.console import Console

from kerasbuild.tuning.results import SearchResults, TrialRow, render_results

# the placeholders of tests/tuning/conftest.py's space, values as a random search samples them
VALUES = [
    {
        "layers.hidden.num_units": 64,
        "layers.drop.p": 0.2,
        "train.update_learning_rate": 0.0912345,
        "train.batch_size": 32,
        "train.max_epochs": 3,
    },
    {
        "layers.hidden.num_units": 16,
        "layers.drop.p": 0.4,
        "train.update_learning_rate": 0.25,
        "train.batch_size": 64,
        "train.max_epochs": 2,
    },
]
HEADERS = ["hidden.num_units", "drop.p", "update_learning_rate", "batch_size", "max_epochs"]


def _render(width: int) -> str:
    trials = [
        TrialRow("0001", "COMPLETED", 0.9632, VALUES[0], epochs=3, worker="tuner0", seconds=4.2),
        TrialRow("0000", "COMPLETED", 0.9410, VALUES[1], epochs=2, worker="tuner0", seconds=3.1),
    ]
    console = Console(file=io.StringIO(), width=width, color_system=None)
    render_results(SearchResults("val_accuracy", "max", trials), console)
    return console.file.getvalue()


def _header_cells(text: str) -> list[str]:
    """The header cells of every table: the line after each top border."""
    lines = text.splitlines()
    return [
        cell.strip()
        for i, line in enumerate(lines[1:], 1)
        if lines[i - 1].lstrip().startswith("┏")
        for cell in line.strip().strip("┃").split("┃")
    ]


def test_each_hyper_parameter_is_a_whole_column_at_80_columns() -> None:
    text = _render(80)
    assert max(len(line) for line in text.splitlines()) <= 80
    headers = _header_cells(text)
    assert [h for h in headers if h in HEADERS] == HEADERS
    assert (
        headers.count("#") == 2
    )  # the hyper-parameters that do not fit continue in a second table
    assert headers[:6] == ["#", "trial", "status", "val_accuracy", "epochs", "worker"]
    for value in ("0.09123", "0.25", "0.9632", "COMPLETED", "tuner0"):
        assert value in text
    assert "…" not in text
    # each trial's values line up under its rank in every table
    assert len(re.findall(r"│ 1 │", text)) == 2 and len(re.findall(r"│ 2 │", text)) == 2


def test_a_wide_terminal_shows_one_table() -> None:
    headers = _header_cells(_render(200))
    assert headers == ["#", "trial", "status", "val_accuracy", "epochs", "worker", *HEADERS]
