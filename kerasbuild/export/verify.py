"""Check an exported artifact against the Keras model before it is published.

The reference is what ``kerasbuild predict`` does with the run directory: training's own
preprocessing, the Keras model, regression targets mapped back. Sample inputs are drawn in the raw
input domain the export accepts (0..255 pixels when a 1/255 scaling is baked in), for two batch
sizes (1 and 7, which also exercises the dynamic batch axis). Every float output must satisfy
``|exported - keras| <= ATOL + RTOL * |keras|`` (float32: ATOL = RTOL = 1e-5), and ``classes`` must
equal the Keras argmax wherever the Keras top two probabilities differ by more than the tolerance.

When the model computes in float16 or bfloat16 (mixed precision), or the artifact stores
float16 weights (TFLite ``--quantize float16``), the low precision is a real difference from
a float32 computation, so the tolerance comes from that dtype:
ATOL = RTOL = 4 * its machine epsilon (bfloat16: 0.03125, float16: 0.00391);
see :func:`tolerance_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from .preprocess import Preprocessing
from .signature import name_outputs, raw_input_shape
from .source import ExportSource

ATOL = 1e-5
RTOL = 1e-5
LOW_PRECISION_EPSILONS = 4
"""Tolerance of a low-precision computation, in machine epsilons of its dtype."""
BATCH_SIZES = (1, 7)

Runner = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Tolerance:
    """``|exported - keras| <= atol + rtol * |keras|``; ``dtype``: the precision it is for."""

    atol: float = ATOL
    rtol: float = RTOL
    dtype: str = "float32"

    def text(self) -> str:
        return f"{self.atol:.3g} + {self.rtol:.3g} * |value|, {self.dtype}"


def tolerance_for(dtype: str) -> Tolerance:
    """float32: 1e-5 + 1e-5 * |value|; float16 / bfloat16: ``LOW_PRECISION_EPSILONS`` machine
    epsilons of the dtype, absolute and relative."""
    if dtype == "float32":
        return Tolerance()
    from .float32 import machine_epsilon

    limit = LOW_PRECISION_EPSILONS * machine_epsilon(dtype)
    return Tolerance(limit, limit, dtype)


@dataclass(frozen=True)
class VerifyReport:
    """What was compared: ``samples`` examples, the largest absolute difference seen, under
    ``tolerance``."""

    samples: int
    max_abs_diff: float
    tolerance: Tolerance = Tolerance()

    @property
    def atol(self) -> float:
        return self.tolerance.atol

    @property
    def rtol(self) -> float:
        return self.tolerance.rtol


def sample_inputs(
    source: ExportSource, preprocessing: Preprocessing, batch: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Raw inputs by name: ``(batch, *shape)``; unknown sizes are 5, and with a baked-in
    resize the images are 4 pixels larger than the model's input, so the resize is exercised.

    Float inputs are uniform over ``preprocessing.raw_range``; integer inputs (token ids) are
    uniform over 0..9.
    """
    rng = np.random.default_rng(seed)
    found = {}
    for tensor, name in zip(source.model.inputs, source.input_names):
        model_shape = tuple(tensor.shape)[1:]
        raw = raw_input_shape(tensor, preprocessing)
        shape = (
            batch,
            *[d if d is not None else (m + 4 if m else 5) for d, m in zip(raw, model_shape)],
        )
        dtype = np.dtype(str(tensor.dtype))
        if np.issubdtype(dtype, np.floating):
            low, high = preprocessing.raw_range
            found[name] = rng.uniform(low, high, size=shape).astype(np.float32)
        else:
            found[name] = rng.integers(0, 10, size=shape).astype(dtype)
    return found


def keras_outputs(
    model: Any, source: ExportSource, preprocessing: Preprocessing, inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The reference: training's own preprocessing
    (:func:`kerasbuild.data.splits.preprocess_inputs`) -> ``model`` ->
    :func:`~kerasbuild.data.splits.restore_targets`, named like the signature."""
    from ..data.splits import preprocess_inputs, restore_targets

    steps = preprocessing.as_dict()
    prepared = [
        preprocess_inputs(inputs[n], steps)
        if np.issubdtype(inputs[n].dtype, np.floating)
        else inputs[n]
        for n in source.input_names
    ]
    raw = model(prepared if len(prepared) > 1 else prepared[0], training=False)
    raw = [np.asarray(r) for r in raw] if isinstance(raw, (list, tuple)) else np.asarray(raw)
    if source.task == "regression" and len(source.output_names) == 1:
        raw = np.asarray(restore_targets(raw, steps), np.float32)
    return name_outputs(source, raw, _np_argmax)


def _np_argmax(p: np.ndarray) -> np.ndarray:
    if p.shape[-1] == 1:
        return (p[..., 0] > 0.5).astype(np.int64)
    return np.argmax(p, axis=-1).astype(np.int64)


def compare(
    expected: dict[str, np.ndarray],
    got: dict[str, np.ndarray],
    what: str,
    tolerance: Tolerance = Tolerance(),
) -> float:
    """Raise :class:`KerasbuildError` unless ``got`` matches ``expected`` within ``tolerance``;
    return the max diff."""
    if set(got) != set(expected):
        raise KerasbuildError(
            f"{what}: outputs {sorted(got)} differ from the expected {sorted(expected)}"
        )
    worst = 0.0
    for name, want in expected.items():
        have = np.asarray(got[name])
        if have.shape != want.shape:
            raise KerasbuildError(
                f"{what}: output '{name}' has shape {have.shape}, the Keras model gives "
                f"{want.shape}"
            )
        if name == "classes" and "probabilities" in expected:
            probs = np.sort(expected["probabilities"], axis=-1)
            margin = (
                probs[..., -1] - probs[..., -2]
                if probs.shape[-1] > 1
                else np.abs(probs[..., 0] - 0.5)
            )
            clear = margin > 2 * (tolerance.atol + tolerance.rtol)
            if np.any(have[clear] != want[clear]):  # per sample, or per pixel (segmentation)
                bad = np.unravel_index(np.argmax((have != want) & clear), have.shape)
                raise KerasbuildError(
                    f"{what}: output 'classes' is {int(have[bad])} for sample {int(bad[0])}, "
                    f"the Keras model gives {int(want[bad])}; the export was not published"
                )
            continue
        diff = np.abs(have.astype(np.float64) - want.astype(np.float64))
        limit = tolerance.atol + tolerance.rtol * np.abs(want.astype(np.float64))
        if not np.all(diff <= limit):  # NaN fails too
            raise KerasbuildError(
                f"{what}: output '{name}' differs from the Keras model by up to "
                f"{diff.max():.3g} (tolerance {tolerance.text()}); "
                "the export was not published"
            )
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


def verify(
    run: Runner,
    source: ExportSource,
    preprocessing: Preprocessing,
    reference: Any,
    what: str,
    tolerance: Tolerance = Tolerance(),
) -> VerifyReport:
    """Compare ``run`` (the exported artifact) with ``reference`` (a Keras model) on samples."""
    worst, count = 0.0, 0
    for seed, batch in enumerate(BATCH_SIZES):
        inputs = sample_inputs(source, preprocessing, batch, seed)
        expected = keras_outputs(reference, source, preprocessing, inputs)
        worst = max(worst, compare(expected, run(inputs), what, tolerance))
        count += batch
    return VerifyReport(count, worst, tolerance)
