"""Data: sources, splits, preprocessing and augmentation pipelines on tf.data."""
