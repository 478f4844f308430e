"""The run directory: creating it (``--overwrite`` / ``--resume`` rules), the resolved spec,
``run.json`` metadata, and reading a finished run back.

Layout::

    RUN/spec.yaml            resolved canonical spec (placeholders replaced, data paths absolute)
    RUN/splits.json          the files (or record keys) of each split of a streamed source
    RUN/run.json             status, epochs, task, class names, inputs, preprocessing, seed
    RUN/history.csv|json     one row per epoch
    RUN/metrics.json         test metrics of model_best.keras (and of model_final.keras)
    RUN/model_best.keras     best epoch by the monitored value (inference model, no optimiser)
    RUN/model_final.keras    weights when training ended
    RUN/tensorboard/         TensorBoard event files
    RUN/backup/              resume point (see kerasbuild.fit.backup)
    RUN/loss.png             train/valid loss, log scale
    RUN/.kerasbuild.lock     while a process writes the run (see kerasbuild.runs.lock)
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from ..fit.files import atomic_write_json, read_json
from ..spec.format import canonical_yaml
from ..spec.loader import LoadedSpec
from .lock import LOCK_NAME

RUN_JSON = "run.json"
SPEC = "spec.yaml"
SPLITS_FILE = "splits.json"
"""In a run directory: the files (or record keys) of each split of a streamed source."""


def record_splits(run_dir: Path, splits: Any) -> None:
    """Write ``run_dir/splits.json`` for a streamed source (in-memory sources are re-split
    from their seed)."""
    if hasattr(splits, "recorded"):
        atomic_write_json(Path(run_dir) / SPLITS_FILE, splits.recorded())


def recorded_splits(run_dir: Path) -> dict[str, list] | None:
    """A run's ``splits.json``, or None when it has none."""
    path = Path(run_dir) / SPLITS_FILE
    return read_json(path) if path.is_file() else None


def resolved_yaml(loaded: LoadedSpec) -> str:
    """The spec as trained: placeholders and blocks resolved, a data path made absolute."""
    import copy

    from ..data.paths import spec_dir
    from ..data.sources import resolve_path
    from ..transfer.paths import absolute_init

    document = copy.deepcopy(loaded.source.data)
    data = loaded.spec.data
    if data is not None and data.is_path:
        document["data"]["source"] = str(resolve_path(data.source, spec_dir(loaded)))
    if data is not None and data.data_dir:
        document["data"]["data_dir"] = str(resolve_path(data.data_dir, spec_dir(loaded)))
    absolute_init(document, loaded)
    return canonical_yaml(dataclasses.replace(loaded, document=document))


def prepare(run_dir: Path, spec_text: str, *, resume: bool, overwrite: bool) -> None:
    """Create ``run_dir`` for a new run, or check it for ``resume``. Raises KerasbuildError
    (exit 2) when it exists without ``overwrite``, is not a run directory, or is not writable."""
    check_run_dir(run_dir, spec_text, resume=resume, overwrite=overwrite)
    if resume:
        return
    for path in run_dir.iterdir() if run_dir.exists() else ():
        if path.name == LOCK_NAME:  # the lock this process holds stays
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        (run_dir / SPEC).write_text(spec_text, encoding="utf-8")
    except OSError as exc:
        raise KerasbuildError(
            f"cannot write to run directory {run_dir}: {exc.strerror or exc}", exit_code=2
        ) from None


def check_run_dir(run_dir: Path, spec_text: str, *, resume: bool, overwrite: bool) -> None:
    """The checks of :func:`prepare` that change nothing (no TensorFlow, so the command line
    refuses before importing it): KerasbuildError (exit 2) when ``run_dir`` exists without
    ``overwrite`` or is not a run directory, or, for ``resume``, when it holds no run, a
    different spec, or a finished run."""
    if resume:
        require_run_dir(run_dir)
        saved = (run_dir / SPEC).read_text(encoding="utf-8")
        if saved != spec_text:
            raise KerasbuildError(
                f"--resume: the spec differs from the one the run in {run_dir} was "
                f"started with ({run_dir / SPEC}); resume with the same spec and --set "
                f"values, or without a spec: kerasbuild train --resume --run-dir {run_dir}",
                exit_code=2,
            )
        status = read_json(run_dir / RUN_JSON).get("status")
        if status in ("complete", "early_stopped"):
            raise KerasbuildError(
                f"--resume: the run in {run_dir} has already finished (status: {status})",
                exit_code=2,
            )
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise KerasbuildError(f"run directory {run_dir} exists and is not a directory", exit_code=2)
    contents = [p for p in run_dir.iterdir() if p.name != LOCK_NAME] if run_dir.exists() else []
    if contents:
        if not overwrite:
            raise KerasbuildError(
                f"run directory {run_dir} already exists; pass --overwrite to replace it "
                "or --resume to continue it",
                exit_code=2,
            )
        if not (run_dir / RUN_JSON).is_file():
            raise KerasbuildError(
                f"refusing to delete {run_dir} for --overwrite: it is not a kerasbuild "
                f"run directory (no {RUN_JSON})",
                exit_code=2,
            )


def require_run_dir(run_dir: Path) -> None:
    """Raise KerasbuildError (exit 2) for ``--resume`` of a directory that is not a run."""
    if not (run_dir / RUN_JSON).is_file():
        raise KerasbuildError(
            f"--resume: {run_dir} is not a run directory (no {RUN_JSON}); "
            "start the run without --resume",
            exit_code=2,
        )


def write_run_json(run_dir: Path, info: dict[str, Any]) -> None:
    atomic_write_json(run_dir / RUN_JSON, info)


def read_run(run_dir: Path) -> dict[str, Any]:
    """``run.json`` of a run directory, or a clear error when ``run_dir`` is not one."""
    run_dir = Path(run_dir)
    if not (run_dir / RUN_JSON).is_file():
        raise KerasbuildError(
            f"{run_dir} is not a run directory (no {RUN_JSON}); train one with "
            "'kerasbuild train SPEC --run-dir DIR'"
        )
    return read_json(run_dir / RUN_JSON)


def load_run_model(run_dir: Path, which: str = "best"):
    """``model_best.keras`` (or ``model_final.keras``) of a run, loaded in safe mode
    (:func:`kerasbuild.safe_load.load_keras_model`: a damaged file is a KerasbuildError)."""
    from ..safe_load import load_keras_model

    path = Path(run_dir) / f"model_{which}.keras"
    if not path.is_file():
        raise KerasbuildError(f"{path} does not exist; the run has not finished an epoch")
    return load_keras_model(path, compile=False)
