"""``kerasbuild tune``: a search job, locally, as chief or worker, or with a launcher."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import friendly_errors, out


def tune(
    job: Annotated[
        Path, typer.Argument(help="A search-job file (see tuning/ and docs/tuning.md).")
    ],
    chief: Annotated[
        bool, typer.Option("--chief", help="Hold the oracle and serve workers.")
    ] = False,
    port: Annotated[
        int | None, typer.Option("--port", metavar="PORT", help="--chief: port to listen on.")
    ] = None,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="--chief: address to listen on.")
    ] = "0.0.0.0",
    until_stopped: Annotated[
        bool,
        typer.Option(
            "--until-stopped",
            hidden=True,
            help="--chief: serve until SIGTERM, not only until the search is over (the "
            "launcher's chief).",
        ),
    ] = False,
    worker: Annotated[
        str | None,
        typer.Option("--worker", metavar="ID", help="Run as the worker with this unique id."),
    ] = None,
    oracle: Annotated[
        str | None,
        typer.Option("--oracle", metavar="HOST:PORT", help="--worker: the chief's HOST:PORT."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Start a chief and N workers on 127.0.0.1 and wait for them.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate the job; print the search space.")
    ] = False,
    verbose: Annotated[
        int,
        typer.Option("--verbose", metavar="LEVEL", help="Keras fit verbosity per trial (0, 1, 2)."),
    ] = 0,
) -> None:
    """Search hyper-parameters; running the same job again resumes it."""
    with friendly_errors():
        from ..tuning.command import tune as run_tune

        run_tune(
            job,
            out,
            chief=chief,
            port=port,
            host=host,
            until_stopped=until_stopped,
            worker=worker,
            oracle=oracle,
            workers=workers,
            dry_run=dry_run,
            verbose=verbose,
        )
