"""Figures of a run: the loss curve (train and valid loss per epoch on a log scale, as the
nolearn tutorial plots it) and a grid of first-layer kernels (Nielsen's feature-map figure).
Matplotlib with the non-interactive Agg backend."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import KerasbuildError


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path | BinaryIO) -> Path | BinaryIO:
    """Write ``fig`` as PNG to ``path`` (a file name or a binary stream) and close it."""
    fig.savefig(path, format="png")
    pyplot().close(fig)
    return path


def plain_log_axis(ax: Any, axis: str = "y") -> None:
    """A log axis labelled with plain numbers (``0.5``, ``2``), not ``2x10^0``."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    target.set_major_formatter(plain)
    target.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    target.set_minor_formatter(plain)


def integer_ticks(ax: Any) -> None:
    """Ticks of the x axis (epochs, trials) only at whole numbers."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def epoch_axes(ax: Any, ylabel: str, *, log: bool) -> None:
    """Axis labels, grid and ticks of a per-epoch curve."""
    if log:
        ax.set_yscale("log")
        plain_log_axis(ax)
    integer_ticks(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)


def positive(values: list[Any]) -> list[float]:
    """Values for a log axis: missing, non-finite and non-positive ones become NaN (gaps)."""
    return [v if v is not None and math.isfinite(v) and v > 0 else np.nan for v in values]


def loss_figure(history: list[dict[str, Any]], title: str = "") -> Any:
    """``loss`` and ``val_loss`` against the 1-based epoch, log y axis; 600x400 pixels."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    epochs = [row["epoch"] for row in history]
    for key, label in (("loss", "train"), ("val_loss", "valid")):
        values = positive([row.get(key) for row in history])
        if not all(np.isnan(values)):
            ax.plot(
                epochs, values, linewidth=2, marker="o" if len(epochs) < 20 else None, label=label
            )
    epoch_axes(ax, "loss", log=True)
    if ax.lines:
        ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_loss(history: list[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Write ``path`` (PNG, 600x400): :func:`loss_figure`."""
    save_figure(loss_figure(history, title), path)
    return path


def first_kernels(model: Any, layer: str | None = None) -> tuple[str, np.ndarray]:
    """``(layer name, kernels)`` of ``layer`` (default: the first layer with a 4-D kernel):
    kernels as ``(n_filters, height, width)``, averaged over input channels."""
    for candidate in model.layers:
        if layer is not None and candidate.name != layer:
            continue
        kernel = getattr(candidate, "kernel", None)
        if kernel is not None and len(kernel.shape) == 4:
            k = np.asarray(kernel.numpy())  # (h, w, in, out)
            return candidate.name, np.transpose(k.mean(axis=2), (2, 0, 1))
        if layer is not None:
            raise KerasbuildError(f"layer '{layer}' has no 2-D convolution kernel to draw")
    names = [
        lay.name
        for lay in model.layers
        if getattr(lay, "kernel", None) is not None and len(lay.kernel.shape) == 4
    ]
    if layer is not None:
        raise KerasbuildError(
            f"no layer named '{layer}'; convolution layers: {', '.join(names) or 'none'}"
        )
    raise KerasbuildError("the model has no 2-D convolution layer whose kernels could be drawn")


def image_grid(
    images: np.ndarray, title: str, labels: list[str] | None = None, cmap: str = "gray"
) -> Any:
    """A square-ish grid of ``images`` ``(n, height, width)`` or ``(n, height, width, 3)``,
    each scaled to its own range, optional per-image ``labels``; about 1 inch per image."""
    n = len(images)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    plt = pyplot()
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(cols * 1.2, rows * (1.2 if labels else 1.0) + 0.5),
        dpi=100,
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap, interpolation="nearest")
            if labels:
                ax.set_title(labels[i], fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def filters_figure(model: Any, layer: str | None = None) -> tuple[str, Any]:
    """``(layer name, figure)``: a grid of the convolution layer's kernels (grey, each scaled
    to its own range)."""
    name, kernels = first_kernels(model, layer)
    return name, image_grid(
        kernels, f"{name}: {len(kernels)} kernels {kernels.shape[1]}x{kernels.shape[2]}"
    )


def plot_filters(model: Any, path: Path, layer: str | None = None) -> Path:
    """Write :func:`filters_figure` to ``path`` (PNG)."""
    save_figure(filters_figure(model, layer)[1], path)
    return path
