"""Every ``--help`` screen: no Python type names (``<bool>``, ``<list[Path]>``...), exit codes
listed."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from kerasbuild.cli import app

COMMANDS = sorted(typer.main.get_command(app).commands)
PYTHON_TYPES = re.compile(r"<(bool|int|float|str|list\[|tuple\[|dict\[|Path|NoneType)")


def _help(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_checked() -> None:
    assert {"validate", "train", "predict", "ensemble", "tune", "export"} <= set(COMMANDS)


@pytest.mark.parametrize(
    "command", [(), *((name,) for name in COMMANDS)], ids=lambda c: c[0] if c else "kerasbuild"
)
def test_help_names_no_python_types(command: tuple[str, ...]) -> None:
    text = _help(*command)
    assert "--help" in text and "Show this message and exit." in text
    assert not PYTHON_TYPES.findall(text), PYTHON_TYPES.findall(text)


def test_help_shows_value_names_and_the_exit_codes() -> None:
    assert re.search(r"inputs\.\.\.\s+Image files", _help("predict"))
    assert re.search(r"--workers\s+N\s", _help("tune"))
    assert "130 interrupted (Ctrl-C)" in " ".join(_help().split())
