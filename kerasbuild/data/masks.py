"""Segmentation masks streamed from disk: the paired-folder layout and the checks every mask
passes before training (no TensorFlow).

Layout (``data: {source: IMAGES, masks: MASKS}``, as Oxford-IIIT Pet's ``images/`` and
``annotations/trimaps/``): every image under ``IMAGES`` (any depth) has its mask at the same
relative place under ``MASKS`` with the same stem and ``.png``: ``IMAGES/a/x.jpg`` ->
``MASKS/a/x.png``. With ``train/``, ``valid/`` (``validation/``, ``val/``) and ``test/`` split
folders under ``IMAGES`` the masks mirror them (``MASKS/train/x.png``) and the splits are
explicit. A mask is a PNG of the image's height and width holding one integer class id per
pixel: 8-bit grey (Pillow mode ``L``), one channel. Palette PNGs are refused: TensorFlow's
decoder reads their colours, not their indices.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import KerasbuildError
from .index import SPLIT_FOLDERS, FileIndex, ImageInfo, check_image
from .sources import IMAGE_SUFFIXES

MASK_SUFFIX = ".png"
_MODES = {
    "P": "a palette PNG (TensorFlow would read its colours, not the class ids)",
    "1": "a 1-bit PNG (TensorFlow would read 0 and 255)",
    "I;16": "a 16-bit PNG",
    "I": "a 32-bit PNG",
}


@dataclass
class MaskFacts:
    """One mask: ``(height, width)`` and its largest class id."""

    size: tuple[int, int]
    largest: int


@dataclass
class PairScan:
    """``good``: image path -> (its image's header facts, its mask's facts); ``bad``:
    ``(image path, problem)`` pairs."""

    good: dict[str, tuple[ImageInfo, MaskFacts]]
    bad: list[tuple[str, str]]


# ------------------------------------------------------------------------------ layout
def mask_folder_index(root: Path, masks: Path) -> FileIndex:
    """Index paired image and mask folders: ``y`` is filled by the scan (each mask's largest
    class id); split folders under ``root`` become explicit splits."""
    if not root.is_dir():
        raise KerasbuildError(f"data.source: {root} is not a folder of images")
    if not masks.is_dir():
        raise KerasbuildError(f"data.masks: {masks} is not a folder of masks")
    splits = {
        part: name
        for part, names in SPLIT_FOLDERS.items()
        for name in names
        if (root / name).is_dir()
    }
    if "train" not in splits:
        return _pairs(root, masks, root)
    index = _pairs(root / splits["train"], masks / splits["train"], root)
    for part in ("valid", "test"):
        if part in splits:
            index.explicit[part] = _pairs(root / splits[part], masks / splits[part], root)
    return index


def _pairs(images: Path, masks: Path, source: Path) -> FileIndex:
    """Every image under ``images`` (sorted, any depth, the mask folder left out when it lies
    inside) with its mask's expected path under ``masks``."""
    masks_inside = masks.resolve()
    paths = sorted(
        f
        for f in images.rglob("*")
        if f.is_file()
        and f.suffix.lower() in IMAGE_SUFFIXES
        and masks_inside not in f.resolve().parents
    )
    if not paths:
        raise KerasbuildError(
            f"data.source: no images ({', '.join(IMAGE_SUFFIXES)}) under {images}"
        )
    expected = [masks / f.relative_to(images).with_suffix(MASK_SUFFIX) for f in paths]
    return FileIndex(
        np.array([str(p) for p in paths]),
        np.zeros(len(paths), np.int64),
        "segmentation",
        masks=np.array([str(m) for m in expected]),
    )


# ------------------------------------------------------------------------------ checks
def check_mask(mask: str | bytes) -> MaskFacts | str:
    """Facts of one mask (a path or encoded bytes), or what is wrong with it: not a PNG,
    not 8-bit single-channel, unreadable. Decodes the mask fully (masks are small)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(mask) if isinstance(mask, bytes) else mask) as image:
            if image.format != "PNG":
                return f"is {image.format}, not PNG (masks must be lossless)"
            if image.mode != "L":
                what = _MODES.get(image.mode, f"has {len(image.getbands())} channels")
                return (
                    f"is {what} (mode {image.mode}); a mask is an 8-bit single-channel PNG "
                    "of class ids (Pillow mode L)"
                )
            pixels = np.asarray(image)
    except FileNotFoundError:
        return "is missing"
    except Exception as exc:  # Pillow raises many types for undecodable bytes
        return f"is not a readable PNG ({exc})"
    return MaskFacts((pixels.shape[0], pixels.shape[1]), int(pixels.max(initial=0)))


def check_pair(
    image: str | bytes, mask: str | bytes, mask_name: str
) -> tuple[ImageInfo, MaskFacts] | str:
    """Facts of an image and its mask, or what is wrong with either (the mask named
    ``mask_name``): an unreadable image, a bad or missing mask, or sizes that differ."""
    info = check_image(image) if isinstance(image, str) else _image_header(image)
    if isinstance(info, str):
        return info
    facts = check_mask(mask)
    if isinstance(facts, str):
        return f"its mask {mask_name} {facts}"
    if facts.size != info.size:
        return (
            f"its mask {mask_name} is {facts.size[0]}x{facts.size[1]} but the image is "
            f"{info.size[0]}x{info.size[1]} (height x width); a mask has its image's size"
        )
    return info, facts


def _image_header(data: bytes) -> ImageInfo | str:
    """Size and channels of encoded image bytes (the header only)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return ImageInfo((image.height, image.width), 1 if image.mode in ("L", "1") else 3)
    except Exception as exc:  # Pillow raises many types for undecodable bytes
        return f"not a readable image ({exc})"


def scan_pairs(paths: np.ndarray, masks: np.ndarray, workers: int = 8) -> PairScan:
    """Check every image and its mask (threads; Pillow releases the GIL while decoding)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(check_pair, map(str, paths), map(str, masks), map(str, masks)))
    good = {str(p): r for p, r in zip(paths, results) if not isinstance(r, str)}
    bad = [(str(p), r) for p, r in zip(paths, results) if isinstance(r, str)]
    return PairScan(good, bad)
