"""TFLite format (``N/model.tflite`` + ``N/assets/``): float32 (optionally float16 weights),
converted from a SavedModel of the serving module and run with the LiteRT interpreter
(``ai_edge_litert``; TensorFlow's deprecated ``tf.lite.Interpreter`` when it is missing)."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from .assets import place
from .signature import signatures

MARKER = "model.tflite"


def write(module: Any, directory: Path, assets: list[Path], *, quantize: str | None = None) -> None:
    """Convert the ``serving_default`` signature of ``module`` to a TFLite flatbuffer;
    ``assets`` go to ``directory/assets/``. ``quantize="float16"`` stores the weights as
    float16 (half the size); inputs, outputs and the CPU kernels stay float32."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="kerasbuild-tflite-") as staging:
        tf.saved_model.save(module, staging, signatures=signatures(module))
        converter = tf.lite.TFLiteConverter.from_saved_model(
            staging, signature_keys=["serving_default"]
        )
        if quantize == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        try:
            flatbuffer = converter.convert()
        except Exception as exc:  # the converter raises ConverterError and others
            raise KerasbuildError(f"TFLite conversion failed: {exc}") from None
    (directory / MARKER).write_bytes(flatbuffer)
    place(assets, directory)


def interpreter(path: Path) -> Any:
    """A LiteRT interpreter for ``path`` (``ai_edge_litert`` preferred)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Interpreter(model_path=str(path))


def runner(directory: Path):
    """Return ``run(inputs by name) -> outputs by name`` over the ``serving_default`` signature."""
    interp = interpreter(directory / MARKER)
    if "serving_default" not in interp.get_signature_list():
        raise KerasbuildError(f"{directory / MARKER}: no serving_default signature")
    signature = interp.get_signature_runner("serving_default")
    types = {name: detail["dtype"] for name, detail in signature.get_input_details().items()}

    def run(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return signature(
            **{name: np.asarray(inputs[name]).astype(dtype) for name, dtype in types.items()}
        )

    return run
