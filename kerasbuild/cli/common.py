"""What every command shares: the consoles, the option types, and :func:`friendly_errors`,
which turns library errors into located lines and exit codes (adding which option a problem
is about)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import KerasbuildError, OverrideError, SizeLimitError, SpecError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

MaxParams = Annotated[
    int,
    typer.Option("--max-params", metavar="N", help="Refuse specs with more parameters than this."),
]

Overwrite = Annotated[
    bool, typer.Option("--overwrite", metavar="", help="Replace an existing output.")
]


MAX_PARAMS_HINT = {SizeLimitError: "raise it with --max-params"}
SET_HINT = {OverrideError: "given with --set"}
"""What a command adds to a library error: which of its options the problem is about."""


@contextmanager
def friendly_errors(hints: dict[type[SpecError], str] | None = None):
    """Print located problems (exit 1, each followed by the matching ``hints`` entry) or
    operational errors (their exit code), no traceback."""
    try:
        yield
    except SpecError as exc:
        hint = next(
            (f" ({text})" for kind, text in (hints or {}).items() if isinstance(exc, kind)), ""
        )
        for problem in exc.problems:
            err.print(f"{problem}{hint}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except KerasbuildError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        err.print(f"error: {name}{exc.strerror or exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None


def note_run_state(path: Path) -> None:
    """Say on stderr when a run directory is not finished (``crashed``, still ``running``, ...)."""
    from ..runs.lock import state_note
    from ..runs.rundir import RUN_JSON, read_run

    if (path / RUN_JSON).is_file():
        note = state_note(path, read_run(path))
        if note:
            err.print(note, markup=False, highlight=False)
