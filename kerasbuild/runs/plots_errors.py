"""Where the net fails, on a run's test split.

Classification: the confusion matrix (rows: true class, columns: predicted) and the worst
misclassified test images (lowest probability given to the true class) with their true and
predicted labels. Regression: keypoints drawn on the image as in the facial-keypoints
tutorial (true and predicted points; the pairs a horizontal flip swaps share a colour) when
the targets are keypoints, otherwise predicted against true values per target (residuals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .plots import image_grid, pyplot


@dataclass
class SplitPredictions:
    """The test split and the model's outputs on it: ``x`` ``(N, H, W, C)`` preprocessed
    inputs (a :class:`StreamedImages` for a streamed source: read on demand, never whole);
    ``y`` ``(N,)`` labels or ``(N, K)`` targets in training units; ``outputs``
    ``(N, classes)`` probabilities or ``(N, K)`` targets in training units."""

    x: Any
    y: np.ndarray
    outputs: np.ndarray
    info: dict[str, Any]
    loaded: Any


class StreamedImages:
    """A streamed test split's preprocessed images as an array that reads only what is asked:
    ``len``, ``ndim`` and ``x[i]``, ``x[a:b]``, ``x[indices]`` (one pass over the split's
    batches per access, keeping just the requested images)."""

    def __init__(self, dataset: Any, count: int, shape: tuple[int, ...]) -> None:
        self.dataset, self.count, self.shape = dataset, count, tuple(shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.shape)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, key: Any) -> np.ndarray:
        wanted = np.arange(self.count)[key]
        single = np.ndim(wanted) == 0
        wanted = np.atleast_1d(wanted)
        if not len(wanted):
            return np.zeros((0, *self.shape), np.float32)
        found: dict[int, np.ndarray] = {}
        start = 0
        for batch, _ in self.dataset:
            end = start + len(batch)
            inside = wanted[(wanted >= start) & (wanted < end)]
            if len(inside):
                images = batch.numpy()
                found.update({int(i): images[i - start] for i in inside})
            start = end
            if len(found) == len(set(wanted.tolist())):
                break
        images = np.stack([found[int(i)] for i in wanted])
        return images[0] if single else images


def predict_test_split(run_dir: Path, model: Any) -> SplitPredictions:
    """Predict the run's test split with ``model`` (batches of 256; a streamed source batch by
    batch, its images left on disk)."""
    from ..spec.loader import load_spec
    from .evaluate import evaluation_arrays, streamed_evaluation
    from .rundir import SPEC, read_run

    loaded = load_spec(Path(run_dir) / SPEC)
    streamed = streamed_evaluation(Path(run_dir), None, loaded.spec.train.effective_batch_size)
    if streamed is not None:
        dataset, count, shape = streamed
        outputs, labels = [], []
        for batch, y in dataset:
            outputs.append(np.asarray(model.predict_on_batch(batch)))
            labels.append(y.numpy())
        return SplitPredictions(
            StreamedImages(dataset, count, shape),
            np.concatenate(labels),
            np.concatenate(outputs),
            read_run(run_dir),
            loaded,
        )
    x, y, loaded = evaluation_arrays(run_dir)
    outputs = np.asarray(model.predict(x, batch_size=256, verbose=0))
    return SplitPredictions(x, np.asarray(y), outputs, read_run(run_dir), loaded)


def class_labels(info: dict[str, Any], n: int) -> list[str]:
    """The run's class names, or ``0..n-1``."""
    return [str(c) for c in (info.get("class_names") or range(n))]


def confusion(preds: SplitPredictions) -> np.ndarray:
    """``(classes, classes)`` counts, rows true class, columns predicted; sums to N."""
    from sklearn.metrics import confusion_matrix

    n = preds.outputs.shape[1]
    return confusion_matrix(
        preds.y.astype(int), preds.outputs.argmax(axis=1), labels=list(range(n))
    )


def confusion_figure(matrix: np.ndarray, labels: list[str], title: str = "") -> Any:
    """The confusion matrix with counts in the cells; about 600x560 pixels."""
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.6), dpi=100)
    ConfusionMatrixDisplay(matrix, display_labels=labels).plot(
        ax=ax, cmap="Blues", colorbar=False, values_format="d"
    )
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(
        f"{title + ': ' if title else ''}{matrix.sum()} test examples, accuracy {accuracy:.2%}"
    )
    fig.tight_layout()
    return fig


def worst_misclassified(preds: SplitPredictions, count: int = 16) -> np.ndarray:
    """Indices of up to ``count`` misclassified test examples, lowest probability of the true
    class first."""
    labels = preds.y.astype(int)
    wrong = np.flatnonzero(preds.outputs.argmax(axis=1) != labels)
    truth = preds.outputs[wrong, labels[wrong]]
    return wrong[np.argsort(truth, kind="stable")][:count]


def misclassified_figure(preds: SplitPredictions, indices: np.ndarray) -> Any:
    """A grid of the test images at ``indices`` titled ``true -> predicted (p)``."""
    names = class_labels(preds.info, preds.outputs.shape[1])
    images = preds.x[indices]
    images = images[..., 0] if images.shape[-1] == 1 else images
    titles = [
        f"{names[int(preds.y[i])]} -> {names[int(preds.outputs[i].argmax())]} "
        f"({preds.outputs[i].max():.2f})"
        for i in indices
    ]
    return image_grid(
        images, f"{len(indices)} worst misclassified test images (true -> predicted)", titles
    )


# ------------------------------------------------------------------------- regression
_XY = re.compile(r"^(.*?)_?x$", re.IGNORECASE)


def keypoint_names(target_names: list[str] | None) -> list[str] | None:
    """Keypoint names when targets are interleaved ``NAME_x, NAME_y`` columns, else None."""
    if not target_names or len(target_names) % 2:
        return None
    names = []
    for x_name, y_name in zip(target_names[::2], target_names[1::2], strict=True):
        match = _XY.match(x_name)
        if not match or y_name.lower() != x_name[:-1].lower() + "y":
            return None
        names.append(match.group(1))
    return names


def flip_pairs(loaded: Any, names: list[str]) -> list[tuple[int, int]]:
    """Keypoint index pairs a horizontal flip swaps: the spec's ``flip_horizontal``
    ``keypoint_pairs`` and ``flip_indices`` (x columns), else ``left_*`` / ``right_*`` names."""
    pairs: set[tuple[int, int]] = set()
    data = loaded.spec.data
    for aug in data.augment if data else []:
        for a, b in aug.swap_columns() if aug.type == "flip_horizontal" else []:
            if a % 2 == 0 and b % 2 == 0:
                pairs.add((min(a, b) // 2, max(a, b) // 2))
    if not pairs:
        index = {name.lower(): k for k, name in enumerate(names)}
        for name, k in index.items():
            if "left" in name and name.replace("left", "right") in index:
                pairs.add((k, index[name.replace("left", "right")]))
    return sorted(pairs)


def keypoints_figure(
    preds: SplitPredictions, names: list[str], pairs: list[tuple[int, int]], count: int = 16
) -> Any:
    """The first ``count`` test images with true (circles) and predicted (crosses) keypoints
    in pixels; each flip pair shares a colour, other keypoints are grey."""
    from ..data.splits import restore_targets

    prep = preds.info.get("preprocessing") or {}
    truth = restore_targets(preds.y, prep).reshape(len(preds.y), -1, 2)
    guess = restore_targets(preds.outputs, prep).reshape(len(preds.y), -1, 2)
    colours = ["grey"] * len(names)
    palette = pyplot().get_cmap("tab10")
    for j, (a, b) in enumerate(pairs):
        colours[a] = colours[b] = palette(j % 10)
    shown = min(count, len(preds.x))
    images = preds.x[:shown]
    fig = image_grid(
        images[..., 0] if images.shape[-1] == 1 else images,
        f"{shown} test images: true (o), predicted (x);\nflip pairs share a colour",
    )
    for ax, t, g in zip(fig.axes, truth[:shown], guess[:shown], strict=False):
        ax.scatter(t[:, 0], t[:, 1], s=14, facecolors="none", edgecolors=colours, linewidths=1)
        ax.scatter(g[:, 0], g[:, 1], s=14, marker="x", c=colours, linewidths=1)
    return fig


def residuals_figure(preds: SplitPredictions, max_targets: int = 6) -> Any:
    """Predicted against true value for the first ``max_targets`` targets, with the diagonal."""
    from ..data.splits import restore_targets

    prep = preds.info.get("preprocessing") or {}
    truth = restore_targets(preds.y.reshape(len(preds.y), -1), prep)
    guess = restore_targets(preds.outputs.reshape(len(preds.y), -1), prep)
    names = preds.info.get("target_names") or [f"target {k}" for k in range(truth.shape[1])]
    shown = min(max_targets, truth.shape[1])
    plt = pyplot()
    fig, axes = plt.subplots(1, shown, figsize=(3 * shown, 3.2), dpi=100, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.scatter(truth[:, k], guess[:, k], s=6, alpha=0.6)
        low, high = (
            float(min(truth[:, k].min(), guess[:, k].min())),
            float(max(truth[:, k].max(), guess[:, k].max())),
        )
        ax.plot([low, high], [low, high], color="black", linewidth=1)
        rmse = float(np.sqrt(np.mean((guess[:, k] - truth[:, k]) ** 2)))
        ax.set_title(f"{names[k]} (rmse {rmse:.3g})", fontsize=8)
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
    fig.tight_layout()
    return fig
