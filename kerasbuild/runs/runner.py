"""``train(loaded, run_dir)``: data -> model -> fit with schedules and early stopping -> a
complete run directory (see :mod:`kerasbuild.runs.rundir` for the layout).

Resume (``resume=True``) continues a killed run from its last completed epoch: weights and
optimiser state, the layers' random-seed states, the schedule / early-stopping / history
state and the position of the training data's per-epoch shuffle are all restored, so with
``deterministic: true`` the result equals an uninterrupted run's.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from ..errors import KerasbuildError
from ..fit import signals
from ..fit.objective import compile_model
from ..fit.write_errors import WriteError, as_write_error
from ..spec.loader import LoadedSpec
from . import lock
from .rundir import (
    prepare,
    record_splits,
    recorded_splits,
    require_run_dir,
    resolved_yaml,
    write_run_json,
)

EXIT_DIVERGED = 3
"""Exit code of ``kerasbuild train`` when the loss became NaN."""

__all__ = ["EXIT_DIVERGED", "TrainResult", "compile_model", "train"]


@dataclass
class TrainResult:
    """What a finished run produced. ``status``: ``complete`` or ``early_stopped``;
    ``best_epoch`` 1-based; ``test_metrics``: ``test_loss``, ``test_accuracy`` / ``test_rmse``
    of ``model_best.keras``."""

    run_dir: Path
    status: str
    epochs_completed: int
    best_epoch: int | None
    history: list[dict[str, Any]]
    test_metrics: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def train(
    loaded: LoadedSpec,
    run_dir: Path | str,
    *,
    resume: bool = False,
    overwrite: bool = False,
    data_override: Any = None,
    console: Console | None = None,
) -> TrainResult:
    """Train ``loaded`` and write ``run_dir``. ``data_override``: a DataConfig replacing the
    spec's ``data:``. Raises KerasbuildError: exit 2 for run-directory problems (another
    process holds the directory, a failed write: :class:`~.write_errors.WriteError`), exit 3
    (:data:`EXIT_DIVERGED`) when the loss became NaN (the last good checkpoint is kept);
    KeyboardInterrupt on Ctrl-C or SIGTERM (:class:`~.signals.Terminated`)."""
    console = console or Console(stderr=True, soft_wrap=True)
    run_dir = Path(run_dir)
    if loaded.spec.train.distribute == "multi_worker":  # only the chief writes run_dir
        from ..fit.multi_worker import worker_run_dir

        run_dir, resume, overwrite = worker_run_dir(run_dir, resume=resume, overwrite=overwrite)
    if resume:
        require_run_dir(run_dir)
    with lock.hold(run_dir, "kerasbuild train", note=console.print), signals.sigterm_interrupts():
        return _train(
            loaded,
            run_dir,
            resume=resume,
            overwrite=overwrite,
            data_override=data_override,
            console=console,
        )


def _train(
    loaded: LoadedSpec,
    run_dir: Path,
    *,
    resume: bool,
    overwrite: bool,
    data_override: Any,
    console: Console,
) -> TrainResult:
    import keras

    from ..data.paths import resolve_auto_sizes
    from ..data.splits import load_for_spec
    from ..fit import backup, callbacks, execution, session
    from ..fit.diskspace import check_free_space
    from ..fit.display import EpochTable
    from ..fit.files import atomic_write_json, save_inference_model
    from ..fit.prepare import monitor_for, prepare_fit
    from .plots import plot_loss

    splits = load_for_spec(loaded, data_override, recorded_splits(run_dir) if resume else None)
    loaded = resolve_auto_sizes(loaded, splits)
    config = loaded.spec.train
    spec_text = resolved_yaml(loaded)
    skipped = getattr(splits, "skipped", [])
    if skipped:
        console.print(
            f"data.on_bad_image: skip left out {len(skipped)} file(s):\n"
            + "\n".join(f"  {file}: {problem}" for file, problem in skipped),
            markup=False,
        )
    monitor = monitor_for(loaded, splits.size("valid") > 0)
    prepare(run_dir, spec_text, resume=resume, overwrite=overwrite)
    record_splits(run_dir, splits)
    backup_dir = run_dir / "backup"
    state = backup.read_checkpoint(backup_dir) if resume else None
    previous = _read_previous(run_dir) if resume else {}
    seed = previous.get("seed", session.effective_seed(config))
    if previous.get("status") == "running":  # this process holds the lock: the last one is gone
        console.print(
            f"note: the run in {run_dir} crashed (run.json said running; its process has ended); "
            f"resuming from epoch {state['epochs_completed'] if state else 0}",
            highlight=False,
        )
    started = time.perf_counter()

    info = _initial_info(loaded, splits, monitor, seed, state, previous)
    write_run_json(run_dir, info)

    with (
        _final_status(run_dir, info),
        prepare_fit(
            loaded,
            splits,
            seed=seed,
            monitor=monitor,
            best_path=run_dir / "model_best.keras",
            note=lambda text: console.print(text, highlight=False),
        ) as fit,
    ):
        model, strategy, best, nan_guard = fit.model, fit.strategy, fit.best, fit.nan_guard
        info["replicas"] = strategy.num_replicas_in_sync
        info["init"] = fit.transfer.load_init() if state is None else previous.get("init")
        info["execution"] = execution.describe(model, strategy)
        for notice in execution.dropped_settings(
            config, info["execution"], fit.steps_per_execution
        ):
            console.print(f"notice: {notice}", highlight=False)
        history = callbacks.HistoryWriter(run_dir, nan_guard)
        history.set_model(model)
        stateful = {"schedules": fit.schedules, "best": best, "history": history}

        def on_epoch(done: int) -> None:
            info.update(
                epochs_completed=done,
                best_epoch=None if best.best_epoch is None else best.best_epoch + 1,
            )
            write_run_json(run_dir, info)

        cbs: list[Any] = [history, callbacks.RunStatus(on_epoch, nan_guard)]
        if config.verbose:
            cbs.append(EpochTable(console, steps=fit.steps))
        cbs += [
            callbacks.Checkpoint(backup_dir, stateful, nan_guard),
            keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), write_graph=False),
        ]

        warning = check_free_space(run_dir, model)
        if warning:
            console.print(warning, highlight=False)
        initial_epoch = 0
        if state is not None:
            backup.restore_checkpoint(backup_dir, state, model, stateful)
            initial_epoch = state["epochs_completed"]
        if not (state and state.get("stop_training")) and initial_epoch < config.max_epochs:
            fit.fit(epochs=config.max_epochs, initial_epoch=initial_epoch, callbacks=cbs)
        elif (
            config.early_stopping
            and config.early_stopping.restore_best_weights
            and best.best_weights
        ):
            model.set_weights(best.best_weights)  # killed after the last epoch, before the end

        info["duration_s"] = round(info["duration_s"] + time.perf_counter() - started, 3)
        info["execution"] = execution.describe(model, strategy)  # what fit ran with
        info["best_epoch"] = None if best.best_epoch is None else best.best_epoch + 1
        if fit.diverged_epoch is not None:
            info.update(status="diverged", finished_at=_now(), diverged_epoch=fit.diverged_epoch)
            write_run_json(run_dir, info)
            if history.rows:
                plot_loss(history.rows, run_dir / "loss.png", loaded.name)
            raise _diverged(fit.diverged_epoch, info["epochs_completed"], run_dir)

        save_inference_model(model, run_dir / "model_final.keras")
        metrics = _test_metrics(model, best, splits, fit.batch_size)
        atomic_write_json(run_dir / "metrics.json", metrics)
        plot_loss(history.rows, run_dir / "loss.png", loaded.name)

    stopped = best.stopped_epoch is not None or bool(state and state.get("stop_training"))
    info.update(
        status="early_stopped" if stopped else "complete",
        finished_at=_now(),
        epochs_completed=len(history.rows),
    )
    write_run_json(run_dir, info)
    return TrainResult(
        run_dir,
        info["status"],
        len(history.rows),
        info["best_epoch"],
        history.rows,
        metrics,
        info["duration_s"],
    )


@contextlib.contextmanager
def _final_status(run_dir: Path, info: dict[str, Any]) -> Iterator[None]:
    """run.json tells how the block ended when it did not end normally: ``interrupted`` (Ctrl-C,
    SIGTERM: resume continues it) or ``failed`` with the ``reason`` (a block that already set
    its own status, ``diverged``, keeps it). A failed write becomes a :class:`WriteError` that
    says which epoch is saved and what to run next."""
    try:
        yield
    except KeyboardInterrupt as exc:
        info.update(status="interrupted", reason=str(exc) or "SIGINT")
        _record_status(run_dir, info)
        raise
    except BaseException as exc:
        failure = as_write_error(exc, run_dir)
        if failure is not None:
            failure = failure.with_advice(saved_advice(run_dir))
        if info["status"] == "running":
            info.update(
                status="failed",
                reason=str(failure or exc) or type(exc).__name__,
                finished_at=_now(),
            )
            _record_status(run_dir, info)
        if failure is not None:
            raise failure from None
        raise


def _record_status(run_dir: Path, info: dict[str, Any]) -> None:
    """Write run.json on the way out; a disk too full even for that must not hide the first
    error."""
    with contextlib.suppress(WriteError):
        write_run_json(run_dir, info)


def saved_advice(
    run_dir: Path, *, resume: str = "resume the run", restart: str = "start the run again"
) -> str:
    """What a failed run kept, and how to continue it: ``resume`` (an epoch is saved) or
    ``restart`` (none is); the command line words these with its options."""
    from ..fit.files import read_json

    state_file = run_dir / "backup" / "state.json"
    saved = read_json(state_file).get("epochs_completed", 0) if state_file.is_file() else 0
    if not saved:
        return f"no epoch is saved yet; free space and {restart}"
    return f"epoch {saved} is saved; free space and {resume}"


def _initial_info(
    loaded: LoadedSpec,
    splits: Any,
    monitor: str,
    seed: int,
    state: dict | None,
    previous: dict[str, Any],
) -> dict[str, Any]:
    """run.json at the start of a run (or of a resumed run)."""
    import keras
    import tensorflow as tf

    config = loaded.spec.train
    classification = splits.task == "classification"
    outputs = getattr(splits, "outputs", None)
    targets = (
        {"targets": {name: vars(target) for name, target in outputs.items()}} if outputs else {}
    )
    return {
        "status": "running",
        "spec": str(loaded.path) if loaded.path else None,
        "name": loaded.name,
        "task": splits.task,
        "class_names": splits.class_names if classification else None,
        "target_names": splits.target_names,
        "num_classes": splits.num_classes,
        "preprocessing": splits.preprocessing,
        "inputs": [{"name": n.name, "shape": list(n.shape)} for n in loaded.graph.inputs],
        "outputs": list(loaded.graph.outputs),
        **targets,
        "monitor": monitor,
        "seed": seed,
        "examples": {part: splits.size(part) for part in ("train", "valid", "test")},
        "skipped_files": [{"file": f, "problem": p} for f, p in getattr(splits, "skipped", [])],
        "epochs_completed": state["epochs_completed"] if state else 0,
        "max_epochs": config.max_epochs,
        "best_epoch": None,
        "started_at": previous.get("started_at", _now()),
        "finished_at": None,
        "duration_s": previous.get("duration_s", 0.0),
        "resumed": bool(state),
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
        },
    }


def _diverged(epoch: int, good: int, run_dir: Path) -> KerasbuildError:
    kept = (
        f"The last good checkpoint (epoch {good}) is kept in {run_dir / 'backup'} and the best "
        "model in "
        f"{run_dir / 'model_best.keras'}. "
        if good
        else "No epoch completed. "
    )
    return KerasbuildError(
        f"training diverged: the training loss became NaN in epoch {epoch}. {kept}"
        "Lower train.update_learning_rate or clip gradients (train.update_params: "
        "{clipnorm: 1.0}).",
        exit_code=EXIT_DIVERGED,
    )


def _read_previous(run_dir: Path) -> dict[str, Any]:
    from ..fit.files import read_json

    return read_json(run_dir / "run.json")


def _test_metrics(model, best, splits, batch_size: int) -> dict[str, Any]:
    """Test metrics of the final weights and of the best weights (the model ends with the
    best weights)."""
    if splits.size("test") == 0:
        return {"model": "model_best.keras", "n_test": 0}
    test_ds = splits.dataset("test", batch_size)
    final = model.evaluate(test_ds, verbose=0, return_dict=True)
    if best.best_weights is not None:
        model.set_weights(best.best_weights)
    scores = model.evaluate(test_ds, verbose=0, return_dict=True)
    return {
        "model": "model_best.keras",
        "n_test": splits.size("test"),
        "best_epoch": None if best.best_epoch is None else best.best_epoch + 1,
        **{f"test_{k}": float(v) for k, v in scores.items()},
        "final": {f"test_{k}": float(v) for k, v in final.items()},
    }
