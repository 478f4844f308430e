"""The file index of a streamed image source: one row per image file (path + target), built
from an image folder or a CSV of image paths without reading a pixel, and the cheap scan
that finds bad files before training (:func:`scan_files`). No TensorFlow.

Image folders: ``ROOT/CLASS/*.jpg`` (sorted class folder names are the classes), or split
folders ``ROOT/train/CLASS/...`` with ``valid/`` (or ``validation/``, ``val/``) and ``test/``
beside it, which become explicit splits.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import KerasbuildError
from .sources import IMAGE_SUFFIXES, Task

SPLIT_FOLDERS = {"train": ("train",), "valid": ("valid", "validation", "val"), "test": ("test",)}
DECODABLE = ("JPEG", "PNG", "BMP", "GIF")
"""Pillow format names TensorFlow's ``decode_image`` reads."""


@dataclass
class FileIndex:
    """``paths``: ``(N,)`` str; ``y``: ``(N,)`` int64 class indices, ``(N, K)`` float32
    targets, or (segmentation) each mask's largest class id; ``masks``: ``(N,)`` str mask
    paths (segmentation, else None). ``explicit``: splits the source defines
    (``"valid"``/``"test"`` -> FileIndex)."""

    paths: np.ndarray
    y: np.ndarray
    task: Task
    class_names: list[str] | None = None
    target_names: list[str] | None = None
    explicit: dict[str, FileIndex] = field(default_factory=dict)
    masks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def take(self, keep: np.ndarray) -> FileIndex:
        """The rows selected by ``keep`` (a boolean mask or indices)."""
        return FileIndex(
            self.paths[keep],
            self.y[keep],
            self.task,
            self.class_names,
            self.target_names,
            masks=None if self.masks is None else self.masks[keep],
        )

    @property
    def targets(self) -> np.ndarray:
        """What each row streams as its target: the mask's path (segmentation) or ``y``."""
        return self.y if self.masks is None else self.masks


@dataclass
class ImageInfo:
    """What the scan read from one file's header: ``(height, width)`` and channels."""

    size: tuple[int, int]
    channels: int


@dataclass
class ScanResult:
    """``good``: header facts per readable file; ``bad``: ``(path, problem)`` pairs."""

    good: dict[str, ImageInfo]
    bad: list[tuple[str, str]]


# ----------------------------------------------------------------------------- folders
def folder_index(root: Path, *, skip_empty: bool) -> FileIndex:
    """Index an image folder (class folders, or train/valid/test split folders)."""
    if not root.is_dir():
        raise KerasbuildError(
            f"data.source: {root} is neither a .npz file, a .csv file, TFRecord shards nor a folder"
        )
    splits = {
        part: root / name
        for part, names in SPLIT_FOLDERS.items()
        for name in names
        if (root / name).is_dir()
    }
    if "train" not in splits:
        return _class_folders(root, None, skip_empty=skip_empty)
    index = _class_folders(splits["train"], None, skip_empty=skip_empty)
    for part in ("valid", "test"):
        if part in splits:
            index.explicit[part] = _class_folders(
                splits[part], index.class_names, skip_empty=skip_empty
            )
    return index


def _class_folders(root: Path, classes: list[str] | None, *, skip_empty: bool) -> FileIndex:
    """``root/CLASS/image`` files; ``classes`` fixes the class list (a split folder must use
    the training split's classes)."""
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise KerasbuildError(
            f"data.source: {root} has no class sub-folders (expected one folder per class)"
        )
    if classes is not None and set(found) - set(classes):
        extra = sorted(set(found) - set(classes))
        raise KerasbuildError(
            f"data.source: {root} has class folders the training split lacks: {', '.join(extra)}"
        )
    paths, labels, empty = [], [], []
    names = classes if classes is not None else found
    for label, name in enumerate(names):
        files = (
            sorted(
                str(f)
                for f in (root / name).iterdir()
                if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
            )
            if (root / name).is_dir()
            else []
        )
        if not files and classes is None:
            empty.append(name)
        paths += files
        labels += [label] * len(files)
    if empty and not skip_empty:
        raise KerasbuildError(
            f"data.source: class folder {root / empty[0]} has no images "
            f"({', '.join(IMAGE_SUFFIXES)}); add images, remove the folder, or set "
            "data.on_bad_image: skip to leave empty classes out"
        )
    if empty:
        kept = [n for n in names if n not in empty]
        remap = {names.index(n): i for i, n in enumerate(kept)}
        labels = [remap[label] for label in labels]
        names = kept
    if not paths:
        raise KerasbuildError(f"data.source: no images ({', '.join(IMAGE_SUFFIXES)}) under {root}")
    return FileIndex(np.array(paths), np.array(labels, np.int64), "classification", list(names))


# --------------------------------------------------------------------------------- CSV
def is_path_csv(path: Path, path_column: str) -> bool:
    """Whether the CSV's header names ``path_column`` (else it is the keypoints layout)."""
    with open(path, newline="") as handle:
        header = next(csv.reader(handle), None) or []
    return path_column in header


def csv_index(path: Path, path_column: str, label_column: str) -> FileIndex:
    """A CSV with ``path_column`` (relative to the CSV's folder) and ``label_column`` (class
    names or integers; classification) or, without it, numeric target columns (regression)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise KerasbuildError(f"data.source: {path} has no rows")
    header = list(rows[0])
    paths = []
    for line, row in enumerate(rows, start=2):
        if not row.get(path_column):
            raise KerasbuildError(f"{path}:{line}: empty '{path_column}'")
        paths.append(str((path.parent / row[path_column]).resolve()))
    if label_column in header:
        values = [row[label_column] for row in rows]
        names = sorted(
            set(values),
            key=lambda v: (
                not v.lstrip("-").isdigit(),
                int(v) if v.lstrip("-").isdigit() else 0,
                v,
            ),
        )
        lookup = {n: i for i, n in enumerate(names)}
        return FileIndex(
            np.array(paths),
            np.array([lookup[v] for v in values], np.int64),
            "classification",
            names,
        )
    targets = [h for h in header if h != path_column]
    if not targets:
        raise KerasbuildError(
            f"data.source: {path} has neither a '{label_column}' column nor target columns"
        )
    y = np.empty((len(rows), len(targets)), np.float32)
    for line, row in enumerate(rows, start=2):
        try:
            y[line - 2] = [float(row[t]) for t in targets]
        except (TypeError, ValueError):
            raise KerasbuildError(
                f"{path}:{line}: targets ({', '.join(targets)}) must be numbers"
            ) from None
    return FileIndex(np.array(paths), y, "regression", target_names=targets)


# -------------------------------------------------------------------------------- scan
def check_image(path: str) -> ImageInfo | str:
    """Header facts of one image file, or what is wrong with it. Cheap: a JPEG is decoded at
    1/8 scale (Pillow's draft mode), which still reads every entropy-coded block, so a
    truncated or corrupt file fails here; other formats are decoded fully (small files)."""
    from PIL import Image

    try:
        if Path(path).stat().st_size == 0:
            return "zero-byte file"
        with Image.open(path) as image:
            if image.format not in DECODABLE:
                return f"{image.format} is not a format TensorFlow decodes ({', '.join(DECODABLE)})"
            size = (image.height, image.width)
            mode = image.mode
            if image.format == "JPEG":
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except FileNotFoundError:
        return "file disappeared"
    except Exception as exc:  # Pillow raises many types for undecodable bytes
        return f"not a readable image ({exc})"
    return ImageInfo(size, 1 if mode in ("L", "I", "I;16", "F", "1") else 3)


def scan_files(paths: np.ndarray, workers: int = 8) -> ScanResult:
    """Check every file of an index (threads; Pillow releases the GIL while decoding)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(check_image, [str(p) for p in paths], chunksize=64))
    good = {str(p): r for p, r in zip(paths, results) if isinstance(r, ImageInfo)}
    bad = [(str(p), r) for p, r in zip(paths, results) if isinstance(r, str)]
    return ScanResult(good, bad)
