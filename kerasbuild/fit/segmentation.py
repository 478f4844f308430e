"""Segmentation metrics: per-pixel classification of ``(B, H, W, C)`` softmax outputs against
``(B, H, W)`` integer masks.

- ``pixel_accuracy``: the fraction of pixels whose most probable class is the mask's class.
- ``mean_iou``: per class, intersection over union of the predicted (argmax) and true pixel
  sets, averaged over the classes (Keras' confusion-matrix ``MeanIoU``, accumulated over the
  whole epoch, not averaged per batch).
"""

from __future__ import annotations

import keras


def pixel_accuracy() -> keras.metrics.Metric:
    """Per-pixel accuracy (sparse categorical accuracy over every pixel of the batch)."""
    return keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy")


def mean_iou(model: keras.Model, output: int = 0) -> keras.metrics.Metric:
    """Mean IoU over the classes of ``model``'s output number ``output`` (its last axis: ``C``
    classes); integer masks against probabilities (argmax taken inside the metric)."""
    num_classes = int(model.outputs[output].shape[-1])
    return keras.metrics.MeanIoU(
        num_classes=num_classes, name="mean_iou", sparse_y_true=True, sparse_y_pred=False
    )
