"""One-paragraph description of a finished export for the command line."""

from __future__ import annotations

from .exporter import ExportResult


def describe_export(result: ExportResult) -> str:
    """``wrote models/NAME/3 (savedmodel): serving_default(image) -> probabilities, classes; ...``"""
    baked = result.preprocessing.as_dict()
    return (f"wrote {result.path} ({result.format}, version {result.version}): serving_default("
            f"{', '.join(result.input_names)}) -> {', '.join(result.output_names)}; "
            f"preprocessing baked in: {baked or 'none'}; verified on {result.report.samples} samples, "
            f"max |difference| {result.report.max_abs_diff:.3g} "
            f"(tolerance {result.report.atol:g} + {result.report.rtol:g} * |value|)")
