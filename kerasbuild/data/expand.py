"""Offline expansion of a training split (numpy, no TensorFlow)."""

from __future__ import annotations

import numpy as np


def shift_images(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move every ``(N, H, W, C)`` image ``dy`` pixels down and ``dx`` pixels right
    (negative: up / left), filling the uncovered border with zeros."""
    out = np.zeros_like(x)
    h, w = x.shape[1:3]
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_r = slice(max(0, -dy), h - max(0, dy))
    dst_r = slice(max(0, dy), h - max(0, -dy))
    src_c = slice(max(0, -dx), w - max(0, dx))
    dst_c = slice(max(0, dx), w - max(0, -dx))
    out[:, dst_r, dst_c] = x[:, src_r, src_c]
    return out


def expand_shifts(x: np.ndarray, y: np.ndarray, pixels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Nielsen's ``expand_mnist.py``: the images followed by copies shifted ``pixels`` up,
    down, left and right (zero fill), so ``(N, H, W, C)`` becomes ``(5N, H, W, C)`` and the
    targets are repeated in the same order (block ``k`` of ``N`` rows is shift ``k``)."""
    if x.ndim != 4:
        raise ValueError(f"expand_shifts needs (N, H, W, C) images, got shape {x.shape}")
    shifts = [(0, 0), (-pixels, 0), (pixels, 0), (0, -pixels), (0, pixels)]
    xs = [shift_images(x, dy, dx) for dy, dx in shifts]
    return np.concatenate(xs), np.concatenate([y] * len(shifts))
