"""Export for serving: versioned, verified SavedModel / ONNX / TFLite directories.

``export(run_dir_or_keras_file, "models/NAME")`` writes ``models/NAME/N/`` atomically (see
:mod:`.versions`) after checking the artifact against the Keras model (:mod:`.verify`);
``predict_exported("models/NAME/N", x)`` runs it. TensorFlow is imported only when used.
"""

from .exporter import FORMATS, ExportResult, export
from .predict import predict_exported, resolve_version_dir

__all__ = ["FORMATS", "ExportResult", "export", "predict_exported", "resolve_version_dir"]
