"""The malformed-spec corpus: static files in ``corpus/`` with their expectations in
``cases.yaml``, plus cases too large to keep in the repository, generated on demand."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
VALID = HERE / "valid"

_PART = r'(?:[^\s:".]+|"(?:[^"\\]|\\.)*")'
PROBLEM_RE = re.compile(
    rf"^(?P<file>.+?)(?::(?P<line>\d+):(?P<column>\d+))?: (?P<path><root>|{_PART}(?:\.{_PART})*): "
    r"(?P<message>\S.*)$"
)
"""One printed problem: ``FILE:LINE:COL: field.path: message`` or ``FILE: field.path: message``."""

SENTINEL = Path("/tmp/kerasbuild-corpus-pwned")
"""The file the code-execution cases try to create; it must never appear."""


def static_cases() -> dict[str, dict]:
    """``{file name: {line, path, message}}`` from ``cases.yaml``."""
    return dict(YAML(typ="safe", pure=True).load((HERE / "cases.yaml").read_text()))


def _deep(opening: str, closing: str, leaf: str = "") -> str:
    return opening * 10_000 + leaf + closing * 10_000


GENERATED: dict[str, tuple[Callable[[], str], dict]] = {
    "huge_file.yaml": (
        lambda: (
            "name: big\ninput: {shape: [4]}\n"
            "layers:\n  - {name: out, type: DenseLayer, num_units: 3}\n" + "# padding\n" * 220_000
        ),
        {"line": None, "path": "<root>", "message": "spec files are limited to 2,000,000 bytes"},
    ),
    "deep_list.yaml": (
        lambda: "layers: " + _deep("[", "]"),
        {"line": 1, "path": "<root>", "message": "nesting is deeper than 64 levels"},
    ),
    "deep_map.yaml": (
        lambda: "layers: " + _deep("{a: ", "}", "1"),
        {"line": 1, "path": "<root>", "message": "nesting is deeper than 64 levels"},
    ),
    "deep_list.json": (
        lambda: '{"layers": ' + _deep("[", "]") + "}",
        {"line": 1, "path": "<root>", "message": "nesting is deeper than 64 levels"},
    ),
    "deep_map.json": (
        lambda: '{"layers": ' + _deep('{"a": ', "}", "1") + "}",
        {"line": 1, "path": "<root>", "message": "nesting is deeper than 64 levels"},
    ),
    "layers_100k.json": (
        lambda: (
            '{"input": {"shape": [4]}, "layers": ['
            + ",".join(f'["d{i}","Dense"]' for i in range(100_000))
            + "]}"
        ),
        {"line": None, "path": "<root>", "message": "holds 300,005 values, more than 200,000"},
    ),
    "layers_20k.yaml": (
        lambda: (
            "name: many\ninput: {shape: [4]}\nlayers:\n"
            + "".join(f"  - d{i}\n" for i in range(20_000))
        ),
        {"line": 3, "path": "layers", "message": "'layers' has 20,000 entries; at most 10,000"},
    ),
}
"""Cases generated into a temporary directory: 10,000 nested brackets, files over 2 MB,
10^5 and 2x10^4 layers."""


def write_generated(directory: Path) -> dict[str, dict]:
    """Write every generated case into ``directory``; return their expectations."""
    out = {}
    for name, (make, expected) in GENERATED.items():
        (directory / name).write_text(make(), encoding="utf-8")
        out[name] = expected
    return out
