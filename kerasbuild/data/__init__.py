"""Data: sources, splits, preprocessing and augmentation pipelines on tf.data.

Modules: ``config`` (the ``data:`` section, pure pydantic), ``sources`` (loaders),
``splits`` (:func:`load_arrays` -> :class:`Splits`), ``paths`` (located checks against the
file system), ``expand`` (offline x5 shifts, numpy), ``augment`` (batched TF augmentations)
and ``pipeline`` (:func:`make_dataset`). Importing this package does not import TensorFlow;
``augment`` and ``pipeline`` do.
"""
