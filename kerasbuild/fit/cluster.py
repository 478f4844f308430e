"""This process's place in a multi-worker run (``train.distribute: multi_worker``), read from
TensorFlow's ``TF_CONFIG`` environment variable (standard library only: the command line
decides before importing TensorFlow whether this process owns the run directory).

``TF_CONFIG`` is JSON: ``{"cluster": {"worker": ["host0:port", "host1:port", ...]},
"task": {"type": "worker", "index": i}}``. Worker 0 is the chief (or the one task of type
``chief`` when the cluster names one): it owns the run directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from ..errors import KerasbuildError

ENV = "TF_CONFIG"


@dataclass(frozen=True)
class Task:
    """One process of the cluster: ``kind`` (``chief`` / ``worker``), ``index`` within its
    kind, ``address`` (``HOST:PORT``) and ``workers``, the number of processes in all."""

    kind: str
    index: int
    address: str
    workers: int

    @property
    def is_chief(self) -> bool:
        return self.kind == "chief" or (
            self.kind == "worker" and self.index == 0 and not self._has_chief
        )

    _has_chief: bool = False

    def describe(self) -> str:
        return f"{self.kind} {self.index} ({self.address})"


def tf_config(addresses: list[str], index: int) -> str:
    """The ``TF_CONFIG`` value for worker ``index`` of a cluster of ``addresses``
    (``HOST:PORT``)."""
    return json.dumps(
        {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
    )


def cluster() -> dict[str, list[str]]:
    """``TF_CONFIG``'s ``cluster``: task kind -> addresses. Raises KerasbuildError (exit 2)
    when ``TF_CONFIG`` is missing or malformed."""
    return _read()[0]


def this_task() -> Task:
    """This process's task. Raises KerasbuildError (exit 2) when ``TF_CONFIG`` is missing or
    does not name this task within its cluster."""
    spec, task = _read()
    kind, index = task.get("type"), task.get("index")
    if (
        kind not in ("chief", "worker")
        or not isinstance(index, int)
        or not 0 <= index < len(spec.get(kind, []))
    ):
        raise _bad(
            f"its task {json.dumps(task)} is not one of the cluster's tasks "
            f"({', '.join(f'{k}: {len(v)}' for k, v in spec.items())}); give "
            '"task": {"type": "worker", "index": I} with I from 0'
        )
    workers = sum(len(spec.get(k, [])) for k in ("chief", "worker"))
    return Task(kind, index, spec[kind][index], workers, _has_chief=bool(spec.get("chief")))


def describe_task(kind: str, index: int) -> str:
    """``worker 1 (10.0.0.6:2222)`` for a task TensorFlow names ``/job:worker/task:1``."""
    try:
        return f"{kind} {index} ({cluster()[kind][index]})"
    except (KerasbuildError, KeyError, IndexError):
        return f"{kind} {index}"


def _read() -> tuple[dict[str, list[str]], dict]:
    text = os.environ.get(ENV)
    if not text:
        raise KerasbuildError(
            f"train.distribute: multi_worker needs the {ENV} environment variable on every "
            'worker, e.g. {"cluster": {"worker": ["host0:2222", "host1:2222"]}, '
            '"task": {"type": "worker", "index": 0}}; or start N local workers with '
            "kerasbuild train SPEC --workers N (see docs/training.md)",
            exit_code=2,
        )
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise _bad(f"it is not JSON ({exc})") from None
    spec, task = (
        config.get("cluster") if isinstance(config, dict) else None,
        config.get("task") if isinstance(config, dict) else None,
    )
    if (
        not isinstance(spec, dict)
        or not all(isinstance(v, list) for v in spec.values())
        or not spec.get("worker")
        and not spec.get("chief")
    ):
        raise _bad('its "cluster" must map "worker" (and optionally "chief") to lists of HOST:PORT')
    if not isinstance(task, dict):
        raise _bad('it has no "task": {"type": "worker", "index": I}')
    return spec, task


def _bad(problem: str) -> KerasbuildError:
    return KerasbuildError(f"{ENV}: {problem}", exit_code=2)
