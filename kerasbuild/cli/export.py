"""``kerasbuild export``: a run or .keras file -> a verified, versioned serving model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import friendly_errors, note_run_state, out


def export(
    source: Annotated[Path, typer.Argument(help="A run directory or a .keras file.")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Model directory; the export becomes its next "
            "integer version, e.g. models/NAME/3.",
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="savedmodel, onnx or tflite.")
    ] = "savedmodel",
    no_preprocessing: Annotated[
        bool,
        typer.Option(
            "--no-preprocessing",
            help="Do not bake the run's preprocessing in (clients send model inputs).",
        ),
    ] = False,
    quantize: Annotated[
        str | None,
        typer.Option(
            "--quantize",
            metavar="TYPE",
            help="tflite: float16 weights (half the size; inputs and outputs stay float32).",
        ),
    ] = None,
) -> None:
    """Export for serving: verified against the Keras model, published atomically as OUT/N."""
    with friendly_errors():
        from ..export import export as run_export
        from ..export.report import describe_export

        note_run_state(source)
        result = run_export(
            source, out_dir, fmt=fmt, preprocessing=not no_preprocessing, quantize=quantize
        )
        out.print(describe_export(result), highlight=False)
