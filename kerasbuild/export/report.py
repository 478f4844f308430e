"""One-paragraph description of a finished export for the command line."""

from __future__ import annotations

from .exporter import ExportResult


def describe_export(result: ExportResult) -> str:
    """``wrote models/NAME/3 (savedmodel, version 3): serving_default(image) -> probabilities,
    classes; preprocessing baked in: scale=0.003922; verified on 8 samples, ...``"""
    baked = ", ".join(f"{k}[{len(v)}]" if isinstance(v, list) else f"{k}={v:.4g}"
                      for k, v in result.preprocessing.as_dict().items())
    return (f"wrote {result.path} ({result.format}, version {result.version}): serving_default("
            f"{', '.join(result.input_names)}) -> {', '.join(result.output_names)}; "
            f"preprocessing baked in: {baked or 'none'}; verified on {result.report.samples} samples, "
            f"max |difference| {result.report.max_abs_diff:.3g} "
            f"(tolerance {result.report.atol:g} + {result.report.rtol:g} * |value|)")
