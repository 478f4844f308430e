"""What a training run actually executed with, read from the compiled model and the strategy
(recorded as ``execution`` in ``run.json``), and a notice for any setting Keras dropped.

Keras may quietly override settings: it switches XLA off when a layer does not support it
(or under TensorFlow op determinism, which the spec validator already refuses together with
``jit_compile: true``). Reading the values back from the model after ``fit`` records what ran,
not what was asked for.
"""

from __future__ import annotations

from typing import Any

from ..schema.train import TrainConfig


def describe(model: Any, strategy: Any) -> dict[str, Any]:
    """``{"dtype_policy", "layer_dtypes": {layer: policy}, "loss_scale", "jit_compile",
    "steps_per_execution", "strategy", "devices", "workers"}`` of the compiled ``model``
    (``devices``: this process's replicas; ``workers``: processes training together).

    ``loss_scale`` (``mixed_float16`` only, else ``None``): the LossScaleOptimizer's state,
    ``{"scale": current dynamic loss scale, "good_steps": steps since it last changed}``."""
    import keras

    return {
        "dtype_policy": keras.config.dtype_policy().name,
        "layer_dtypes": {layer.name: layer.dtype_policy.name for layer in model.layers},
        "loss_scale": _loss_scale(model.optimizer),
        "jit_compile": bool(model.jit_compile),
        "steps_per_execution": int(model.steps_per_execution),
        "strategy": type(strategy).__name__.lstrip("_"),
        "devices": _devices(model, strategy),
        "workers": _workers(strategy),
    }


def dropped_settings(
    config: TrainConfig, execution: dict[str, Any], requested_steps: int
) -> list[str]:
    """One line per setting that did not take effect (``requested_steps``: the
    ``steps_per_execution`` passed to ``compile``)."""
    notices = []
    if config.jit_compile and not execution["jit_compile"]:
        notices.append(
            "jit_compile: true was not applied: Keras runs this model without XLA "
            "(a layer does not support it); run.json records jit_compile: false"
        )
    if execution["steps_per_execution"] != requested_steps:
        notices.append(
            f"steps_per_execution: {requested_steps} was not applied; Keras runs "
            f"{execution['steps_per_execution']}"
        )
    return notices


def _devices(model: Any, strategy: Any) -> list[str]:
    """The replicas' devices; for the default (one-device) strategy, where the model's
    variables were placed."""
    import tensorflow as tf

    if isinstance(
        strategy, tf.distribute.MirroredStrategy | tf.distribute.MultiWorkerMirroredStrategy
    ):
        return list(strategy.extended.worker_devices)
    return sorted({v.value.device for v in model.variables})


def _workers(strategy: Any) -> int:
    """Processes training together: the cluster's chief and workers (1 on one process)."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return 1
    spec = strategy.cluster_resolver.cluster_spec().as_dict()
    return sum(len(spec.get(kind, [])) for kind in ("chief", "worker"))


def _loss_scale(optimizer: Any) -> dict[str, float] | None:
    import keras

    if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return None
    if not optimizer.built:  # before the first step: the values the variables will start from
        return {"scale": float(optimizer.initial_scale), "good_steps": 0}
    return {
        "scale": float(optimizer.dynamic_scale.numpy()),
        "good_steps": int(optimizer.step_counter.numpy()),
    }
