"""The ``kerasbuild`` command line. Each command (one module per command group) only parses
its options and calls a plain function; TensorFlow is imported inside the commands that need
it, so ``--help``, ``validate``, ``summary``, ``fmt`` and ``schema`` stay fast."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from . import data, export, report, runs, spec, train, tune
from .common import out
from .help import PlainHelpGroup

EXIT_CODES = (
    "Exit codes: 0 success; 1 invalid spec, input or output (a located message); 2 run "
    "directory or usage problem; 3 training diverged (loss NaN); 130 interrupted (Ctrl-C)."
)
app = typer.Typer(
    cls=PlainHelpGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Turn Lasagne/nolearn-style model specs into trained, tuned and served Keras models.",
    epilog=EXIT_CODES,
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        out.print(f"kerasbuild {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Turn Lasagne/nolearn-style model specs into trained, tuned and served Keras models."""


COMMANDS = [
    ("validate", spec.validate),
    ("summary", spec.summary),
    ("fmt", spec.fmt),
    ("schema", spec.schema),
    ("build", spec.build),
    ("from-nolearn", spec.from_nolearn),
    ("train", train.train),
    ("evaluate", runs.evaluate),
    ("predict", runs.predict),
    ("plot", report.plot),
    ("report", report.report),
    ("ensemble", runs.ensemble),
    ("export", export.export),
    ("tune", tune.tune),
    ("data", data.data),
]
"""Every command, in the order ``--help`` lists them."""
for _name, _command in COMMANDS:
    app.command(_name)(_command)


def main() -> None:
    """The console script: quiets TensorFlow's C++ start-up lines, then runs the command."""
    quiet_tensorflow()
    app()


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ INFO and WARNING lines (oneDNN, CPU features, absl) in every command
    that imports it, unless the user chose a level with ``TF_CPP_MIN_LOG_LEVEL``. Errors still
    print. Must run before TensorFlow is imported; the variable is read once, at import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
