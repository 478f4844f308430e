"""``kerasbuild export``: build, verify, then atomically publish the next version.

Steps: read the run directory or ``.keras`` file -> remove stale temp directories -> build
the serving module (preprocessing baked in unless turned off) -> write the artifact and its
assets into ``OUT/.tmp-*`` -> load it back and compare with the Keras model
(:mod:`~kerasbuild.export.verify`) -> rename to ``OUT/N``. Any failure removes the temp
directory and publishes nothing; earlier versions are never touched.

Mixed-precision models: the SavedModel keeps the model's own dtype policies (float16 /
bfloat16 compute, float32 output layer and signature). ONNX and TFLite are written from the
model's float32 twin (:mod:`~kerasbuild.export.float32`); the artifact is checked against the
twin at the float32 tolerance (the conversion is exact) and against the trained Keras model at
the tolerance of its compute dtype. ``quantize="float16"`` (TFLite only) stores the weights as
float16; inputs and outputs stay float32.

The environment variable ``KERASBUILD_EXPORT_PAUSE_S`` (seconds) pauses after the artifact is
written and before it is verified; the tests use it to kill an export at that point.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from ..fit.write_errors import as_write_error
from . import to_onnx, to_savedmodel, to_tflite
from .assets import write_assets
from .float32 import FLOAT32, compute_dtype, float32_copy
from .preprocess import Preprocessing
from .signature import make_serving_module, output_names
from .source import ExportSource, read_source
from .verify import VerifyReport, tolerance_for, verify
from .versions import clean_stale_temp_dirs, make_temp_dir, publish, version_numbers

FORMATS = {"savedmodel": to_savedmodel, "onnx": to_onnx, "tflite": to_tflite}
FLOAT32_FORMATS = ("onnx", "tflite")
"""Formats written from the model's float32 twin (their runtimes lack bfloat16 / float16
kernels)."""
QUANTIZE = {"tflite": ("float16",)}
"""Format -> the ``quantize`` values it accepts."""
PAUSE_ENV = "KERASBUILD_EXPORT_PAUSE_S"


@dataclass(frozen=True)
class ExportResult:
    """A published version: ``path`` is ``OUT/N``."""

    version: int
    path: Path
    format: str
    input_names: list[str]
    output_names: list[str]
    preprocessing: Preprocessing
    report: VerifyReport


def export(
    source: str | Path | ExportSource,
    out: str | Path,
    *,
    fmt: str = "savedmodel",
    preprocessing: bool = True,
    reference: Any = None,
    quantize: str | None = None,
) -> ExportResult:
    """Export ``source`` (run directory, ``.keras`` file or :class:`ExportSource`) as the next
    version under ``out``.

    ``preprocessing``: bake the run's preprocessing into the graph (clients send raw values).
    ``reference``: the Keras model the artifact is checked against (default: the exported
    model itself). ``quantize``: ``"float16"`` weights (TFLite only). Raises
    :class:`KerasbuildError` when verification fails.
    """
    if fmt not in FORMATS:
        raise KerasbuildError(
            f"unknown export format '{fmt}'; expected one of: {', '.join(FORMATS)}"
        )
    if quantize is not None and quantize not in QUANTIZE.get(fmt, ()):
        allowed = ", ".join(
            f"--format {f} --quantize {q}" for f, qs in QUANTIZE.items() for q in qs
        )
        raise KerasbuildError(
            f"cannot quantize a {fmt} export to '{quantize}'; supported: {allowed}"
        )
    out = Path(out)
    _check_same_format(out, fmt)
    loaded = source if isinstance(source, ExportSource) else read_source(source)
    reference = reference or loaded.model
    writer = FORMATS[fmt]
    prep = loaded.preprocessing if preprocessing else Preprocessing()
    serving = _serving_source(loaded, fmt)
    module = make_serving_module(serving, prep)
    what = f"{fmt} export of {loaded.origin}"
    clean_stale_temp_dirs(out)
    temp = make_temp_dir(out)
    try:
        with tempfile.TemporaryDirectory(prefix="kerasbuild-assets-") as staging:
            writer.write(
                module,
                temp,
                write_assets(loaded, fmt, prep, Path(staging)),
                **({"quantize": quantize} if quantize else {}),
            )
        _pause()
        run = writer.runner(temp)
        if serving is not loaded and quantize is None:
            verify(run, serving, prep, serving.model, what=f"{what} (against its float32 twin)")
        dtype = _lowest_precision(
            compute_dtype(reference), compute_dtype(loaded.model), quantize or FLOAT32
        )
        report = verify(run, loaded, prep, reference, what=what, tolerance=tolerance_for(dtype))
        version, path = publish(temp, out)
    except BaseException as exc:
        shutil.rmtree(temp, ignore_errors=True)
        failure = as_write_error(exc, temp)
        if failure is not None:
            raise failure.with_advice(
                f"nothing was published and the versions in {out} are untouched; "
                "free space and export again"
            ) from None
        raise
    return ExportResult(
        version, path, fmt, list(loaded.input_names), output_names(loaded), prep, report
    )


def _serving_source(loaded: ExportSource, fmt: str) -> ExportSource:
    """What the artifact is built from: ``loaded``, or for ONNX/TFLite of a mixed-precision
    model the same source holding the model's float32 twin."""
    if fmt in FLOAT32_FORMATS and compute_dtype(loaded.model) != FLOAT32:
        return replace(loaded, model=float32_copy(loaded.model))
    return loaded


def _lowest_precision(*dtypes: str) -> str:
    """The least precise of float32 / float16 / bfloat16."""
    return max(dtypes, key=("float32", "float16", "bfloat16").index)


def export_format(path: Path) -> str | None:
    """``"savedmodel"``, ``"onnx"`` or ``"tflite"`` when ``path`` is an exported version."""
    for name, writer in FORMATS.items():
        if (path / writer.MARKER).is_file():
            return name
    return None


def _check_same_format(out: Path, fmt: str) -> None:
    """Refuse to mix formats under one model directory: TensorFlow Serving loads the highest
    version, which must be a SavedModel."""
    for version in version_numbers(out):
        found = export_format(out / str(version))
        if found and found != fmt:
            raise KerasbuildError(
                f"{out / str(version)} is a {found} export; put {fmt} exports in "
                f"their own directory (e.g. --out {out}-{fmt})"
            )


def _pause() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        time.sleep(float(seconds))
