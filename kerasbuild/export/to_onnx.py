"""ONNX format (``N/model.onnx`` + ``N/assets/``), converted with tf2onnx from the serving function
and run with onnxruntime. Needs the ``export`` extra: ``pip install 'kerasbuild[export]'``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KerasbuildError
from .assets import place

MARKER = "model.onnx"
OPSET = 17
_ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(float16)": np.float16,
}


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise KerasbuildError(
            f"--format onnx needs {module}: pip install 'kerasbuild[export]'"
        ) from None


def write(module: Any, directory: Path, assets: list[Path]) -> None:
    """Convert ``module.serve`` to ONNX (opset 17): inputs and outputs keep their names, the
    batch axis stays dynamic. ``assets`` go to ``directory/assets/``."""
    tf2onnx = _need("tf2onnx")
    spec = module.serve.input_signature
    try:
        tf2onnx.convert.from_function(
            module.serve, input_signature=spec, opset=OPSET, output_path=str(directory / MARKER)
        )
    except Exception as exc:  # tf2onnx raises plain exceptions for unsupported ops
        raise KerasbuildError(f"ONNX conversion failed: {exc}") from None
    place(assets, directory)


def runner(directory: Path):
    """An onnxruntime session; return ``run(inputs by name) -> outputs by name`` (NumPy)."""
    ort = _need("onnxruntime")
    session = ort.InferenceSession(str(directory / MARKER), providers=["CPUExecutionProvider"])
    types = {i.name: _ORT_TYPES.get(i.type, np.float32) for i in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]

    def run(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {name: np.asarray(inputs[name]).astype(dtype) for name, dtype in types.items()}
        return dict(zip(names, session.run(names, feed)))

    return run
