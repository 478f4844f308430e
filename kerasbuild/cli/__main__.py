"""``python -m kerasbuild.cli``: the console script."""

from .app import main

main()
