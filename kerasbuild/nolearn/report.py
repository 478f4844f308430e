"""What a conversion could not translate (problems) and what it dropped harmlessly (notes)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """``problems`` and ``notes`` as ``(line, message)`` with 1-based source lines."""

    problems: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        if (line, message) not in self.problems:
            self.problems.append((line, message))

    def note(self, line: int, message: str) -> None:
        if (line, message) not in self.notes:
            self.notes.append((line, message))
