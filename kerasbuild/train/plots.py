"""Figures of a run: the loss curve (train and valid loss per epoch on a log scale, as the
nolearn tutorial plots it) and a grid of first-layer kernels (Nielsen's feature-map figure).
Matplotlib with the non-interactive Agg backend."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss(history: list[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Write ``path`` (PNG): ``loss`` and ``val_loss`` against the 1-based epoch, log y axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    epochs = [row["epoch"] for row in history]
    for key, label in (("loss", "train"), ("val_loss", "valid")):
        values = [row.get(key) for row in history]
        if any(v is not None and math.isfinite(v) and v > 0 for v in values):
            ax.plot(epochs, [v if v is not None and v > 0 else np.nan for v in values], linewidth=2, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
        ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
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
    names = [lay.name for lay in model.layers if getattr(lay, "kernel", None) is not None
             and len(lay.kernel.shape) == 4]
    if layer is not None:
        raise KerasbuildError(f"no layer named '{layer}'; convolution layers: {', '.join(names) or 'none'}")
    raise KerasbuildError("the model has no 2-D convolution layer whose kernels could be drawn")


def plot_filters(model: Any, path: Path, layer: str | None = None) -> Path:
    """Write a grid image of the first convolution layer's kernels (grey, each scaled to its
    own range)."""
    name, kernels = first_kernels(model, layer)
    n = len(kernels)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.0, rows * 1.0 + 0.4), dpi=100, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(kernels[i], cmap="gray", interpolation="nearest")
    fig.suptitle(f"{name}: {n} kernels {kernels.shape[1]}x{kernels.shape[2]}")
    fig.savefig(path)
    plt.close(fig)
    return path
