"""Pictures and the HTML report: plot, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import friendly_errors, out


def plot(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="A run directory; several runs (overlaid curves); a "
            "search directory; or a spec with --graph."
        ),
    ],
    graph: Annotated[
        bool, typer.Option("--graph", help="Draw the spec's layer graph (no TensorFlow).")
    ] = False,
    filters: Annotated[
        str | None,
        typer.Option(
            "--filters",
            metavar="LAYER",
            help="Also draw this convolution layer's kernels (e.g. conv1).",
        ),
    ] = None,
    errors: Annotated[
        bool,
        typer.Option(
            "--errors",
            help="Also draw the confusion matrix and worst "
            "misclassified test images (keypoints or residuals for "
            "regression).",
        ),
    ] = False,
    image: Annotated[
        int | None,
        typer.Option(
            "--image",
            metavar="INDEX",
            help="Also draw activations, occlusion and saliency maps of this test image (index).",
        ),
    ] = None,
    layer: Annotated[
        str | None,
        typer.Option(
            "--layer",
            metavar="LAYER",
            help="--image: the layer whose activations are drawn (default: the first feature map).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="PATH",
            help="File (--graph, several runs) or folder (one run, a search).",
        ),
    ] = None,
) -> None:
    """Draw pictures of runs, searches and specs (see docs/plots.md)."""
    with friendly_errors():
        from ..report.plot_command import PictureOptions, plot_paths

        options = PictureOptions(errors=errors, image=image, layer=layer, filters=filters)
        for path in plot_paths(paths, options, graph=graph, output=output):
            out.print(f"wrote {path}", highlight=False)


def report(
    path: Annotated[Path, typer.Argument(help="A run directory or a search directory.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")],
    image: Annotated[
        int,
        typer.Option(
            "--image",
            metavar="INDEX",
            help="Test image whose activations, occlusion and saliency maps are shown.",
        ),
    ] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing file.")
    ] = False,
) -> None:
    """Write one self-contained HTML page: spec, metrics, every picture, environment, timings."""
    with friendly_errors():
        from ..report.html import write_report

        out.print(
            f"wrote {write_report(path, output, image=image, overwrite=overwrite)}", highlight=False
        )
