"""Process-wide TensorFlow settings for one training run: seeds, op determinism, precision
policy, distribution strategy and the default ``steps_per_execution``."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import keras
import tensorflow as tf

from ..schema.train import TrainConfig

CPU_STEPS_PER_EXECUTION = 32
"""Default on CPU: one Python round trip per 32 batches (+40% for the Nielsen net on 2 cores)."""


def effective_seed(config: TrainConfig) -> int:
    """``train.seed``, or a fresh random one (recorded in run.json so the run can be repeated)."""
    return config.seed if config.seed is not None else secrets.randbelow(2**31)


def has_gpu() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))


def default_steps_per_execution(config: TrainConfig) -> int:
    """32 on CPU; 1 on GPU, under ``distribute: mirrored`` (Keras 3.15's multi-step loop
    fails there with "You must feed a value for placeholder tensor") and under ``multi_worker``
    (kerasbuild's own loop runs one step per call)."""
    return 1 if has_gpu() or config.distribute != "none" else CPU_STEPS_PER_EXECUTION


def strategy_for(config: TrainConfig) -> tf.distribute.Strategy:
    """``distribute: mirrored``: MirroredStrategy over all GPUs, or all logical CPU devices
    when there is no GPU; ``multi_worker``: the process's MultiWorkerMirroredStrategy
    (:func:`kerasbuild.fit.multi_worker.strategy`); ``none``: the default (single-device)
    strategy."""
    if config.distribute == "multi_worker":
        from . import multi_worker

        return multi_worker.strategy()
    if config.distribute == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])
    return tf.distribute.get_strategy()


@contextlib.contextmanager
def training_session(config: TrainConfig, seed: int) -> Iterator[None]:
    """Seed Python, NumPy and TensorFlow; set op determinism (``deterministic``) and the
    dtype policy for the duration; both are restored afterwards, so a later run in the same
    process (tests, a search, a notebook) does not inherit them: Keras would silently run a
    ``jit_compile: true`` run without XLA under a previous run's op determinism."""
    from tensorflow.python.framework import config as tf_config  # has no public "disable"

    keras.utils.set_random_seed(seed)
    was_deterministic = tf_config.is_op_determinism_enabled()
    if config.deterministic != was_deterministic:
        (
            tf_config.enable_op_determinism
            if config.deterministic
            else tf_config.disable_op_determinism
        )()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
        if tf_config.is_op_determinism_enabled() != was_deterministic:
            (
                tf_config.enable_op_determinism
                if was_deterministic
                else tf_config.disable_op_determinism
            )()
