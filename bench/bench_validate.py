"""Benchmark 2: `kerasbuild validate` and `summary` wall time on every spec in specs/.

Each command runs as a fresh process (what a user waits for), and the process asserts that
TensorFlow was never imported. Target: < 1 s per spec.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from common import machine, parse_args

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import sys, json; from kerasbuild.cli import app; "
    "sys.argv = ['kerasbuild'] + sys.argv[1:]\n"
    "try:\n    app()\nexcept SystemExit as e:\n    code = e.code\n"
    "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n"
    "sys.exit(code)\n"
)


def run(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> None:
    args = parse_args(__doc__)
    specs = sorted((ROOT / "specs").glob("*.yaml"))
    if args.quick:
        specs = specs[:2]
    print(f"# validate/summary wall time, fresh process each ({machine()})")
    worst = 0.0
    for spec in specs:
        t_validate = min(run(["validate", str(spec)]) for _ in range(1 if args.quick else 3))
        t_summary = min(
            run(["summary", "--json", str(spec)]) for _ in range(1 if args.quick else 3)
        )
        worst = max(worst, t_validate, t_summary)
        print(
            f"{spec.name:28s} validate {t_validate:.3f} s  summary {t_summary:.3f} s  (TensorFlow "
            "not imported)"
        )
    print(f"worst: {worst:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
