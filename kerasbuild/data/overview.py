"""``kerasbuild data SPEC``: what a spec's data section yields, without training (TensorFlow).

Counts per split and per class come from the index (streamed sources) or the arrays (small
sources); for segmentation, pixels per class id from the first ``MASK_SAMPLE`` masks of each
split (streamed masks are decoded for it, batch by batch); the input pipeline's own speed is
timed on augmented training batches; a PNG grid shows augmented training samples as the model
sees them, preprocessing undone for display.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PARTS = ("train", "valid", "test")
GAP = 2
"""Pixels between the cells of the sample grid."""
MASK_SAMPLE = 1000
"""Masks per split whose pixels ``kerasbuild data`` counts per class id (segmentation)."""


@dataclass
class DataOverview:
    """``counts``: examples per split; ``per_class``: class name -> examples per split
    (classification), or class id -> pixels per split in the first ``MASK_SAMPLE`` masks
    (segmentation); ``input_shape``: one example's shape (no batch axis);
    ``images_per_s``: training batches (shuffled, augmented) the pipeline made per second,
    ``timed``: the images that figure counts."""

    source: str
    streamed: bool
    task: str
    counts: dict[str, int]
    per_class: dict[str, dict[str, int]]
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    target_dtype: str
    images_per_s: float
    timed: int
    skipped: int


def targets_of(splits: Any, part: str) -> np.ndarray:
    """The targets of ``part`` of in-memory :class:`~kerasbuild.data.splits.Splits` or streamed
    :class:`~kerasbuild.data.stream.StreamSplits` (read from the index, no pixels)."""
    return splits.parts[part].y if hasattr(splits, "parts") else getattr(splits, f"y_{part}")


def time_pipeline(splits: Any, batch_size: int, max_batches: int) -> tuple[float, int]:
    """``(images/s, images timed)`` of up to ``max_batches`` shuffled, augmented training
    batches after the first (which pays for start-up: threads, the first file reads); an
    epoch of one batch is timed with its start-up."""
    batches = iter(splits.dataset("train", batch_size, training=True))
    start = time.perf_counter()
    first = int(next(batches)[0].shape[0])
    count, after_first = 0, time.perf_counter()
    for _, (x, _y) in zip(range(max_batches), batches, strict=False):
        count += int(x.shape[0])
    if not count:
        count, after_first = first, start
    return count / (time.perf_counter() - after_first), count


def overview(splits: Any, source: str, batch_size: int, max_batches: int = 20) -> DataOverview:
    """Describe ``splits`` (counts from the targets, a timed pass over training batches)."""
    counts = {part: splits.size(part) for part in PARTS}
    per_class: dict[str, dict[str, int]] = {}
    if splits.task == "classification":
        names = splits.class_names or [str(k) for k in range(splits.num_classes)]
        for part in PARTS:
            found = np.bincount(targets_of(splits, part).astype(np.int64), minlength=len(names))
            for name, n in zip(names, found, strict=False):
                per_class.setdefault(str(name), {})[part] = int(n)
    if splits.task == "segmentation":
        per_class = mask_pixels(splits, batch_size)
    y = targets_of(splits, "train")
    target_shape, target_dtype = tuple(y.shape[1:]), str(y.dtype)
    if splits.task == "segmentation" and hasattr(splits, "parts"):
        target_shape, target_dtype = tuple(splits.mask_size), "int32"
    speed, timed = time_pipeline(splits, batch_size, max_batches)
    return DataOverview(
        source,
        hasattr(splits, "parts"),
        splits.task,
        counts,
        per_class,
        tuple(splits.input_shape),
        target_shape,
        target_dtype,
        speed,
        timed,
        len(getattr(splits, "skipped", [])),
    )


def render(view: DataOverview) -> str:
    """The overview as text lines (what ``kerasbuild data`` prints)."""
    how = "streamed from disk" if view.streamed else "loaded into memory (a small source)"
    lines = [
        f"source: {view.source} ({how})",
        f"task: {view.task}",
        "examples: " + ", ".join(f"{part} {view.counts[part]}" for part in PARTS),
    ]
    if view.skipped:
        lines.append(f"skipped bad files: {view.skipped}")
    if view.per_class and view.task == "segmentation":
        lines += _pixel_table(view.per_class)
    elif view.per_class:
        width = max(5, *(len(name) for name in view.per_class))
        lines.append(f"{'class':<{width}}  " + "  ".join(f"{part:>6}" for part in PARTS))
        lines += [
            f"{name:<{width}}  " + "  ".join(f"{n.get(part, 0):>6}" for part in PARTS)
            for name, n in view.per_class.items()
        ]
    stored = "uint8 decoded per batch" if view.streamed else "float32 arrays"
    lines.append(
        f"inputs: {list(view.input_shape)} float32 ({stored}); targets: "
        f"{list(view.target_shape) or 'scalar'} {view.target_dtype}"
    )
    lines.append(
        f"input pipeline: {view.images_per_s:,.0f} images/s (training batches, shuffled and "
        f"augmented, {view.timed} images timed)"
    )
    return "\n".join(lines)


def mask_pixels(splits: Any, batch_size: int) -> dict[str, dict[str, int]]:
    """Class id -> pixels per split in the first ``MASK_SAMPLE`` masks of each split."""
    counts: dict[str, dict[str, int]] = {}
    for part in PARTS:
        if not splits.size(part):
            continue
        batches = math.ceil(min(MASK_SAMPLE, splits.size(part)) / batch_size)
        found = np.zeros(0, np.int64)
        for _, y in splits.dataset(part, batch_size).take(batches):
            seen = np.bincount(np.asarray(y).reshape(-1).astype(np.int64))
            found = np.pad(found, (0, max(0, len(seen) - len(found))))
            found[: len(seen)] += seen
        for k, n in enumerate(found):
            counts.setdefault(str(k), {})[part] = int(n)
    return counts


def _pixel_table(per_class: dict[str, dict[str, int]]) -> list[str]:
    """Lines of the share of pixels per class id and split (segmentation)."""
    totals = {p: sum(n.get(p, 0) for n in per_class.values()) for p in PARTS}
    lines = [
        f"pixels per class id (% of the first {MASK_SAMPLE} masks of each split):",
        f"{'class':<5}  " + "  ".join(f"{part:>6}" for part in PARTS),
    ]
    for name, n in sorted(per_class.items(), key=lambda item: int(item[0])):
        shares = [100 * n.get(p, 0) / totals[p] if totals[p] else 0.0 for p in PARTS]
        lines.append(f"{name:<5}  " + "  ".join(f"{v:>5.1f}%" for v in shares))
    return lines


def display_pixels(x: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """Model-input images ``(N, H, W, C)`` -> uint8 for display: normalisation undone, then
    the scaled range [0, 1] (``scale``: 1/255 for 8-bit images, 1/16 for digits) shown as
    0..255; without a recorded ``scale`` the batch's range is stretched to 0..255."""
    x = np.asarray(x, np.float64)
    if "mean" in preprocessing:
        x = x * np.asarray(preprocessing["std"]) + np.asarray(preprocessing["mean"])
    if "scale" in preprocessing:
        x = x * 255
    else:
        low, high = float(x.min()), float(x.max())
        x = (x - low) / max(high - low, 1e-12) * 255
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def sample_grid(splits: Any, batch_size: int, samples: int, path: Path) -> tuple[int, int]:
    """Write a PNG grid of the first ``samples`` augmented training images (a square-ish
    grid, ``GAP`` black pixels between cells); returns the PNG's ``(width, height)``."""
    from PIL import Image

    images: list[np.ndarray] = []
    for x, _ in splits.dataset("train", batch_size, training=True):
        images += list(x.numpy()[: samples - len(images)])
        if len(images) >= samples:
            break
    pixels = display_pixels(np.stack(images), splits.preprocessing)
    n, h, w, c = pixels.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * h + (rows - 1) * GAP, cols * w + (cols - 1) * GAP, c), np.uint8)
    for k, image in enumerate(pixels):
        top, left = (k // cols) * (h + GAP), (k % cols) * (w + GAP)
        grid[top : top + h, left : left + w] = image
    Image.fromarray(grid[..., 0] if c == 1 else grid).save(path)
    return grid.shape[1], grid.shape[0]
