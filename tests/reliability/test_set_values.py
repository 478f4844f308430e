"""``--set KEY=VALUE`` values are read like spec files: plain data only, no tags, no alias
bombs, finite numbers, in bounded time."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from kerasbuild.cli.sets import parse_sets
from kerasbuild.errors import KerasbuildError, SpecError

from .cases import SENTINEL, VALID
from .test_cli import BLOCKED, ENV

BOMB = (
    "["
    + ", ".join(
        f"&{c} [" + ",".join([f"*{p}"] * 10 if p else ["1"] * 10) + "]"
        for p, c in zip([None, *"abcdefg"], "abcdefgh")
    )
    + "]"
)
"""10^8 values when expanded: the loader walked every one of them before (a hang)."""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (BOMB, "more than 200,000 values"),
        (
            "!!python/object/apply:os.system ['touch /tmp/kerasbuild-corpus-pwned']",
            "is not allowed",
        ),
        ("!!python/name:os.system ''", "is not allowed"),
        (".nan", "nan is not allowed"),
        ("[1", "expected ',' or ']'"),
        ("9" * 30, "out of range"),
    ],
)
def test_bad_set_values_are_refused_quickly(value, message):
    start = time.process_time()
    with pytest.raises(KerasbuildError) as info:
        parse_sets([f"description={value}"])
    assert time.process_time() - start < 5
    assert message in str(info.value) and str(info.value).startswith(
        ("--set 'description=", '--set "description=')
    )
    assert not SENTINEL.exists()


def test_good_set_values_keep_their_types():
    assert parse_sets(
        [
            "train.max_epochs=5",
            "data.resize=[16, 16]",
            "train.objective_l2=1e-4",
            "name=x",
            "train.verbose=",
        ]
    ) == {
        "train.max_epochs": 5,
        "data.resize": [16, 16],
        "train.objective_l2": 1e-4,
        "name": "x",
        "train.verbose": "",
    }


def test_train_with_a_bomb_in_set_fails_before_tensorflow():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            BLOCKED,
            "train",
            str(VALID / "space.yaml"),
            "--set",
            f"description={BOMB}",
            "--run-dir",
            "/tmp/kerasbuild-never-written",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert (
        "error: --set 'description=" in result.stderr
        and "more than 200,000 values" in result.stderr
    )


def test_a_set_typo_is_located_at_the_set_argument():
    from kerasbuild.spec.loader import load_spec

    spec = Path(__file__).parents[2] / "specs" / "nielsen_relu_l2.yaml"
    with pytest.raises(SpecError) as caught:
        load_spec(spec, overrides={"data.expnd": 1, "train.max_epochs": 0})
    shown = sorted(str(p) for p in caught.value.problems)
    assert shown[0].startswith(
        "--set data.expnd=1: data.expnd: unknown field 'expnd' (did you mean 'expand'?)"
    )
    assert shown[1].startswith(
        "--set train.max_epochs=0: train.max_epochs: Input should be greater than"
    )
