"""The ``kerasbuild`` command line: thin Typer commands, one module per command group."""

from .app import app, main

__all__ = ["app", "main"]
