"""SavedModel format: ``N/saved_model.pb``, ``N/variables/``, ``N/assets/`` (spec, labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .signature import signatures

MARKER = "saved_model.pb"


def write(module: Any, directory: Path, assets: list[Path]) -> None:
    """Save ``module`` (see :func:`~kerasbuild.export.signature.make_serving_module`) with
    its signatures; ``assets`` are copied into ``directory/assets/`` by TensorFlow."""
    import tensorflow as tf

    module.asset_files = [tf.saved_model.Asset(str(p)) for p in assets]
    tf.saved_model.save(module, str(directory), signatures=signatures(module))


def runner(directory: Path, signature: str = "serving_default"):
    """Load the SavedModel; return ``run(inputs by name) -> outputs by name`` (NumPy)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(directory))
    fn = loaded.signatures[signature]
    specs = fn.structured_input_signature[1]

    def run(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {
            name: tf.constant(np.asarray(inputs[name]), dtype=spec.dtype)
            for name, spec in specs.items()
        }
        return {name: value.numpy() for name, value in fn(**feed).items()}

    run.loaded = loaded  # keeps the restored variables alive while ``run`` is in use
    return run
