"""Output files the commands write: refused when they exist unless ``--overwrite`` is given,
checked before any TensorFlow import so a refusal is immediate."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import KerasbuildError


def check_output_file(path: Path, *, overwrite: bool, suffixes: Iterable[str] = ()) -> None:
    """Raise KerasbuildError when ``path`` does not end in one of ``suffixes`` (when given), is a
    directory, or exists and ``overwrite`` is false."""
    suffixes = tuple(suffixes)
    if suffixes and path.suffix.lower() not in suffixes:
        raise KerasbuildError(f"output must end in {' or '.join(suffixes)}, got {path}")
    if path.is_dir():
        raise KerasbuildError(f"output {path} is a directory; name a file")
    if path.exists() and not overwrite:
        raise KerasbuildError(f"{path} already exists; pass --overwrite to replace it")
