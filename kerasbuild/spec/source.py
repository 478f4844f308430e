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
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
)

from ..errors import FieldPath, Problem, SpecError

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_DEPTH = 64
_RUAMEL_FAILURES = (AssertionError, AttributeError, TypeError, ValueError, KeyError, IndexError)
"""What ruamel.yaml raises, besides YAMLError, on some malformed input."""
MAX_INT = 2**63 - 1
"""Integers beyond int64 are refused where they are read (no size can be that large)."""
_STANDARD_TAGS = {
    None,
    "?",
    "!",
    *(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")),
}


@dataclass
class Source:
    """Plain data read from one file (or given as a mapping) and where each value came from."""

    data: Any
    file: str | None = None
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: FieldPath) -> tuple[int | None, int | None]:
        """Position of ``path`` or of its nearest located ancestor."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None, None
            path = path[:-1]

    def problem(self, message: str, path: FieldPath = ()) -> Problem:
        line, column = self.locate(path)
        return Problem(message, self.display_path(path), self.file, line, column)

    def display_path(self, path: FieldPath) -> FieldPath:
        """``("layers", 3, "num_units")`` -> ``("layers", "fc1", "num_units")`` when layer 3 has
        a unique name: indices shift when inputs are prepended or blocks expanded, names do not
        (they are also how placeholders and ``--set`` address layers)."""
        path = tuple(path)
        layers = self.data.get("layers") if isinstance(self.data, dict) else None
        if (
            len(path) < 2
            or path[0] != "layers"
            or not isinstance(path[1], int)
            or not isinstance(layers, list)
        ):
            return path
        names = [_layer_name(item) for item in layers]
        name = names[path[1]] if 0 <= path[1] < len(names) else None
        if name is None or names.count(name) > 1:
            return path
        return ("layers", name, *path[2:])

    def error(self, message: str, path: FieldPath = ()) -> SpecError:
        return SpecError([self.problem(message, path)])


def _layer_name(item: Any) -> str | None:
    """The name of a ``layers`` entry in any form (mapping, ``[name, Type, ...]``), or None."""
    if isinstance(item, dict):
        name = item.get("name")
    elif isinstance(item, list) and len(item) >= 2 and isinstance(item[1], str):
        name = item[0]
    else:
        return None
    return name if isinstance(name, str) and name else None


def _fail(file: str, message: str, line: int | None = None, column: int | None = None):
    raise SpecError([Problem(" ".join(message.split()), (), file, line, column)])


def parse_file(path: str | Path) -> Source:
    """Read a spec file (``.yaml``, ``.yml`` or ``.json``) into a :class:`Source`."""
    file = str(path)
    fs_path = Path(path)
    try:
        if not fs_path.exists():
            _fail(file, "file not found")
        if fs_path.is_dir():
            _fail(file, "is a directory, expected a YAML or JSON spec file")
        size = fs_path.stat().st_size
        if size > MAX_BYTES:
            _fail(file, f"file is {size:,} bytes; spec files are limited to {MAX_BYTES:,} bytes")
        with fs_path.open("rb") as handle:  # bounded: devices and pipes report no size
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        _fail(file, f"cannot read file: {exc.strerror or exc}")
    if len(raw) > MAX_BYTES:
        _fail(file, f"file is larger than {MAX_BYTES:,} bytes, the limit for spec files")
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
            _fail(
                file,
                f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                line,
                1,
            )
    else:
        text = raw.lstrip("\ufeff")
    if not text.strip():
        _fail(file, "file is empty; expected a YAML or JSON mapping")
    if "\x00" in text:
        _fail(file, "file contains NUL bytes; expected YAML or JSON text")
    if file.endswith(".json"):
        try:
            values = _count_values(json.loads(text, parse_constant=_reject_constant))
        except json.JSONDecodeError as exc:
            _fail(file, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)
        except ValueError as exc:
            _fail(file, f"invalid JSON: {exc}", *_constant_position(text))
        except RecursionError:
            pass  # located by the event scan below
        else:
            if values > MAX_NODES:
                _fail(
                    file,
                    f"the document holds {values:,} values, more than {MAX_NODES:,}; specs this "
                    "large are refused before building anything",
                )
    directive = re.search(r"^%YAML[ \t]+(\S*)", text, re.MULTILINE)
    if directive and directive.group(1) != "1.2":
        _fail(
            file,
            f"%YAML {directive.group(1)} is not supported: spec files are read as YAML 1.2 "
            "(remove the directive)",
            text.count("\n", 0, directive.start()) + 1,
            1,
        )
    _scan_events(text, file)
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        with warnings.catch_warnings():  # ruamel warns on stderr; problems are reported as errors
            warnings.simplefilter("ignore")
            tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "expected a single document" in str(exc) or "but found another document" in str(exc):
            problem = "multi-document streams are not supported; put one spec per file"
        if "found duplicate key" in str(exc) or "DuplicateKey" in type(exc).__name__:
            problem = "duplicate key " + (
                problem.split("key", 1)[-1].strip() if "key" in problem else ""
            )
        _fail(file, problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None)
    except RecursionError:
        _fail(file, f"nesting is deeper than {MAX_DEPTH} levels")
    except _RUAMEL_FAILURES as exc:
        # ruamel.yaml fails this way on some malformed merges (``<<``) and directives
        _fail(file, f"invalid YAML: the document cannot be built ({type(exc).__name__}: {exc})")
    except YAMLError as exc:
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        column = position - text.rfind("\n", 0, position) if isinstance(position, int) else None
        _fail(file, f"invalid YAML: {str(exc).splitlines()[0]}", line, column)
    source = Source(None, file)
    counter = [0]
    source.data = _to_plain(tree, (), source, counter, 0)
    return source


def _scan_events(text: str, file: str) -> None:
    """Refuse non-standard tags, documents nested deeper than :data:`MAX_DEPTH` and documents
    holding more than :data:`MAX_NODES` values, at the event where that happens.

    The event parser is iterative and constructs nothing, so this is quick, safe and located
    before the composer would recurse (10,000 nested ``[``), spend seconds building nodes
    (huge files) or hand a tagged node (``!!python/...``, ``!!set``) to a constructor.
    Syntax errors are left to the full load, which words them.
    """
    stack: list[list[Any]] = []  # [is_mapping, children so far, current key or index, anchor]
    values = 0
    anchors: dict[str, int] = {}  # anchor -> line first defined
    try:
        for event in YAML(typ="rt", pure=True).parse(text):
            if isinstance(event, NodeEvent):
                is_key = bool(stack) and stack[-1][0] and stack[-1][1] % 2 == 0
                if stack:
                    level = stack[-1]
                    if not level[0]:
                        level[2] = level[1]
                    elif is_key:
                        level[2] = getattr(event, "value", "?")
                    level[1] += 1
                if not is_key:
                    values += 1
                mark = event.start_mark
                where = (mark.line + 1, mark.column + 1)
                if values > MAX_NODES:
                    _fail(
                        file,
                        f"the document holds more than {MAX_NODES:,} values; specs this large "
                        "are refused before building anything",
                        *where,
                    )
                if getattr(event, "tag", None) not in _STANDARD_TAGS:
                    raise SpecError(
                        [
                            Problem(
                                f"YAML tag '{event.tag}' is not allowed: spec files are plain data "
                                "and never "
                                "construct objects or run code",
                                tuple(level[2] for level in stack),
                                file,
                                *where,
                            )
                        ]
                    )
                anchor = getattr(event, "anchor", None)
                if anchor is not None and not isinstance(event, AliasEvent):
                    if anchor in anchors:
                        raise SpecError(
                            [
                                Problem(
                                    f"anchor '&{anchor}' is defined twice (first on line "
                                    f"{anchors[anchor]}); "
                                    "give each anchor its own name",
                                    tuple(level[2] for level in stack),
                                    file,
                                    *where,
                                )
                            ]
                        )
                    anchors[anchor] = where[0]
                if isinstance(event, AliasEvent) and event.anchor in {level[3] for level in stack}:
                    raise SpecError(
                        [
                            Problem(
                                f"recursive alias '*{event.anchor}': it refers to a node that "
                                "contains it",
                                tuple(level[2] for level in stack),
                                file,
                                *where,
                            )
                        ]
                    )
                if isinstance(event, CollectionStartEvent):
                    stack.append([isinstance(event, MappingStartEvent), 0, None, event.anchor])
                    if len(stack) > MAX_DEPTH:
                        _fail(file, f"nesting is deeper than {MAX_DEPTH} levels", *where)
            elif isinstance(event, CollectionEndEvent) and stack:
                stack.pop()
    except (YAMLError, *_RUAMEL_FAILURES):
        return  # the full load reports it


def _count_values(data: Any) -> int:
    """Number of values (not keys) in parsed JSON, counted without recursion."""
    count, todo = 0, [data]
    while todo:
        node = todo.pop()
        count += 1
        if isinstance(node, dict):
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return count


def _constant_position(text: str) -> tuple[int | None, int | None]:
    """Line and column of the first bare ``NaN``/``Infinity`` in JSON text (outside strings)."""
    match = re.search(r'(?<![\w"])-?(NaN|Infinity)(?![\w"])', text)
    if match is None:
        return None, None
    line = text.count("\n", 0, match.start()) + 1
    return line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a spec; write a finite number")


def _tag_of(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    if tag is None:
        return None
    return getattr(tag, "value", tag) if not isinstance(tag, str) else tag


def _to_plain(node: Any, path: FieldPath, source: Source, counter: list[int], depth: int) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise source.error(
            f"document expands to more than {MAX_NODES:,} values (an alias bomb?); "
            "specs this large are refused",
            path,
        )
    if depth > MAX_DEPTH:
        raise source.error(f"nesting is deeper than {MAX_DEPTH} levels", path)
    if (
        isinstance(node, (CommentedMap, CommentedSeq))
        and path not in source.positions
        and node.lc.line is not None
    ):
        source.positions[path] = (node.lc.line + 1, node.lc.col + 1)
    if isinstance(node, TaggedScalar) or _tag_of(node) not in _STANDARD_TAGS:
        raise source.error(
            f"YAML tag '{_tag_of(node)}' is not allowed: spec files are plain data and "
            "never construct objects or run code",
            path,
        )
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            if not isinstance(key, (str, int, float, bool)) or isinstance(
                key, (CommentedMap, CommentedSeq)
            ):
                raise source.error(
                    f"mapping keys must be plain scalars (strings), found "
                    f"{type(key).__name__.removeprefix('Commented')}",
                    path,
                )
            try:
                line, col = node.lc.key(key)
                source.positions[path + (str(key),)] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            out[str(key)] = _to_plain(node[key], path + (str(key),), source, counter, depth + 1)
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
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        if abs(node) > MAX_INT:
            raise source.error(
                f"integer with {len(str(abs(node)))} digits is out of range (at most "
                f"{MAX_INT:,}); sizes this large are refused",
                path,
            )
        return int(node)
    if isinstance(node, float):
        value = float(node)
        if not math.isfinite(value):
            raise source.error(f"{value} is not allowed; write a finite number", path)
        return value
    if isinstance(node, str):
        return str(node)
    raise source.error(
        f"unsupported YAML value of type {type(node).__name__.removeprefix('Commented')}: "
        "spec values are strings, numbers, booleans, null, lists and mappings "
        "(quote it to make it a string)",
        path,
    )


def from_mapping(data: Any, file: str | None = None) -> Source:
    """Wrap an in-memory mapping (already plain data) as a :class:`Source` without positions."""
    return Source(data, file)
