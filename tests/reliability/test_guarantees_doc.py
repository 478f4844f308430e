"""``docs/guarantees.md`` names the test that proves each promise; every name must exist, so
the page cannot silently point at a test that was renamed or removed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "guarantees.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?::(test_\w+)")


def referenced_tests() -> list[tuple[str, str]]:
    """``(file, test)`` pairs; ``::name`` without a file belongs to the last file named."""
    pairs, current = [], None
    for file, name in REFERENCE.findall(DOC.read_text()):
        current = file or current
        assert current, f"{name} is named before any test file"
        pairs.append((current, name))
    return pairs


def test_every_test_named_in_guarantees_exists():
    pairs = referenced_tests()
    assert len(pairs) >= 40
    missing = []
    for file, name in pairs:
        path = ROOT / file
        defined = set()
        if path.is_file():
            defined = {
                n.name
                for n in ast.walk(ast.parse(path.read_text()))
                if isinstance(n, ast.FunctionDef)
            }
        if name not in defined:
            missing.append(f"{file}::{name}")
    assert missing == []
