"""``kerasbuild plot``: decide from the paths what to draw and write the PNG files.

- ``plot SPEC --graph``: the architecture (no TensorFlow), to ``-o`` or ``./NAME_graph.png``;
- ``plot RUN1 RUN2 ...``: validation curves overlaid, to ``-o`` or ``./compare.png``;
- ``plot SEARCH_DIR``: the search pictures, into ``-o`` (a folder) or the search directory;
- ``plot RUN``: ``loss.png`` (and the pictures :class:`PictureOptions` asks for), into ``-o``
  (a folder) or the run directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import KerasbuildError
from .pictures import Picture, PictureOptions


def _write(pictures: Iterable[Picture], folder: Path) -> list[Path]:
    from ..runs.plots import save_figure

    folder.mkdir(parents=True, exist_ok=True)
    return [save_figure(figure, folder / name) for name, _, figure in pictures]


def plot_graph(spec: Path, output: Path | None) -> Path:
    """Write the architecture of ``spec`` as PNG (or SVG when ``output`` ends in ``.svg``)."""
    from ..runs.plots_graph import graph_dot, graph_png, has_graphviz
    from ..spec.loader import load_spec

    loaded = load_spec(spec)
    output = output or Path(f"{loaded.name}_graph.png")
    if output.suffix.lower() == ".svg":
        if not has_graphviz():
            raise KerasbuildError(
                "-o *.svg needs graphviz (the 'dot' program); write a .png instead"
            )
        output.write_bytes(graph_dot(loaded).pipe(format="svg"))
    else:
        output.write_bytes(graph_png(loaded))
    return output


def plot_paths(
    paths: list[Path], options: PictureOptions, *, graph: bool = False, output: Path | None = None
) -> list[Path]:
    """Draw what ``paths`` call for; returns the files written."""
    from ..tuning.plots import is_search_dir
    from .pictures import run_pictures, search_pictures

    if graph:
        if len(paths) != 1 or paths[0].is_dir():
            raise KerasbuildError(
                "--graph takes one spec file, e.g. kerasbuild plot specs/lenet5.yaml --graph"
            )
        return [plot_graph(paths[0], output)]
    if len(paths) > 1:
        if options.needs_model:
            raise KerasbuildError(
                "--errors, --image and --filters draw one run; give one run directory"
            )
        from ..runs.plots import save_figure
        from ..runs.plots_compare import compare_figure

        target = output or Path("compare.png")
        return [save_figure(compare_figure(paths), target)]
    path = paths[0]
    if is_search_dir(path):
        return _write(search_pictures(path), output or path)
    return _write(run_pictures(path, options), output or path)
