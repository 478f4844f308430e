"""The one rule for which way a metric improves, shared by training callbacks and the tuner."""

from __future__ import annotations

import re

_HIGHER_IS_BETTER = re.compile(r"acc|auc|precision|recall|f1|iou")


def higher_is_better(metric: str) -> bool:
    """Whether ``metric`` (a logged name such as ``val_accuracy``, ``auc``, ``val_loss``)
    improves upwards: accuracy, AUC, precision, recall, F1 and IoU do; losses and errors
    (``loss``, ``rmse``, ``mae``) improve downwards."""
    return bool(_HIGHER_IS_BETTER.search(metric.lower()))
