"""Run directories: ``train`` writes one (:mod:`kerasbuild.runs.runner`), the post-run
commands read it (evaluate, predict, ensemble, plots)."""
