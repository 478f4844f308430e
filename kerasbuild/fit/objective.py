"""Loss, weight penalties and metrics from ``train:``, and :func:`compile_model`.

- Classification: integer labels, sparse categorical cross-entropy (on probabilities when the
  output layer ends in softmax, on logits otherwise); metric ``accuracy``.
- Segmentation (``(H, W)`` integer masks, ``(H, W, C)`` outputs): the same loss per pixel;
  metrics ``pixel_accuracy`` and ``mean_iou`` (:mod:`kerasbuild.fit.segmentation`).
- Regression (``regression: true``): mean squared error; metric ``rmse``.
- ``objective_l2`` / ``objective_l1``: nolearn's ``objective(..., l2=...)``: ``lambda * sum(W**2)``
  (or ``sum |W|``) over the weight kernels of every layer, never biases or batch-norm
  parameters, added to the mean loss of each batch.
"""

from __future__ import annotations

from typing import Any

import keras

from ..schema.train import TrainConfig, metric_names
from .optimizers import make_optimizer
from .segmentation import mean_iou, pixel_accuracy

_METRICS = {  # name -> factory of the model (a metric may need its output shape)
    "accuracy": lambda model: keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
    "top5_accuracy": lambda model: keras.metrics.SparseTopKCategoricalAccuracy(
        k=5, name="top5_accuracy"
    ),
    "mae": lambda model: keras.metrics.MeanAbsoluteError(name="mae"),
    "mse": lambda model: keras.metrics.MeanSquaredError(name="mse"),
    "rmse": lambda model: keras.metrics.RootMeanSquaredError(name="rmse"),
    "pixel_accuracy": lambda model: pixel_accuracy(),
    "mean_iou": mean_iou,
}


def penalised_variables(model: keras.Model) -> list[Any]:
    """The weights nolearn regularises: kernels (dense, conv, depthwise/pointwise), not biases."""
    return [v for v in model.trainable_weights if v.name.endswith("kernel")]


def ends_in_softmax(model: keras.Model) -> bool:
    """Whether the (single) output is already a probability distribution: the output layer's
    activation is softmax, or it averages outputs that are (an ensemble)."""
    return _is_softmax(model.outputs[0]._keras_history.operation)


def _is_softmax(layer: Any) -> bool:
    if isinstance(layer, keras.Model):
        return ends_in_softmax(layer)
    if isinstance(layer, keras.layers.Average):
        inputs = layer._inbound_nodes[0].input_tensors
        return all(_is_softmax(t._keras_history.operation) for t in inputs)
    return getattr(getattr(layer, "activation", None), "__name__", "") == "softmax"


def data_loss(
    model: keras.Model, config: TrainConfig, reduction: str | None = "sum_over_batch_size"
):
    """The data term: cross-entropy or mean squared error; ``reduction=None``: one value per
    example (``(N,)``)."""
    if config.regression:
        return keras.losses.MeanSquaredError(reduction=reduction)
    return keras.losses.SparseCategoricalCrossentropy(
        from_logits=not ends_in_softmax(model), reduction=reduction
    )


def weight_penalty(model: keras.Model, config: TrainConfig):
    """nolearn's penalty as a function of no arguments returning a float32 scalar, or None
    when ``objective_l1`` and ``objective_l2`` are 0."""
    l1, l2 = config.objective_l1, config.objective_l2
    if not (l1 or l2):
        return None
    weights = penalised_variables(model)

    def penalty():
        total = 0.0
        for w in weights:
            w = keras.ops.cast(w, "float32")
            if l2:
                total = total + l2 * keras.ops.sum(keras.ops.square(w))
            if l1:
                total = total + l1 * keras.ops.sum(keras.ops.abs(w))
        return total

    return penalty


def make_loss(model: keras.Model, config: TrainConfig):
    """The batch loss: the data term plus nolearn's weight penalties."""
    base, penalty = data_loss(model, config), weight_penalty(model, config)
    if penalty is None:
        return base

    def loss(y_true, y_pred):
        return base(y_true, y_pred) + penalty()

    return loss


def make_metrics(config: TrainConfig, model: keras.Model) -> list[keras.metrics.Metric]:
    """Fresh metric objects for ``config`` (``accuracy``, ``rmse``... by :func:`metric_names`)
    and ``model``."""
    return [_METRICS[name](model) for name in metric_names(config)]


def compile_model(
    model: keras.Model,
    config: TrainConfig,
    *,
    steps_per_execution: int | None = None,
    optimizer: keras.optimizers.Optimizer | None = None,
) -> keras.Model:
    """Compile ``model`` in place for ``config`` (optimiser, loss, metrics, jit, steps per
    execution: ``config.steps_per_execution``, else ``steps_per_execution``, else 1)."""
    model.compile(
        optimizer=optimizer or make_optimizer(config),
        loss=make_loss(model, config),
        metrics=make_metrics(config, model),
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution or steps_per_execution or 1,
    )
    return model
