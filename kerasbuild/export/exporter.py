"""``kerasbuild export``: build, verify, then atomically publish the next version.

Steps: read the run directory or ``.keras`` file -> remove stale temp directories -> build
the serving module (preprocessing baked in unless turned off) -> write the artifact and its
assets into ``OUT/.tmp-*`` -> load it back and compare with the Keras model
(:mod:`~kerasbuild.export.verify`) -> rename to ``OUT/N``. Any failure removes the temp
directory and publishes nothing; earlier versions are never touched.

The environment variable ``KERASBUILD_EXPORT_PAUSE_S`` (seconds) pauses after the artifact is
written and before it is verified; the tests use it to kill an export at that point.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from ..train.write_errors import as_write_error
from . import to_onnx, to_savedmodel, to_tflite
from .assets import write_assets
from .preprocess import Preprocessing
from .signature import make_serving_module, output_names
from .source import ExportSource, read_source
from .verify import VerifyReport, verify
from .versions import clean_stale_temp_dirs, make_temp_dir, publish, version_numbers

FORMATS = {"savedmodel": to_savedmodel, "onnx": to_onnx, "tflite": to_tflite}
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


def export(source: str | Path | ExportSource, out: str | Path, *, fmt: str = "savedmodel",
           preprocessing: bool = True, reference: Any = None) -> ExportResult:
    """Export ``source`` (run directory, ``.keras`` file or :class:`ExportSource`) as the next
    version under ``out``.

    ``preprocessing``: bake the run's preprocessing into the graph (clients send raw values).
    ``reference``: the Keras model the artifact is checked against (default: the exported
    model itself). Raises :class:`KerasbuildError` when verification fails.
    """
    if fmt not in FORMATS:
        raise KerasbuildError(f"unknown export format '{fmt}'; expected one of: {', '.join(FORMATS)}")
    out = Path(out)
    _check_same_format(out, fmt)
    loaded = source if isinstance(source, ExportSource) else read_source(source)
    writer = FORMATS[fmt]
    prep = loaded.preprocessing if preprocessing else Preprocessing()
    module = make_serving_module(loaded, prep)
    clean_stale_temp_dirs(out)
    temp = make_temp_dir(out)
    try:
        with tempfile.TemporaryDirectory(prefix="kerasbuild-assets-") as staging:
            writer.write(module, temp, write_assets(loaded, fmt, prep, Path(staging)))
        _pause()
        report = verify(writer.runner(temp), loaded, prep, reference or loaded.model,
                        what=f"{fmt} export of {loaded.origin}")
        version, path = publish(temp, out)
    except BaseException as exc:
        shutil.rmtree(temp, ignore_errors=True)
        failure = as_write_error(exc, temp)
        if failure is not None:
            raise failure.with_advice(f"nothing was published and the versions in {out} are untouched; "
                                      "free space and export again") from None
        raise
    return ExportResult(version, path, fmt, list(loaded.input_names), output_names(loaded), prep, report)


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
            raise KerasbuildError(f"{out / str(version)} is a {found} export; put {fmt} exports in "
                                  f"their own directory (e.g. --out {out}-{fmt})")


def _pause() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        time.sleep(float(seconds))
