"""Read nolearn-era Python 2 scripts: the statements Python 3 cannot parse are rewritten line by
line, keeping every line number, so the rest of the script can still be read.

Only statements that never matter to a ``NeuralNet(...)`` call are touched: ``print x`` and
``exec code`` become ``pass``, ``except E, e:`` becomes ``except E as e:``, ``raise E, msg``
becomes ``raise E``. Anything else is left as a syntax error.
"""

from __future__ import annotations

import ast
import re

MAX_FIXES = 500

_EXCEPT = re.compile(r"^(\s*except\s+)(.+?)\s*,\s*([A-Za-z_]\w*)\s*:(.*)$")
_RAISE = re.compile(r"^(\s*raise\s+[\w.]+)\s*,.*$")
_STATEMENT = re.compile(r"^(\s*)(print|exec)\b(?!\s*\()(.*)$")


def parse(source: str, filename: str) -> tuple[ast.Module, list[tuple[int, str]]]:
    """Parse ``source``; on Python 2 syntax rewrite the offending line and retry. Returns the
    tree and a note per rewritten line; raises the :class:`SyntaxError` it cannot fix."""
    lines = source.split("\n")
    notes: list[tuple[int, str]] = []
    for _ in range(MAX_FIXES):
        try:
            return ast.parse("\n".join(lines), filename=filename), notes
        except SyntaxError as exc:
            number = exc.lineno or 0
            fixed = _fix(lines[number - 1]) if 1 <= number <= len(lines) else None
            if fixed is None:
                raise
            notes.append(
                (number, f"Python 2 syntax read as Python 3: {lines[number - 1].strip()[:60]!r}")
            )
            lines[number - 1] = fixed
    raise SyntaxError(f"more than {MAX_FIXES} Python 2 statements")


def _fix(line: str) -> str | None:
    match = _EXCEPT.match(line)
    if match:
        return f"{match.group(1)}{match.group(2)} as {match.group(3)}:{match.group(4)}"
    match = _RAISE.match(line)
    if match:
        return match.group(1)
    match = _STATEMENT.match(line)
    if match and not match.group(3).rstrip().endswith(("\\", "(", "[", "{", ",")):
        return f"{match.group(1)}pass"
    return None
