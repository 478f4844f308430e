"""Read a YAML or JSON spec into plain Python data plus a map of source positions.

YAML is read with ruamel.yaml's YAML 1.2 round-trip loader, which never constructs Python
objects: ``1e-3`` is a float, ``no`` is a string, duplicate keys are errors. On top of that we
refuse anything that is not plain data: non-standard tags (``!!python/...``), multi-document
streams, documents that expand past :data:`MAX_NODES` values through aliases (billion
laughs), nesting deeper than :data:`MAX_DEPTH`, files larger than :data:`MAX_BYTES`.
JSON is parsed strictly with :mod:`json` (trailing garbage, NaN are errors) and then
re-read with ruamel for positions.

Positions are 1-based ``(line, column)`` keyed by the path of the value
(``("layers", 2, "num_units")``); mapping keys are located at the key.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ..errors import Path, Problem, SpecError

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_DEPTH = 64
_STANDARD_TAGS = {
    None, "?", "!",
    *(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")),
}


@dataclass
class Source:
    """Plain data read from one file (or given as a mapping) and where each value came from."""

    data: Any
    file: str | None = None
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path) -> tuple[int | None, int | None]:
        """Position of ``path`` or of its nearest located ancestor."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None, None
            path = path[:-1]

    def problem(self, message: str, path: Path = ()) -> Problem:
        line, column = self.locate(path)
        return Problem(message, tuple(path), self.file, line, column)

    def error(self, message: str, path: Path = ()) -> SpecError:
        return SpecError([self.problem(message, path)])


def _fail(file: str, message: str, line: int | None = None, column: int | None = None):
    raise SpecError([Problem(message, (), file, line, column)])


def read_source(path: str | FsPath) -> Source:
    """Read a spec file (``.yaml``, ``.yml`` or ``.json``) into a :class:`Source`."""
    file = str(path)
    fs_path = FsPath(path)
    if not fs_path.exists():
        _fail(file, "file not found")
    if fs_path.is_dir():
        _fail(file, "is a directory, expected a YAML or JSON spec file")
    size = fs_path.stat().st_size
    if size > MAX_BYTES:
        _fail(file, f"file is {size:,} bytes; spec files are limited to {MAX_BYTES:,} bytes")
    try:
        raw = fs_path.read_bytes()
    except OSError as exc:
        _fail(file, f"cannot read file: {exc.strerror or exc}")
    return parse_text(raw, file)


def parse_text(raw: bytes | str, file: str = "<string>") -> Source:
    """Parse YAML or JSON text (JSON when ``file`` ends in ``.json``)."""
    if isinstance(raw, bytes):
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            _fail(file, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", line, 1)
    else:
        text = raw.lstrip("\ufeff")
    if not text.strip():
        _fail(file, "file is empty; expected a mapping with at least 'layers'")
    if "\x00" in text:
        _fail(file, "file contains NUL bytes; expected YAML or JSON text")
    if file.endswith(".json"):
        try:
            json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            _fail(file, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)
        except ValueError as exc:
            _fail(file, f"invalid JSON: {exc}")
        except RecursionError:
            _fail(file, f"nesting is deeper than {MAX_DEPTH} levels")
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "expected a single document" in str(exc) or "but found another document" in str(exc):
            problem = "multi-document streams are not supported; put one spec per file"
        if "found duplicate key" in str(exc) or "DuplicateKey" in type(exc).__name__:
            problem = "duplicate key " + (problem.split("key", 1)[-1].strip() if "key" in problem else "")
        _fail(file, problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None)
    except RecursionError:
        _fail(file, f"nesting is deeper than {MAX_DEPTH} levels")
    except YAMLError as exc:
        _fail(file, f"invalid YAML: {exc}")
    source = Source(None, file)
    counter = [0]
    source.data = _to_plain(tree, (), source, counter, 0)
    return source


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a spec; write a finite number")


def _tag_of(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    if tag is None:
        return None
    return getattr(tag, "value", tag) if not isinstance(tag, str) else tag


def _to_plain(node: Any, path: Path, source: Source, counter: list[int], depth: int) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise source.error(
            f"document expands to more than {MAX_NODES:,} values (an alias bomb?); "
            "specs this large are refused", path)
    if depth > MAX_DEPTH:
        raise source.error(f"nesting is deeper than {MAX_DEPTH} levels", path)
    if isinstance(node, TaggedScalar) or _tag_of(node) not in _STANDARD_TAGS:
        raise source.error(
            f"YAML tag '{_tag_of(node)}' is not allowed: spec files are plain data and "
            "never construct objects or run code", path)
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, (CommentedMap, CommentedSeq)):
                raise source.error(f"mapping keys must be strings, found {type(key).__name__}", path)
            try:
                line, col = node.lc.key(key)
                source.positions[path + (str(key),)] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            out[str(key)] = _to_plain(node[key], path + (str(key),), source, counter, depth + 1)
        if path not in source.positions and node.lc.line is not None:
            source.positions[path] = (node.lc.line + 1, node.lc.col + 1)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            try:
                line, col = node.lc.item(i)
                source.positions[path + (i,)] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_to_plain(item, path + (i,), source, counter, depth + 1))
        if path not in source.positions and node.lc.line is not None:
            source.positions[path] = (node.lc.line + 1, node.lc.col + 1)
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        value = float(node)
        if not math.isfinite(value):
            raise source.error(f"{value} is not allowed; write a finite number", path)
        return value
    if isinstance(node, str):
        return str(node)
    raise source.error(f"unsupported YAML value of type {type(node).__name__}", path)


def from_mapping(data: Any, file: str | None = None) -> Source:
    """Wrap an in-memory mapping (already plain data) as a :class:`Source` without positions."""
    return Source(data, file)
