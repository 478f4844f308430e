"""Training on several processes or machines (``train.distribute: multi_worker``) on
``tf.distribute.MultiWorkerMirroredStrategy``: synchronous data parallelism, gradients summed
by TensorFlow's collective all-reduce.

Keras 3 ``fit()`` (and ``evaluate()``) fail under this strategy with a PerReplica conversion
error (keras-team/keras#20585), so :func:`fit` drives the step itself through
``strategy.run`` and calls the run's Keras callbacks (schedules, NaN guard, best model and
early stopping, history, checkpoint, epoch table, TensorBoard) as ``fit`` would:

- ``batch_size`` is the global batch: each step's batch is split between the replicas
  (``tf.data`` auto-sharding by examples: every worker builds the same seeded pipeline and
  keeps its share), each replica's batch-mean loss is weighted by its share of the batch, so
  the summed gradient is the gradient of the global batch's mean loss;
- the training loss and metrics are those of the global batch (``strategy.gather``);
  validation runs the whole validation split on every worker with the same weights;
- decisions are the chief's: at the start its weights and optimiser state (a resumed run's
  checkpoint) and the epoch to start from, before each epoch its learning rate / momentum,
  after each epoch its stop decision, are sent to every worker (a sum all-reduce in which
  only the chief contributes);
- only the chief writes the run directory; other workers train in a temporary directory of
  their own (:func:`worker_run_dir`), removed when the process ends;
- a lost worker: the collectives fail within :data:`COLLECTIVE_TIMEOUT_S` (TensorFlow's
  coordination service notices a dead process sooner, from its missing heartbeats) and
  :func:`fit` raises a :class:`~kerasbuild.errors.KerasbuildError` naming the lost task.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from ..errors import KerasbuildError
from ..schema.train import TrainConfig
from . import cluster
from .objective import data_loss, make_metrics, weight_penalty

COLLECTIVE_TIMEOUT_S = 45.0
"""A collective that waits longer than this fails (a hung or unreachable worker)."""

_strategy: tf.distribute.Strategy | None = None


def strategy() -> tf.distribute.Strategy:
    """The process's one ``MultiWorkerMirroredStrategy`` (TensorFlow allows one, created
    before any other TensorFlow op runs: :func:`worker_run_dir` creates it)."""
    global _strategy
    if _strategy is None:
        cluster.this_task()  # a clear error for a missing or malformed TF_CONFIG
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=COLLECTIVE_TIMEOUT_S
        )
        _strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    return _strategy


def worker_run_dir(run_dir: Path, *, resume: bool, overwrite: bool) -> tuple[Path, bool, bool]:
    """``(run_dir, resume, overwrite)`` for this worker, after creating the strategy (which
    connects the cluster): the chief's are unchanged; another worker gets a fresh temporary
    directory (removed at exit) and starts fresh: the chief sends it the resumed state."""
    strategy()
    if cluster.this_task().is_chief:
        return run_dir, resume, overwrite
    scratch = Path(tempfile.mkdtemp(prefix="kerasbuild-worker-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return scratch / "run", False, False


def fit(
    model: keras.Model,
    strategy: tf.distribute.Strategy,
    train_ds: tf.data.Dataset,
    valid_ds: tf.data.Dataset | None,
    *,
    config: TrainConfig,
    epochs: int,
    initial_epoch: int,
    callbacks: list[keras.callbacks.Callback],
) -> None:
    """Train ``model`` (built and compiled under ``strategy.scope()``, optimiser built) on
    ``train_ds`` (global batches; each iteration is one epoch) from epoch ``initial_epoch`` (this
    process's; the chief's wins) to ``epochs``, calling ``callbacks`` as Keras ``fit`` does
    (``config``: the loss and metrics). Afterwards the model evaluates and predicts locally (plain
    ``evaluate``)."""
    model._distribute_strategy = (
        None  # keras#20585: evaluate()/predict() run locally, on identical weights
    )
    try:
        _fit(model, strategy, train_ds, valid_ds, config, epochs, initial_epoch, callbacks)
    except tf.errors.OpError as exc:
        raise lost_worker(exc) from None


def _fit(model, strategy, train_ds, valid_ds, config, epochs, initial_epoch, callbacks) -> None:
    metrics = make_metrics(
        config, model
    )  # plain (not distributed) variables: updated with global batches
    variables = [*model.weights, *model.optimizer.variables]
    for variable, value in zip(
        variables, from_chief(strategy, [v.value for v in variables]), strict=True
    ):
        variable.assign(value)
    start = int(from_chief(strategy, [tf.constant(initial_epoch, tf.int64)])[0])
    for _ in range(start - initial_epoch):  # the per-epoch reshuffle where the chief's is
        iter(train_ds)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = strategy.experimental_distribute_dataset(train_ds.with_options(options))
    step = _train_step(model, strategy, config)
    loss = keras.metrics.Mean(name="loss")
    hooks = keras.callbacks.CallbackList(callbacks, model=model, epochs=epochs, verbose=0)
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(start, epochs):
        hooks.on_epoch_begin(epoch)
        for variable, value in zip(
            model.optimizer.variables,  # the chief's learning rate, momentum
            from_chief(strategy, [v.value for v in model.optimizer.variables]),
            strict=True,
        ):
            variable.assign(value)
        for metric in (loss, *metrics):
            metric.reset_state()
        for index, batch in enumerate(batches):
            hooks.on_train_batch_begin(index)
            batch_loss, y, y_pred = step(batch)
            loss.update_state(batch_loss, sample_weight=tf.shape(y)[0])
            for metric in metrics:
                metric.update_state(y, y_pred)
            hooks.on_train_batch_end(index, {"loss": float(loss.result())})
            if model.stop_training:  # the NaN guard: the global loss is the same on every worker
                break
        logs = {"loss": float(loss.result()), **{m.name: float(m.result()) for m in metrics}}
        if valid_ds is not None and not model.stop_training:
            scores = model.evaluate(valid_ds, verbose=0, return_dict=True)
            logs.update({f"val_{name}": float(value) for name, value in scores.items()})
        hooks.on_epoch_end(epoch, logs)
        model.stop_training = bool(
            from_chief(strategy, [tf.constant(float(model.stop_training))])[0]
        )
        if model.stop_training:
            break
    hooks.on_train_end()


def _train_step(model: keras.Model, strategy: tf.distribute.Strategy, config: TrainConfig):
    """One synchronous step on a distributed global batch -> ``(global mean loss, global y,
    global y_pred)``. A replica's loss: the sum of its examples' losses over the global batch
    size, plus its share of the batch times the weight penalties (``objective_l1/l2``, layer
    regularisers), so the summed gradient is the global batch's."""
    optimizer = model.optimizer
    per_example = data_loss(model, config, reduction=None)
    penalty = weight_penalty(model, config)

    def replica_step(x, y):
        count = tf.shape(y)[0]
        total = tf.cast(tf.distribute.get_replica_context().all_reduce("sum", count), "float32")
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            penalties = [tf.cast(v, "float32") for v in model.losses] + (
                [penalty()] if penalty else []
            )
            loss = tf.reduce_sum(tf.cast(per_example(y, y_pred), "float32")) / total
            if penalties:
                loss += tf.add_n(penalties) * tf.cast(count, "float32") / total
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss, y, tf.cast(y_pred, "float32")

    @tf.function
    def step(batch):
        loss, y, y_pred = strategy.run(replica_step, args=batch)
        return (
            strategy.reduce("sum", loss, axis=None),
            strategy.gather(y, 0),
            strategy.gather(y_pred, 0),
        )

    return step


def from_chief(strategy: tf.distribute.Strategy, values: list[Any]) -> list[tf.Tensor]:
    """The chief's ``values`` (numeric tensors), on every worker: an all-reduce sum to which
    only the chief's first replica contributes (as float64, exact for float32 and for
    integers below 2**53)."""

    def replica(values):
        context = tf.distribute.get_replica_context()
        chief = tf.equal(context.replica_id_in_sync_group, 0)
        return context.all_reduce("sum", [tf.where(chief, v, tf.zeros_like(v)) for v in values])

    tensors = [tf.convert_to_tensor(v) for v in values]
    reduced = strategy.run(tf.function(replica), args=([tf.cast(t, tf.float64) for t in tensors],))
    local = [strategy.experimental_local_results(r)[0] for r in reduced]
    return [tf.cast(r, t.dtype) for r, t in zip(local, tensors, strict=True)]


_TASK = re.compile(r"/job:(\w+)/replica:\d+/task:(\d+)")


def lost_worker(exc: tf.errors.OpError) -> KerasbuildError:
    """A failed collective as a clear error naming the tasks TensorFlow reports unhealthy."""
    text = exc.message or str(exc)
    unhealthy = text.split("unhealthy", 1)[1] if "unhealthy" in text else text
    tasks = sorted({(kind, int(index)) for kind, index in _TASK.findall(unhealthy)})
    if not tasks:
        tasks = sorted(
            {(kind, int(index)) for kind, index in re.findall(r"/job:(\w+)/task:(\d+)", text)}
        )
    lost = ", ".join(cluster.describe_task(kind, index) for kind, index in tasks) or "unknown"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return KerasbuildError(
        f"multi-worker training stopped: lost contact with {lost} ({type(exc).__name__}: "
        f"{first[:300]}). The chief's run directory keeps the last completed epoch; start "
        "every worker again with --resume to continue.",
        exit_code=1,
    )
