"""The resume point in ``RUN/backup/``: weights and optimiser state of the last completed
epoch plus everything else a resumed run needs to continue exactly (callback state, the
random-seed state of dropout/noise layers).

Layout: ``epoch_NNNN.weights.h5`` (``model.save_weights``: layer and optimiser variables) and
``state.json`` naming it. Both are written atomically, weights first, so ``state.json`` always
names a complete file; a kill at any moment leaves the previous epoch's resume point intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from .files import atomic_write_bytes, atomic_write_json, read_json, serialized

STATE = "state.json"


def seed_states(model: keras.Model) -> list[list[int]]:
    """The ``[seed, counter]`` state of every random-seed generator in the model (dropout,
    Gaussian noise), in a stable order. ``model.save_weights`` does not store these."""
    return [[int(x) for x in keras.ops.convert_to_numpy(v)] for v in _seed_variables(model)]


def _seed_variables(model: keras.Model) -> list[Any]:
    return [v for v in model.variables if "seed_generator_state" in v.path]


def write_checkpoint(
    backup_dir: Path,
    model: keras.Model,
    epochs_completed: int,
    stateful: dict[str, Any],
    *,
    stop_training: bool = False,
) -> None:
    backup_dir.mkdir(parents=True, exist_ok=True)
    name = f"epoch_{epochs_completed:04d}.weights.h5"
    atomic_write_bytes(backup_dir / name, serialized(model.save_weights, name))
    atomic_write_json(
        backup_dir / STATE,
        {
            "epochs_completed": epochs_completed,
            "weights": name,
            "stop_training": stop_training,
            "seed_states": seed_states(model),
            "callbacks": {key: cb.get_state() for key, cb in stateful.items()},
        },
    )
    for old in backup_dir.glob("epoch_*.weights.h5"):
        if old.name != name:
            old.unlink(missing_ok=True)


def read_checkpoint(backup_dir: Path) -> dict[str, Any] | None:
    """The saved state, or ``None`` when no epoch has completed yet."""
    path = backup_dir / STATE
    return read_json(path) if path.exists() else None


def restore_checkpoint(
    backup_dir: Path, state: dict[str, Any], model: keras.Model, stateful: dict[str, Any]
) -> None:
    """Load weights and optimiser state into ``model`` (compiled, optimiser built) and the
    callbacks' state; put the seed generators where they were."""
    model.load_weights(backup_dir / state["weights"])
    for variable, value in zip(_seed_variables(model), state["seed_states"], strict=True):
        variable.assign(keras.ops.convert_to_tensor(value, dtype=variable.dtype))
    for key, cb in stateful.items():
        cb.set_state(state["callbacks"][key])
