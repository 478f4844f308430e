"""The Keras runtime of one fit: session (seeds, determinism, precision, strategy),
:func:`~kerasbuild.fit.prepare.prepare_fit` (model, datasets, callbacks), optimisers,
objective, schedules, callbacks, checkpoints, durable file writes."""
