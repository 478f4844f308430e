"""The README's commands and example stay true to the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _strip(text: str) -> list[str]:
    lines = [re.sub(r"\s+#.*$", "", line).rstrip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_spec_example_is_the_real_spec() -> None:
    block = README.split("# specs/nielsen_dropout.yaml", 1)[1].split("\n", 1)[1].split("```", 1)[0]
    spec = (ROOT / "specs" / "nielsen_dropout.yaml").read_text()
    assert _strip(block) == _strip(spec)


def test_quick_start_is_the_two_make_targets() -> None:
    quick = README.split("## Quick start", 1)[1].split("## ", 1)[0]
    commands = re.findall(r"^make (\w+)", quick, flags=re.M)
    assert commands == ["demo", "test"]
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_linked_document_exists() -> None:
    for link in re.findall(r"\]\(([^)#]+\.md)\)", README):
        assert (ROOT / link).is_file(), link
