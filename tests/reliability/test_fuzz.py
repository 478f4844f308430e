"""Property-based fuzzing of the loader and validator.

Whatever the input (random text, random bytes, line-level mutations of the specs in
``specs/``, tree-level mutations of their parsed data), loading either succeeds or raises
:class:`SpecError` whose problems all have a message and print as ``FILE:LINE:COL: path:
message`` or ``FILE: path: message``. Any other exception is a bug. Examples are derandomised
(the same ones on every run) and each must finish within :data:`SECONDS`.
"""

from __future__ import annotations

import copy
import io
import json
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from kerasbuild.errors import SpecError
from kerasbuild.spec.format import canonical_yaml
from kerasbuild.spec.loader import load_from_source, load_spec
from kerasbuild.spec.source import parse_text
from kerasbuild.summary import render_summary, summary_dict

from .cases import PROBLEM_RE, SENTINEL

SPECS = sorted((Path(__file__).parents[2] / "specs").glob("*.yaml"))
TEXTS = {p.name: p.read_text() for p in SPECS}
SECONDS = 10.0
"""CPU seconds one example may take."""

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NASTY_SCALARS = [
    "-1",
    "0",
    "1.5",
    ".nan",
    "-.inf",
    "1e400",
    "99999999999999999999999",
    "[]",
    "{}",
    "null",
    "~",
    "true",
    "''",
    "Lambda",
    "TFSMLayer",
    "os.system",
    "'lambda x: x'",
    "*anchor",
    "&anchor x",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system ''",
    "!custom 1",
    "{hp: int, min: 5, max: 1}",
    "{hp: choice, values: []}",
    "{hp: float, min: 0, max: 1, step: 0}",
    "[1, [2, [3]]]",
    "{use: nowhere, name: x}",
    "'\\udc80'",
    "2001-12-14",
    "!!binary aGk=",
    "|\n  text",
    "{module: os, class_name: X}",
    "[null, -5, 28]",
    "&r [*r]",
    "{<<: 5}",
    "&m {<<: *m}",
]
"""Replacement values chosen to reach error paths: code tags, non-finite and huge numbers,
placeholders that are out of range, references to nothing."""


def check(load, file: str | tuple[str, ...], *, printable: bool = True) -> None:
    """Run ``load()``; allow success or a well-formed :class:`SpecError`, nothing else.
    ``file``: the file (or files) problems may name. A spec that loads (``printable``) must
    also print (``summary``, ``summary --json``, ``fmt``) and ``fmt``'s output must load again."""
    start = time.process_time()
    try:
        loaded = load()
        if printable:
            render_summary(loaded, Console(file=io.StringIO(), width=120))
            json.dumps(summary_dict(loaded))
            again = load_from_source(parse_text(canonical_yaml(loaded), "fmt.yaml"))
            assert again.graph.total_params == loaded.graph.total_params
    except SpecError as exc:
        assert exc.problems, "SpecError without problems"
        for problem in exc.problems:
            assert problem.message.strip(), repr(problem)
            text = str(problem)
            match = PROBLEM_RE.match(text)
            assert match and "\n" not in text, text
            assert match["file"] in ((file,) if isinstance(file, str) else file), text
    elapsed = time.process_time() - start
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert not SENTINEL.exists()


@FUZZ
@given(text=st.text(max_size=400), suffix=st.sampled_from([".yaml", ".json"]))
def test_random_text(text, suffix):
    file = "fuzz" + suffix
    check(lambda: load_from_source(parse_text(text, file)), file)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".yaml", ".json"]))
def test_random_bytes(data, suffix):
    file = "fuzz" + suffix
    check(lambda: load_from_source(parse_text(data, file)), file)


LINE_OPS = (
    "delete",
    "duplicate",
    "swap",
    "tag",
    "replace_value",
    "typo_key",
    "indent",
    "truncate",
    "chars",
)
SYNTAX_CHARS = [
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "-",
    "&a ",
    "*a",
    "!",
    "'",
    '"',
    "#",
    "|",
    ">",
    "\t",
    "%",
    "@",
    "`",
    "%YAML 1.1\n---\n",
    "%TAG ! tag:yaml.org,2002:\n---\n",
    "? ",
    "---",
    "...",
    "\\",
    "\x00",
    "\ufeff",
    "\u2028",
]


@st.composite
def mutated_spec_text(draw) -> str:
    """A spec from ``specs/`` with 1-3 line-level mutations."""
    lines = TEXTS[draw(st.sampled_from(sorted(TEXTS)))].splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        op = draw(st.sampled_from(LINE_OPS))
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], line
        elif op == "tag" and ": " in line:
            key, _, value = line.partition(": ")
            lines[i] = (
                f"{key}: "
                f"{draw(st.sampled_from(['!!python/object/apply:os.system', '!x', '!!set']))} "
                f"{value}"
            )
        elif op == "replace_value" and ": " in line:
            key, _, value = line.partition(": ")
            if draw(st.booleans()) and "," in value:
                parts = value.split(",")
                k = draw(st.integers(0, len(parts) - 1))
                head, sep, _ = parts[k].partition(": ")
                parts[k] = f"{head}{sep or ': '}{draw(st.sampled_from(NASTY_SCALARS))}"
                lines[i] = key + ": " + ",".join(parts)
            else:
                lines[i] = f"{key}: {draw(st.sampled_from(NASTY_SCALARS))}"
        elif op == "typo_key" and ":" in line:
            key, sep, value = line.partition(":")
            pos = draw(st.integers(0, max(len(key) - 1, 0)))
            lines[i] = (
                key[:pos] + draw(st.sampled_from(["", "x", "_"])) + key[pos + 1 :] + sep + value
            )
        elif op == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "   ", "\t"])) + line.lstrip()
        elif op == "truncate":
            lines[i] = line[: draw(st.integers(0, len(line)))]
        elif op == "chars":
            pos = draw(st.integers(0, len(line)))
            lines[i] = line[:pos] + draw(st.sampled_from(SYNTAX_CHARS)) + line[pos:]
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=60)
@given(text=mutated_spec_text())
def test_mutated_spec_files(text):
    check(lambda: load_from_source(parse_text(text, "mutated.yaml")), "mutated.yaml")


VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "relu", "Lambda", "os.system", "DenseLayer", "input", "same", "$x"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["type", "name", "hp", "x"]), inner, max_size=3)
    ),
    max_leaves=6,
)

TREES = {name: parse_text(text, name).data for name, text in TEXTS.items()}


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, path + (i,))
    return out


@st.composite
def mutated_spec_tree(draw) -> dict:
    """A parsed spec with 1-3 tree mutations: delete or rename a key, replace a value."""
    tree = copy.deepcopy(TREES[draw(st.sampled_from(sorted(TREES)))])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(tree)[1:]))
        parent = tree
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        op = draw(st.sampled_from(["delete", "rename", "replace"]))
        if op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[key + draw(st.sampled_from(["s", "_", "x"]))] = parent.pop(key)
        else:
            parent[key] = draw(VALUES)
    return tree


@settings(FUZZ, max_examples=60)
@given(tree=mutated_spec_tree())
def test_mutated_spec_mappings(tree):
    check(lambda: load_spec(tree), "<spec>")


@st.composite
def overrides(draw) -> tuple[str, dict[str, Any]]:
    """``--set`` overrides: dotted paths made of real keys, layer names, indices and junk."""
    name = draw(st.sampled_from(sorted(TREES)))
    paths = _paths(TREES[name])[1:]
    out = {}
    for _ in range(draw(st.integers(1, 3))):
        parts = [str(p) for p in draw(st.sampled_from(paths))]
        if draw(st.booleans()):
            parts.append(
                draw(st.sampled_from(["x", "0", "-1", "", "hp", "99999999999999999999", "name"]))
            )
        if draw(st.booleans()):
            parts = parts[: draw(st.integers(1, len(parts)))]
        out[".".join(parts)] = draw(VALUES)
    return name, out


@settings(FUZZ, max_examples=40)
@given(case=overrides())
def test_random_overrides(case):
    name, values = case
    path = SPECS[[p.name for p in SPECS].index(name)]
    arguments = [
        f"--set {k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in values.items()
    ]
    check(lambda: load_spec(path, overrides=values), (str(path), *arguments))


SCRIPTS = {
    p.name: p.read_text()
    for p in sorted((Path(__file__).parents[1] / "nolearn" / "scripts").glob("*.py"))
}
SCRIPT_JUNK = [
    "(",
    ")",
    "[",
    ",",
    ":",
    "=",
    "lambda x: x",
    "-1",
    "1e400",
    "**",
    "\\",
    "exec 'x'",
    "print x",
    "NeuralNet(",
    "9" * 400,
    "import os",
    "os.system('touch /tmp/kerasbuild-corpus-pwned')",
]


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_mutated_nolearn_scripts(data):
    """``from-nolearn`` reads scripts with :mod:`ast` only: mutated scripts convert or report
    located problems (line, message), never run and never raise anything else."""
    from kerasbuild.nolearn.convert import from_nolearn

    lines = SCRIPTS[data.draw(st.sampled_from(sorted(SCRIPTS)))].split("\n")
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        pos = data.draw(st.integers(0, len(lines[i])))
        if data.draw(st.booleans()):
            lines[i] = lines[i][:pos] + data.draw(st.sampled_from(SCRIPT_JUNK)) + lines[i][pos:]
        else:
            del lines[i]
    start = time.process_time()
    try:
        result = from_nolearn("\n".join(lines), "script.py")
    except SpecError as exc:
        assert all(PROBLEM_RE.match(str(p)) for p in exc.problems), str(exc)
    else:
        for line, message in result.problems:
            assert isinstance(line, int) and line >= 0 and message.strip()
    assert time.process_time() - start < SECONDS
    assert not SENTINEL.exists()


JOBS = {
    p.name: p.read_text()
    for p in sorted((Path(__file__).parents[2] / "tuning").glob("*.yaml"))
    if "\nspec:" in "\n" + p.read_text()
}
SPACES = sorted((Path(__file__).parents[2] / "tuning").glob("*_space.yaml"))


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_mutated_job_files(data, tmp_path_factory):
    """Search-job files from ``tuning/`` with line mutations load or fail with located problems."""
    from kerasbuild.tuning.job import load_job

    name = data.draw(st.sampled_from(sorted(JOBS)))
    lines = JOBS[name].splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        if data.draw(st.booleans()) and ": " in lines[i]:
            lines[i] = (
                lines[i].partition(": ")[0] + ": " + data.draw(st.sampled_from(NASTY_SCALARS))
            )
        else:
            pos = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + data.draw(st.sampled_from(SYNTAX_CHARS)) + lines[i][pos:]
    directory = tmp_path_factory.mktemp("job")
    for space in SPACES:
        (directory / space.name).write_text(space.read_text())
    job = directory / name
    job.write_text("\n".join(lines) + "\n")
    check(
        lambda: load_job(job),
        (str(job), *(str(directory / s.name) for s in SPACES)),
        printable=False,
    )


LAYER_VALUES = [
    None,
    0,
    1,
    2,
    3,
    -1,
    5,
    100,
    0.0,
    0.5,
    1.5,
    -0.5,
    True,
    "same",
    "valid",
    "full",
    "x",
    "",
    [],
    [1],
    [1, 2],
    [2, 2, 2],
    [0, 0],
    [-1, 3],
    [[1, 2]],
    {},
    "relu",
    "max",
    [1, None],
    10**12,
]


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_every_registered_layer_with_random_parameters(data):
    """Every registry entry, any parameters, any input rank: a located problem or a graph,
    never an exception from its shape inference (``infer`` must be total)."""
    from kerasbuild.layers.registry import entries

    entry = data.draw(st.sampled_from([e for e in entries() if e.max_inputs != 0]))
    fields = sorted(set(entry.schema.model_fields) - {"name", "type", "incoming", "incomings"})
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=3)) if fields else []
    params = {f: data.draw(st.sampled_from(LAYER_VALUES)) for f in chosen}
    shape = data.draw(st.lists(st.sampled_from([1, 2, 3, 5, 8, None]), min_size=1, max_size=4))
    count = 1 if entry.max_inputs == 1 else data.draw(st.integers(1, 3))
    layers = [{"name": f"in{k}", "type": "InputLayer", "shape": shape} for k in range(count)]
    wiring = (
        {"incoming": "in0"}
        if entry.max_inputs == 1
        else {"incomings": [f"in{k}" for k in range(count)]}
    )
    layer = {"name": "x", "type": data.draw(st.sampled_from(entry.type_names)), **params, **wiring}
    check(lambda: load_spec({"layers": [*layers, layer], "outputs": ["x"]}), "<spec>")
