"""Evaluate a run's ``model_best.keras`` (``kerasbuild evaluate``).

Without ``data``: on the run's own test split (same seeds, so it reproduces metrics.json).
With ``data`` (a source string such as ``builtin:digits`` or ``new.npz``): on every example of
that source, preprocessed exactly as the run's training data was (run.json ``preprocessing``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError, SpecError


def evaluation_arrays(
    run_dir: Path, data: str | None = None, *, x_key: str | None = None, y_key: str | None = None
) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(x, y, loaded spec)`` to evaluate on (preprocessed inputs, targets in training units;
    class labels are indices into the run's ``class_names``, matched by name).
    ``x_key``/``y_key``: the arrays of an npz ``data`` (default: the spec's)."""
    from ..data.sources import load_npz, load_source, resolve_path
    from ..data.splits import load_for_spec, preprocess_inputs, with_output_tasks
    from ..schema.data import DataConfig
    from ..spec.loader import load_spec
    from .rundir import SPEC, read_run

    info = read_run(run_dir)
    loaded = load_spec(Path(run_dir) / SPEC)
    if data is None:
        splits = load_for_spec(loaded)
        if len(splits.x_test) == 0:
            raise KerasbuildError(
                "the run has no test split (data.test_size: 0); pass --data SOURCE"
            )
        return splits.x_test, splits.y_test, loaded
    base = loaded.spec.data.model_dump() if loaded.spec.data else {}
    try:
        keys = {k: v for k, v in (("x_key", x_key), ("y_key", y_key)) if v}
        config = DataConfig.model_validate({**base, "source": data, **keys})
    except ValueError as exc:
        raise KerasbuildError(f"--data {data}: {exc}") from None
    if config.kind == "npz" and resolve_path(data, Path.cwd()).is_file():
        raw = load_npz(
            resolve_path(data, Path.cwd()),
            config.x_key,
            config.y_key,
            key_hint="pass --x-key / --y-key",
        )
    else:
        raw = load_source(config, Path.cwd())
    preprocessing = info.get("preprocessing") or {}
    x = preprocess_inputs(raw.x, preprocessing)
    if raw.outputs is not None:  # several outputs: {output: targets}, as the run trained them
        return x, with_output_tasks(raw, config, loaded.spec.train, []).y, loaded
    y = raw.y
    if info.get("task") == "classification":
        y = run_labels(y, raw.class_names, info.get("class_names"), data)
    if info.get("task") == "regression":
        y = np.asarray(y, np.float32).reshape(len(y), -1)
        if "target_scale" in preprocessing:
            y = (y - preprocessing["target_center"]) / preprocessing["target_scale"]
    return x, y, loaded


def run_labels(
    y: np.ndarray, names: list[str] | None, run_names: list[str] | None, data: str
) -> np.ndarray:
    """Labels ``y`` (indices into the source's class ``names``) as indices into the run's
    ``run_names``, matched by name: a folder ``1/`` holds class '1' whatever other folders
    there are. Unchanged when either side has no names. KerasbuildError for a class the run
    does not know."""
    if not names or not run_names:
        return y
    index = {str(name): i for i, name in enumerate(run_names)}
    unknown = [str(n) for n in names if str(n) not in index]
    if unknown:
        raise KerasbuildError(
            f"--data {data}: class '{unknown[0]}' is not one of the run's classes "
            f"({', '.join(map(str, run_names))})"
        )
    return np.array([index[str(n)] for n in names], dtype=np.int64)[y]


def streamed_evaluation(
    run_dir: Path, data: str | None, batch_size: int
) -> tuple[Any, int, tuple] | None:
    """``(dataset, examples, input shape)`` when the data streams (image folders, CSVs of image
    paths, TFRecord, tfds): the run's recorded test split, or every example of ``data``
    preprocessed with the run's recorded preprocessing; None for in-memory sources."""
    from ..data.paths import spec_dir
    from ..data.splits import load_for_spec, streams
    from ..schema.data import DataConfig
    from ..spec.loader import load_spec
    from .rundir import SPEC, read_run, recorded_splits

    loaded = load_spec(Path(run_dir) / SPEC)
    config = loaded.spec.data
    if data is None:
        if config is None or not streams(config, spec_dir(loaded)):
            return None
        splits = load_for_spec(loaded, recorded=recorded_splits(run_dir))
        part = "test"
    else:
        try:
            config = DataConfig.model_validate(
                {
                    **(config.model_dump() if config else {}),
                    "source": data,
                    "test_size": 0,
                    "valid_size": 0,
                    "normalize": None,
                    "standardize": False,
                    "limit": None,
                }
            )
        except ValueError as exc:
            raise KerasbuildError(f"--data {data}: {exc}") from None
        if not streams(config, Path.cwd()):
            return None
        from ..data.stream import load_stream

        splits = load_stream(config, loaded.spec.train, Path.cwd())
        info = read_run(run_dir)
        splits.preprocessing = info.get("preprocessing") or {}
        if splits.task == "classification":
            source = splits.parts["train"].source
            source.y = run_labels(source.y, splits.class_names, info.get("class_names"), data)
            splits.class_names = info.get("class_names")
        part = "train"
    if splits.size(part) == 0:
        raise KerasbuildError("the run has no test split (data.test_size: 0); pass --data SOURCE")
    return splits.dataset(part, batch_size), splits.size(part), splits.input_shape


def evaluate_run(
    run_dir: Path | str,
    data: str | None = None,
    which: str = "best",
    *,
    x_key: str | None = None,
    y_key: str | None = None,
) -> dict[str, Any]:
    """``{"n": examples, "loss": ..., "accuracy" | "rmse": ...}`` of ``model_<which>.keras``;
    with several outputs, Keras' per-output values too (``digit_loss``, ``digit_accuracy``)."""
    from ..spec.loader import load_spec
    from .rundir import SPEC

    run_dir = Path(run_dir)
    config = load_spec(run_dir / SPEC).spec.train
    streamed = streamed_evaluation(run_dir, data, config.effective_batch_size)
    if streamed is None:
        x, y, _ = evaluation_arrays(run_dir, data, x_key=x_key, y_key=y_key)
        ds, n, shape = None, len(x), x.shape[1:]
    else:
        ds, n, shape = streamed
    from ..data.pipeline import make_dataset
    from ..fit.objective import compile_model
    from .rundir import load_run_model

    model = load_run_model(run_dir, which)
    compile_model(model, config)
    if tuple(model.inputs[0].shape[1:]) != tuple(shape):
        raise SpecError.single(
            f"the data's inputs have shape {list(shape)} but the model expects "
            f"{list(model.inputs[0].shape[1:])}",
            ("data", "source"),
        )
    if ds is None:
        ds = make_dataset(x, y, batch_size=config.effective_batch_size, training=False)
    scores = model.evaluate(ds, verbose=0, return_dict=True)
    return {"n": n, **{k: float(v) for k, v in scores.items()}}
