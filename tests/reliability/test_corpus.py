"""Every malformed spec in the corpus is refused with a located problem, in bounded time,
without running code; the BOM files load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kerasbuild.errors import SpecError, format_path
from kerasbuild.spec.loader import load_spec

from .cases import CORPUS, PROBLEM_RE, SENTINEL, VALID, static_cases, write_generated

CASES = static_cases()
SECONDS = 20.0
"""CPU seconds one case may take (CPU time, so a busy machine does not fail the bound)."""


def check_refused(path: Path, expected: dict) -> SpecError:
    """Load ``path``; assert the :class:`SpecError` matches ``expected`` and every problem
    prints as ``FILE:LINE:COL: path: message`` (or ``FILE: path: message``)."""
    start = time.process_time()
    with pytest.raises(SpecError) as info:
        load_spec(path)
    elapsed = time.process_time() - start
    assert elapsed < SECONDS, f"{path.name} took {elapsed:.1f} s"
    problems = info.value.problems
    assert problems
    for problem in problems:
        assert problem.message.strip()
        match = PROBLEM_RE.match(str(problem))
        assert match, str(problem)
        assert match["file"] == str(path)
        assert (match["line"] is None) == (problem.line is None)
    hits = [p for p in problems if expected["message"] in p.message]
    assert hits, f"no problem mentions {expected['message']!r}: {info.value}"
    first = hits[0]
    assert first.line == expected["line"], str(first)
    if first.line is not None:
        assert first.column >= 1
    if expected["path"] is not None:
        assert format_path(first.path) == expected["path"], str(first)
    return info.value


def test_every_corpus_file_has_an_expectation():
    files = {p.name for p in CORPUS.iterdir()}
    assert files == set(CASES)
    assert len(files) >= 130


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file_is_refused_with_located_problem(name):
    check_refused(CORPUS / name, CASES[name])
    assert not SENTINEL.exists()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    directory = tmp_path_factory.mktemp("generated")
    return directory, write_generated(directory)


@pytest.mark.parametrize(
    "name",
    [
        "huge_file.yaml",
        "deep_list.yaml",
        "deep_map.yaml",
        "deep_list.json",
        "deep_map.json",
        "layers_100k.json",
        "layers_20k.yaml",
    ],
)
def test_generated_case_is_refused_quickly(generated, name):
    directory, expected = generated
    check_refused(directory / name, expected[name])


def test_huge_file_is_over_two_megabytes(generated):
    directory, _ = generated
    assert (directory / "huge_file.yaml").stat().st_size > 2_000_000
    assert (directory / "deep_list.yaml").read_text().count("[") == 10_000


def test_code_loading_names_are_refused_by_name_not_as_unknown():
    for name in (
        "lambda_layer.yaml",
        "tfsm_layer.yaml",
        "keras_lambda_layer.yaml",
        "lambda_in_block.yaml",
        "lambda_in_choice.yaml",
        "lambda_layer.json",
    ):
        with pytest.raises(SpecError) as info:
            load_spec(CORPUS / name)
        text = str(info.value)
        assert "code-loading layers" in text and "are not allowed" in text
        assert "unknown layer type" not in text


def test_absurd_sizes_state_the_estimate():
    with pytest.raises(SpecError) as info:
        load_spec(CORPUS / "params_1e12.yaml")
    assert "1,000,001,000,000 parameters (3,725.3 GiB as float32)" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_spec(CORPUS / "giant_input.yaml")
    assert "3,000,000,000,003 activation values (11,175.9 GiB as float32)" in str(info.value)


@pytest.mark.parametrize(
    ("name", "params"), [("bom.yaml", 28 * 28 * 10 + 10), ("bom.json", 4 * 3 + 3)]
)
def test_utf8_bom_loads(name, params):
    loaded = load_spec(VALID / name)
    assert loaded.graph.total_params == params
