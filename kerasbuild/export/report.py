"""One-paragraph description of a finished export for the command line."""

from __future__ import annotations

from .exporter import ExportResult
from .verify import Tolerance


def describe_export(result: ExportResult) -> str:
    """``wrote models/NAME/3 (savedmodel, version 3): serving_default(image) -> probabilities,
    classes; preprocessing baked in: scale=0.003922; verified on 8 samples, ...``"""
    baked = ", ".join(
        f"{k}[{len(v)}]" if isinstance(v, list) else f"{k}={v:.4g}"
        for k, v in result.preprocessing.as_dict().items()
    )
    return (
        f"wrote {result.path} ({result.format}, version {result.version}): serving_default("
        f"{', '.join(result.input_names)}) -> {', '.join(result.output_names)}; "
        f"preprocessing baked in: {baked or 'none'}; verified on {result.report.samples} samples, "
        f"max |difference| {result.report.max_abs_diff:.3g} "
        f"(tolerance {_tolerance(result.report.tolerance)})"
    )


def _tolerance(tolerance: Tolerance) -> str:
    """``1e-05 + 1e-05 * |value|``; the dtype is named when it is not float32."""
    text = f"{tolerance.atol:.3g} + {tolerance.rtol:.3g} * |value|"
    return text if tolerance.dtype == "float32" else f"{text}, from {tolerance.dtype} precision"
