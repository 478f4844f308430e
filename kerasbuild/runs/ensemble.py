"""Average several trained runs into one model (``kerasbuild ensemble``): Nielsen's vote of
five nets, as a single Keras model whose output is the mean of the members' outputs (class
probabilities, or regression targets). The result is written as a run-like directory
(``model_best.keras``, ``spec.yaml`` and ``run.json`` of the first member, ``metrics.json``)
so ``evaluate``, ``predict`` and ``export`` work on it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from .lock import hold


def _check_compatible(runs: list[Path], infos: list[dict[str, Any]]) -> None:
    first = infos[0]
    for run, info in zip(runs[1:], infos[1:], strict=True):
        for key in ("task", "inputs", "num_classes", "preprocessing"):
            if info.get(key) != first.get(key):
                raise KerasbuildError(
                    f"cannot ensemble {runs[0]} and {run}: their {key} differ "
                    f"({first.get(key)!r} vs {info.get(key)!r})"
                )


def build_ensemble(models: list[Any], input_shape: tuple[int, ...], input_name: str):
    """``keras.Model`` averaging ``models``' outputs on one shared input."""
    import keras

    inputs = keras.Input(shape=input_shape, name=input_name)
    outputs = []
    for i, member in enumerate(models):
        member.name = f"member_{i + 1}"
        outputs.append(member(inputs))
    averaged = keras.layers.Average(name="vote")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, averaged, name="ensemble")


def ensemble_runs(
    runs: list[Path | str], out_dir: Path | str, *, overwrite: bool = False
) -> dict[str, Any]:
    """Write the ensemble of ``runs`` to ``out_dir``; returns its test metrics."""
    from .rundir import load_run_model, read_run

    runs = [Path(r) for r in runs]
    if len(runs) < 2:
        raise KerasbuildError("an ensemble needs at least two runs")
    out_dir = Path(out_dir)
    if out_dir.resolve() in {r.resolve() for r in runs}:
        raise KerasbuildError(f"the output {out_dir} is one of the members")
    infos = [read_run(r) for r in runs]
    _check_compatible(runs, infos)
    models = [load_run_model(r) for r in runs]
    first = infos[0]
    model = build_ensemble(models, tuple(first["inputs"][0]["shape"]), first["inputs"][0]["name"])
    with hold(out_dir, "kerasbuild ensemble"):
        return _write_ensemble(runs, infos, model, out_dir, overwrite)


def _write_ensemble(
    runs: list[Path], infos: list[dict[str, Any]], model: Any, out_dir: Path, overwrite: bool
) -> dict[str, Any]:
    """Write the run-like directory of the ensemble (``out_dir``'s lock held)."""
    from ..fit.files import atomic_write_json, save_keras_atomic
    from .evaluate import evaluate_run
    from .rundir import SPEC, prepare, write_run_json

    first = infos[0]
    prepare(
        out_dir, (runs[0] / SPEC).read_text(encoding="utf-8"), resume=False, overwrite=overwrite
    )
    save_keras_atomic(model, out_dir / "model_best.keras")
    shutil.copyfile(out_dir / "model_best.keras", out_dir / "model_final.keras")
    info = {
        **first,
        "status": "complete",
        "name": "ensemble",
        "ensemble": {"members": [str(r.resolve()) for r in runs], "combine": "mean"},
    }
    write_run_json(out_dir, info)
    metrics = {"model": "model_best.keras", "members": {}}
    if first.get("examples", {}).get("test"):
        scores = evaluate_run(out_dir)
        metrics.update({"n_test": scores.pop("n"), **{f"test_{k}": v for k, v in scores.items()}})
        for run in runs:
            member = evaluate_run(run)
            metrics["members"][str(run)] = {f"test_{k}": v for k, v in member.items() if k != "n"}
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics
