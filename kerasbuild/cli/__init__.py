"""The ``kerasbuild`` command line: thin Typer commands, one module per command group."""

from .application import app, main

__all__ = ["app", "main"]
