#!/usr/bin/env python
"""Walk Nielsen's MNIST ladder (ch. 6 of "Neural Networks and Deep Learning") on
``builtin:mnist_5k`` and write a table of *measured* test accuracies.

Every rung is a spec in ``specs/`` trained through kerasbuild's Python API
(:func:`kerasbuild.runs.runner.train`); the expanded-data rungs add
``data.expand: {shifts: 1}`` as an override, and the last rung averages N dropout nets
trained with different seeds (:func:`kerasbuild.runs.ensemble.ensemble_runs`). All rungs use
the specs' seeded split (``test_size: 0.2, seed: 0``), so every accuracy is on the same 1,000
held-out digits.

Usage::

    python tools/nielsen_ladder.py                      # full run, prints the table
    python tools/nielsen_ladder.py --out docs/tutorial-nielsen-ladder.md
    python tools/nielsen_ladder.py --quick --out /tmp/t.md   # 1 epoch, 2-net ensemble (CI)

With ``--out`` the table between ``<!-- ladder:start -->`` and ``<!-- ladder:end -->`` in
that markdown file is replaced; everything outside the markers is left as it was.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
START = "<!-- ladder:start -->"
END = "<!-- ladder:end -->"
DEFAULT_EPOCHS = 15
EXPAND = {"data.expand": {"shifts": 1}}


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: a spec, the overrides applied to it, and Nielsen's result on
    the full 60,000-digit MNIST (percent)."""

    key: str
    spec: str
    changed: str
    nielsen: float
    overrides: tuple[tuple[str, Any], ...] = ()
    ensemble: bool = False


RUNGS: list[Rung] = [
    Rung("fc100", "nielsen_fc100.yaml", "baseline: 784-100-10, sigmoid, SGD eta 0.1", 97.80),
    Rung("conv1", "nielsen_conv1.yaml", "+ conv 20@5x5 + 2x2 max pool", 98.78),
    Rung("conv2", "nielsen_conv2.yaml", "+ second conv-pool, 40@5x5", 99.06),
    Rung(
        "relu_l2",
        "nielsen_relu_l2.yaml",
        "ReLU instead of sigmoid, L2 on every layer, eta 0.03",
        99.23,
    ),
    Rung(
        "relu_l2_expand",
        "nielsen_relu_l2.yaml",
        "+ one-pixel shifts (training data x5)",
        99.37,
        tuple(EXPAND.items()),
    ),
    Rung(
        "dropout_expand",
        "nielsen_dropout.yaml",
        "two 1000-unit ReLU layers, dropout 0.5, momentum; expanded data",
        99.60,
        tuple(EXPAND.items()),
    ),
    Rung(
        "ensemble",
        "nielsen_dropout.yaml",
        "mean of N dropout nets (seeds 0..N-1)",
        99.67,
        tuple(EXPAND.items()),
        ensemble=True,
    ),
]


@dataclass
class Row:
    """A measured rung: ``accuracy`` is a fraction in [0, 1], ``seconds`` wall-clock training."""

    rung: Rung
    params: int
    epochs: int
    accuracy: float
    seconds: float


def _train_one(rung: Rung, epochs: int, runs_dir: Path, seed: int | None = None) -> tuple[Any, Any]:
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    overrides: dict[str, Any] = {
        **dict(rung.overrides),
        "train.max_epochs": epochs,
        "train.verbose": 0,
    }
    if seed is not None:
        overrides["train.seed"] = seed
    loaded = load_spec(SPECS / rung.spec, overrides=overrides)
    name = rung.key if seed is None else f"{rung.key}_seed{seed}"
    result = train(loaded, runs_dir / name, overwrite=True)
    return loaded, result


def run_ladder(epochs: int, members: int, runs_dir: Path, log=print) -> list[Row]:
    """Train every rung for ``epochs`` epochs under ``runs_dir``; the ensemble averages
    ``members`` dropout nets (the first is the dropout rung's own run, seed 0)."""
    from kerasbuild.runs.ensemble import ensemble_runs

    rows: list[Row] = []
    dropout_run: tuple[Path, float] | None = None
    for rung in RUNGS:
        started = time.perf_counter()
        if not rung.ensemble:
            loaded, result = _train_one(
                rung, epochs, runs_dir, seed=0 if rung.key == "dropout_expand" else None
            )
            row = Row(
                rung,
                loaded.graph.total_params,
                result.epochs_completed,
                float(result.test_metrics["test_accuracy"]),
                time.perf_counter() - started,
            )
            if rung.key == "dropout_expand":
                dropout_run = (result.run_dir, row.seconds)
        else:
            assert dropout_run is not None, "the ensemble rung needs the dropout rung before it"
            member_dirs, params, seconds = [dropout_run[0]], 0, dropout_run[1]
            for seed in range(1, members):
                loaded, result = _train_one(rung, epochs, runs_dir, seed=seed)
                member_dirs.append(result.run_dir)
                params = loaded.graph.total_params
            metrics = ensemble_runs(member_dirs, runs_dir / "ensemble", overwrite=True)
            seconds += time.perf_counter() - started
            row = Row(rung, params * members, epochs, float(metrics["test_accuracy"]), seconds)
        rows.append(row)
        log(f"{rung.key}: test accuracy {row.accuracy:.4f} ({row.seconds:.0f} s)")
    return rows


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}"


def format_table(rows: list[Row], members: int, total_s: float) -> str:
    """Markdown table of the measured ladder plus a one-line provenance note."""
    lines = [
        "| # | Rung | Spec | What changed | Params | Epochs | Test accuracy (measured, 5k digits) "
        "| Nielsen (60k MNIST) | Training time |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for i, row in enumerate(rows, 1):
        r = row.rung
        spec = f"`specs/{r.spec}`" + (" + expand" if r.overrides else "")
        key = f"{r.key} (N={members})" if r.ensemble else r.key
        lines.append(
            f"| {i} | {key} | {spec} | {r.changed} | {row.params:,} | {row.epochs} "
            f"| {100 * row.accuracy:.2f} % | {r.nielsen:.2f} % | {row.seconds:.0f} s |"
        )
    lines.append("")
    lines.append(
        f"Generated by `tools/nielsen_ladder.py` on {time.strftime('%Y-%m-%d', time.gmtime())}: "
        f"{_machine()}, test split = 1,000 held-out digits of `builtin:mnist_5k` "
        f"(`test_size: 0.2, seed: 0`), total {total_s / 60:.1f} min. The ensemble's params "
        f"and time count all {members} members."
    )
    return "\n".join(lines)


def replace_between_markers(text: str, table: str) -> str:
    """``text`` with everything between the ladder markers replaced by ``table``; raises
    ValueError when the markers are missing or out of order."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"the file needs '{START}' followed by '{END}'")
    return text[: start + len(START)] + "\n" + table + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"train.max_epochs for every rung (default {DEFAULT_EPOCHS}; --quick: 1)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 epoch and a 2-net ensemble (for CI)"
    )
    parser.add_argument(
        "--members", type=int, default=None, help="ensemble size (default 5; --quick: 2)"
    )
    parser.add_argument("--out", type=Path, help="markdown file whose ladder table is replaced")
    parser.add_argument(
        "--runs-dir", type=Path, help="where the run directories go (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else DEFAULT_EPOCHS)
    members = args.members or (2 if args.quick else 5)
    if members < 2:
        parser.error("--members must be at least 2")
    if args.out is not None:
        if not args.out.is_file():
            parser.error(f"--out {args.out}: no such file")
        try:  # check the markers before spending minutes on training
            replace_between_markers(args.out.read_text(encoding="utf-8"), "")
        except ValueError as exc:
            parser.error(f"--out {args.out}: {exc}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    started = time.perf_counter()
    if args.runs_dir is not None:
        args.runs_dir.mkdir(parents=True, exist_ok=True)
        rows = run_ladder(epochs, members, args.runs_dir, log=lambda m: print(m, file=sys.stderr))
    else:
        with tempfile.TemporaryDirectory(prefix="nielsen_ladder_") as tmp:
            rows = run_ladder(epochs, members, Path(tmp), log=lambda m: print(m, file=sys.stderr))
    table = format_table(rows, members, time.perf_counter() - started)
    print(table)
    if args.out is not None:
        args.out.write_text(
            replace_between_markers(args.out.read_text(encoding="utf-8"), table), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
