"""Load a saved Keras model without running code from the file: the one way kerasbuild opens
``.keras`` files.

Use :func:`load_keras_model` wherever a model file is read (``--resume``, the best-weights
callback, export, evaluation) instead of calling ``keras.saving.load_model`` directly:

- only ``.keras`` archives are accepted; ``.h5``/``.hdf5`` files are refused, because Keras'
  legacy HDF5 loader rebuilds ``Lambda`` layers from marshalled Python bytecode without the
  safe-mode check, and anything else (SavedModel directories, pickles) is not a Keras model
  file we write;
- Keras' safe mode is always on: a ``Lambda`` layer holding Python code, or any other object
  whose config would need arbitrary code, is refused by Keras and reported as a
  :class:`~kerasbuild.errors.KerasbuildError` that names the file and says why;
- :mod:`kerasbuild.layers.keras_layers` is imported first, so kerasbuild's own custom layers
  (registered under the ``kerasbuild`` package) deserialise by name;
- a missing, truncated or non-zip file is a :class:`KerasbuildError` too, never a traceback.

TensorFlow/Keras are imported inside the function, so importing this module stays cheap.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from .errors import KerasbuildError


def load_keras_model(path: str | Path, *, compile: bool = True) -> Any:
    """Load the ``keras.Model`` saved at ``path`` (a ``.keras`` archive) in safe mode.

    ``compile``: restore the optimiser and loss as saved (Keras' default) or not.
    Raises :class:`KerasbuildError` (exit code 1) for refused formats, missing or corrupt
    files and models that safe mode rejects.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".hd5"):
        raise KerasbuildError(
            f"{path}: HDF5 model files (.h5) are refused: Keras' legacy HDF5 loader can run code "
            "stored in the file (Lambda layers) without safe mode. Re-save the model as .keras "
            "from a trusted environment (model.save('model.keras'))."
        )
    if suffix != ".keras":
        raise KerasbuildError(
            f"{path}: expected a .keras model file, got '{suffix or path.name}'; "
            "kerasbuild only loads Keras v3 archives, in safe mode"
        )
    if not path.is_file():
        raise KerasbuildError(f"{path}: model file not found")
    if not zipfile.is_zipfile(path):
        raise KerasbuildError(
            f"{path}: not a valid .keras archive (a .keras file is a zip archive); "
            "the file may be truncated or not a Keras model"
        )

    import keras

    from .layers import keras_layers  # noqa: F401  (registers kerasbuild's serialisable layers)

    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].split(". ")[0]
        if "safe_mode" in str(exc) or "arbitrary code" in str(exc):
            raise KerasbuildError(
                f"{path}: refused by Keras safe mode, the model holds code (e.g. a Lambda layer) "
                "that would run when loaded; kerasbuild never loads such models. Keras said: "
                f"{first}"
            ) from None
        raise KerasbuildError(f"{path}: cannot load the model: {first}") from None
    except (TypeError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise KerasbuildError(
            f"{path}: cannot load the model ({type(exc).__name__}: {str(exc).strip()[:300]})"
        ) from None
