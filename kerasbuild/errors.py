"""User-facing errors: every problem is located as ``FILE:LINE:COL: field.path: message``.

Nothing here imports TensorFlow. The CLI prints :class:`SpecError` as a list of located
problems and exits with code 1, never with a traceback.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FieldPath = tuple[str | int, ...]
"""Where a value sits in a document: keys and list indices, ``("layers", 3, "num_units")``."""


def format_path(path: Sequence[str | int]) -> str:
    """``("layers", 3, "num_units")`` -> ``"layers.3.num_units"``; empty -> ``"<root>"``.

    A key that is empty or holds dots, spaces, colons, quotes or control characters is shown
    JSON-quoted (``train."max epochs"``, ``layers."block1.conv"``), so a printed problem stays
    one line whose path splits unambiguously at the dots."""
    return ".".join(_path_part(p) for p in path) if path else "<root>"


def _path_part(part: str | int) -> str:
    text = str(part)
    return (
        json.dumps(text)
        if not text or re.search(r'[\s:".\\]', text) or not text.isprintable()
        else text
    )


def did_you_mean(word: str, choices: Iterable[str], n: int = 1) -> str:
    """A ``" (did you mean 'x'?)"`` suffix for a misspelt ``word``, or ``""``."""
    if not isinstance(word, str):
        return ""
    pool = [str(c) for c in choices]
    lowered = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{lowered[c]}'" for c in close) + "?)"


@dataclass(frozen=True)
class Problem:
    """One located problem in a spec or job file."""

    message: str
    path: FieldPath = ()
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        message = " ".join(self.message.splitlines())
        return f"{where}: {format_path(self.path)}: {message}"


@dataclass
class SpecError(Exception):
    """One or more problems found while loading or validating a spec (exit code 1)."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @classmethod
    def single(
        cls,
        message: str,
        path: FieldPath = (),
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> SpecError:
        return cls([Problem(message, tuple(path), file, line, column)])


class SizeLimitError(SpecError):
    """The spec is over a size limit (parameters); the caller knows how the limit is raised."""


class OverrideError(SpecError):
    """A dotted-path override names no place in the spec; the caller knows where it came from."""


class KerasbuildError(Exception):
    """An operational failure with a clear message (exit code given by ``exit_code``)."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
