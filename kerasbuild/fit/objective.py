"""Loss, weight penalties and metrics from ``train:``, and :func:`compile_model`.

- Classification: integer labels, sparse categorical cross-entropy (on probabilities when the
  output layer ends in softmax, on logits otherwise); metric ``accuracy``.
- Segmentation (``(H, W)`` integer masks, ``(H, W, C)`` outputs): the same loss per pixel;
  metrics ``pixel_accuracy`` and ``mean_iou`` (:mod:`kerasbuild.fit.segmentation`).
- Regression (``regression: true``): mean squared error; metric ``rmse``.
- ``objective_l2`` / ``objective_l1``: nolearn's ``objective(..., l2=...)``: ``lambda * sum(W**2)``
  (or ``sum |W|``) over the weight kernels of every layer, never biases or batch-norm
  parameters, added to the mean loss of each batch.
- Several outputs (``train.outputs``): each output layer gets its own data term (by its
  ``regression``) and metrics, keyed by the layer's name; the total loss is
  ``sum(loss_weight * output loss)`` (Keras' ``loss_weights``) and the logs carry Keras'
  per-output names (``digit_loss``, ``val_digit_accuracy``).
"""

from __future__ import annotations

from typing import Any

import keras

from ..errors import KerasbuildError
from ..schema.train import TrainConfig, metric_names, output_is_regression, output_metrics
from ..spec.freeze import owner
from .optimizers import make_optimizer
from .segmentation import mean_iou, pixel_accuracy

_METRICS = {  # name -> factory of (model, output index) (a metric may need the output's shape)
    "accuracy": lambda model, output: keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
    "top5_accuracy": lambda model, output: keras.metrics.SparseTopKCategoricalAccuracy(
        k=5, name="top5_accuracy"
    ),
    "mae": lambda model, output: keras.metrics.MeanAbsoluteError(name="mae"),
    "mse": lambda model, output: keras.metrics.MeanSquaredError(name="mse"),
    "rmse": lambda model, output: keras.metrics.RootMeanSquaredError(name="rmse"),
    "pixel_accuracy": lambda model, output: pixel_accuracy(),
    "mean_iou": mean_iou,
}


def penalised_variables(model: keras.Model) -> list[Any]:
    """The weights nolearn regularises: kernels (dense, conv, depthwise/pointwise), not biases."""
    return [v for v in model.trainable_weights if v.name.endswith("kernel")]


def ends_in_softmax(model: keras.Model, output: int = 0) -> bool:
    """Whether output ``output`` (the first by default) is already a probability
    distribution: the output layer's activation is softmax, or it averages outputs that are
    (an ensemble)."""
    return _is_softmax(model.outputs[output]._keras_history.operation)


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
    return [_METRICS[name](model, 0) for name in metric_names(config)]


def per_output(model: keras.Model, config: TrainConfig) -> dict[str, dict[str, Any]]:
    """``compile`` arguments for ``train.outputs``: ``loss``, ``loss_weights`` and ``metrics``,
    each a dict keyed by output layer name. Sets ``model.output_names`` to the spec's output
    layer names (an output whose last Keras layer is a helper, ``a_act``, is named ``a``), so
    the targets and the logs go by those names."""
    names = set(config.outputs)
    model.output_names = [owner(name, names) or name for name in model.output_names]
    unknown = [name for name in model.output_names if name not in names]
    if unknown:
        raise KerasbuildError(
            f"the model's output '{unknown[0]}' has no entry in train.outputs "
            f"({', '.join(config.outputs)})"
        )
    losses, metrics = {}, {}
    for index, name in enumerate(model.output_names):
        if output_is_regression(config, name):
            losses[name] = keras.losses.MeanSquaredError()
        else:
            losses[name] = keras.losses.SparseCategoricalCrossentropy(
                from_logits=not ends_in_softmax(model, index)
            )
        metrics[name] = [_METRICS[metric](model, index) for metric in output_metrics(config, name)]
    weights = {name: config.outputs[name].loss_weight for name in model.output_names}
    return {"loss": losses, "loss_weights": weights, "metrics": metrics}


def compile_model(
    model: keras.Model,
    config: TrainConfig,
    *,
    steps_per_execution: int | None = None,
    optimizer: keras.optimizers.Optimizer | None = None,
) -> keras.Model:
    """Compile ``model`` in place for ``config`` (optimiser, loss, metrics, jit, steps per
    execution: ``config.steps_per_execution``, else ``steps_per_execution``, else 1)."""
    objective = (
        per_output(model, config)
        if config.outputs is not None
        else {"loss": make_loss(model, config), "metrics": make_metrics(config, model)}
    )
    model.compile(
        optimizer=optimizer or make_optimizer(config),
        **objective,
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution or steps_per_execution or 1,
    )
    return model
