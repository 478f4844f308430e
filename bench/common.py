"""Shared helpers for the benchmarks: machine description, alternating timing, result lines.

Every benchmark measures kerasbuild and its baseline in the same process, alternating runs so
that machine noise (other processes, thermal state) hits both sides alike, and prints ratios.
``--quick`` shrinks every workload so CI can check that the scripts run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny workloads (CI smoke run)")
    parser.add_argument(
        "--json", dest="json_out", default=None, help="append results to this JSON lines file"
    )
    return parser.parse_args()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def alternate(
    a: Callable[[], float], b: Callable[[], float], rounds: int
) -> tuple[list[float], list[float]]:
    """Run ``a`` and ``b`` alternately ``rounds`` times; each returns a measurement."""
    xs, ys = [], []
    for i in range(rounds):
        if i % 2 == 0:
            xs.append(a())
            ys.append(b())
        else:
            ys.append(b())
            xs.append(a())
    return xs, ys


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(
    name: str,
    ours: list[float],
    base: list[float],
    unit: str,
    higher_is_better: bool,
    target: str,
    json_out: str | None = None,
) -> float:
    """Print medians and the ratio ours/base; return the ratio."""
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    ratio = m_ours / m_base if m_base else float("nan")
    better = "higher" if higher_is_better else "lower"
    print(
        f"{name}: kerasbuild {m_ours:.4g} {unit} vs baseline {m_base:.4g} {unit} -> ratio "
        f"{ratio:.3f} "
        f"({better} is better; target {target})",
        flush=True,
    )
    if json_out:
        with open(json_out, "a") as f:
            f.write(
                json.dumps(
                    {
                        "benchmark": name,
                        "ours": m_ours,
                        "baseline": m_base,
                        "unit": unit,
                        "ratio": ratio,
                        "target": target,
                        "machine": machine(),
                    }
                )
                + "\n"
            )
    return ratio
