"""``kerasbuild data``: look at a spec's data before training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import KerasbuildError
from .common import Overwrite, friendly_errors, out


def data(
    spec: Annotated[Path, typer.Argument(help="A spec file with a data: section.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", metavar="FILE", help="Write a PNG grid of augmented training samples."
        ),
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", min=1, metavar="N", help="Images in the grid.")
    ] = 16,
    batches: Annotated[
        int, typer.Option("--batches", min=1, metavar="N", help="Training batches to time.")
    ] = 20,
    overwrite: Overwrite = False,
) -> None:
    """Look at a spec's data: examples per split and class, shapes, the input pipeline's
    images/s."""
    from ..outputs import check_output_file
    from ..spec.loader import load_spec

    with friendly_errors():
        loaded = load_spec(spec)
        if loaded.spec.data is None:
            raise KerasbuildError(f"{spec}: the spec has no data: section")
        if output is not None:
            check_output_file(output, overwrite=overwrite, suffixes=(".png",))
        from ..data.overview import overview, render, sample_grid
        from ..data.splits import load_for_spec

        splits = load_for_spec(loaded)
        batch = loaded.spec.train.effective_batch_size
        out.print(
            render(overview(splits, loaded.spec.data.source, batch, batches)), highlight=False
        )
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            width, height = sample_grid(splits, batch, samples, output)
            out.print(
                f"wrote {output} ({min(samples, splits.size('train'))} augmented training samples, "
                f"{width}x{height} pixels)",
                highlight=False,
            )
