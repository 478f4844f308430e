"""The file formats as pydantic models: base types, ``train:``, ``data:``, search-job files and
the metric rules they share.

This package imports pydantic and :mod:`kerasbuild.errors` only, never Keras, TensorFlow or a
runtime package (an import-linter contract in pyproject.toml checks it). Layer parameter
schemas live with their layer family in :mod:`kerasbuild.layers`.
"""
