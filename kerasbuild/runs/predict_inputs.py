"""What ``kerasbuild predict`` reads, as batches of raw model inputs with a name per example.

Accepted inputs: image files (PNG, JPEG, ... read with Pillow), folders of images (every image
under them, recursively, in sorted order) and ``.npz`` files (array ``x_key``, ``(N, H, W)``,
``(N, H, W, C)`` or one example ``(H, W, C)``). Images are converted to the model's channels
(grey or RGB) and, unless the run resizes its inputs itself, resized (bilinear) to its
``(H, W)``. Batches are ``(B, H, W, C)`` float32 in the source's units (0..255 for 8-bit
images); nothing beyond one batch of images is held in memory. No TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.sources import IMAGE_SUFFIXES
from ..errors import KerasbuildError

BATCH = 256
"""Examples per batch."""


def check_inputs(paths: Sequence[Path]) -> None:
    """Every input exists and is an image file, a folder or a ``.npz`` file (before TensorFlow
    is imported, so a typo is refused at once)."""
    if not paths:
        raise KerasbuildError(
            "predict: give at least one input (image files, a folder of images or a .npz file)"
        )
    for path in paths:
        if not path.exists():
            raise KerasbuildError(f"predict input {path} does not exist")
        if path.is_file() and path.suffix.lower() not in (".npz", *IMAGE_SUFFIXES):
            raise KerasbuildError(
                f"predict input {path}: expected a .npz file, an image "
                f"({', '.join(IMAGE_SUFFIXES)}) or a folder of images"
            )


def input_batches(
    paths: Sequence[Path], metadata: dict[str, Any], *, x_key: str = "x", batch_size: int = BATCH
) -> Iterator[tuple[list[str], np.ndarray]]:
    """``(names, x)`` batches over ``paths`` in order; ``names`` are the image files, or
    ``FILE.npz:i`` for the ``i``-th example of an npz file. ``metadata``: the run's (or the
    export's) ``inputs`` and ``preprocessing``."""
    want = _input_shape(metadata)
    resizes = "resize" in (metadata.get("preprocessing") or {})
    images: list[Path] = []
    for path in paths:
        if path.suffix.lower() == ".npz" and path.is_file():
            yield from _flush(images, want, resizes, batch_size)
            images = []
            x = _read_npz(path, x_key, want, resizes)
            for start in range(0, len(x), batch_size):
                stop = min(start + batch_size, len(x))
                yield [f"{path}:{i}" for i in range(start, stop)], x[start:stop]
        else:
            images += _image_files(path)
    yield from _flush(images, want, resizes, batch_size)


def _input_shape(metadata: dict[str, Any]) -> tuple | None:
    inputs = metadata.get("inputs") or []
    return tuple(inputs[0]["shape"]) if inputs else None


def _image_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise KerasbuildError(
            f"predict input {path}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder"
        )
    return files


def _flush(
    files: list[Path], want: tuple | None, resizes: bool, batch_size: int
) -> Iterator[tuple[list[str], np.ndarray]]:
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        arrays = [_read_image(f, want, resizes) for f in chunk]
        shapes = sorted({a.shape for a in arrays})
        if len(shapes) > 1:
            raise KerasbuildError(
                f"predict: the images differ in size ({shapes[0]} vs {shapes[-1]})"
            )
        yield [str(f) for f in chunk], np.stack(arrays)


def _read_image(path: Path, want: tuple | None, resizes: bool) -> np.ndarray:
    """``(H, W, C)`` float32 in 0..255."""
    from PIL import Image

    channels = want[-1] if want and len(want) == 3 and want[-1] in (1, 3) else 3
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if want and len(want) == 3 and not resizes and image.size != (want[1], want[0]):
                image = image.resize((want[1], want[0]), Image.BILINEAR)
            array = np.asarray(image, dtype=np.float32)
    except OSError as exc:
        raise KerasbuildError(f"cannot read image {path}: {exc}") from None
    return array.reshape(array.shape[0], array.shape[1], channels)


def _read_npz(path: Path, x_key: str, want: tuple | None, resizes: bool) -> np.ndarray:
    """Array ``x_key`` of ``path`` as ``(N, *want)`` float32."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if x_key not in data:
                raise KerasbuildError(
                    f"{path}: no array named '{x_key}' (found: "
                    f"{', '.join(data.files) or 'none'}); choose one with --x-key"
                )
            x = np.asarray(data[x_key])
    except (OSError, ValueError) as exc:
        raise KerasbuildError(f"cannot read {path} as .npz: {exc}") from None
    if x.dtype.kind not in "fiub":
        raise KerasbuildError(f"{path}: '{x_key}' must be numeric, got dtype {x.dtype}")
    if want:
        if tuple(x.shape) == want:  # one example
            x = x[None]
        elif x.ndim == len(want) and want[-1] == 1 and tuple(x.shape[1:]) == want[:-1]:  # (N, H, W)
            x = x[..., None]
        if not resizes and tuple(x.shape[1:]) != want:
            raise KerasbuildError(
                f"{path}: '{x_key}' has shape {list(x.shape)}; expected (N, "
                f"{', '.join(map(str, want))}) (NHWC)"
            )
    return x.astype(np.float32)
