"""``python -m kerasbuild.cli``: the console script."""

from .application import main

main()
