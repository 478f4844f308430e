"""Files that travel with an export in ``N/assets/``: the resolved spec (``spec.yaml``), the
class names (``labels.txt``, one per line in class-index order, TensorFlow Serving's
convention) and ``export.json`` (format, task, inputs with their shapes without the batch
axis and dtypes, output names, the baked-in ``preprocessing`` and, after ``--no-preprocessing``, the
``client_preprocessing`` clients must apply themselves; keys as in ``run.json``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .preprocess import Preprocessing
from .signature import output_names, raw_input_shape
from .source import ExportSource

ASSETS_DIR = "assets"
SPEC_FILE = "spec.yaml"
LABELS_FILE = "labels.txt"
METADATA_FILE = "export.json"


def metadata(source: ExportSource, fmt: str, preprocessing: Preprocessing) -> dict[str, Any]:
    """The ``export.json`` record: enough for a client to build a request."""
    from .. import __version__

    return {
        "format": fmt,
        "task": source.task,
        "signature": "serving_default",
        "inputs": [
            {"name": name, "shape": list(raw_input_shape(t, preprocessing)), "dtype": str(t.dtype)}
            for t, name in zip(source.model.inputs, source.input_names)
        ],
        "outputs": output_names(source),
        "preprocessing": preprocessing.as_dict() if not preprocessing.is_identity else None,
        "client_preprocessing": source.preprocessing.as_dict()
        if preprocessing != source.preprocessing
        else None,
        "class_names": source.class_names,
        **({"targets": source.targets} if source.targets else {}),
        "source": str(source.origin),
        "kerasbuild_version": __version__,
    }


def write_assets(
    source: ExportSource, fmt: str, preprocessing: Preprocessing, directory: Path
) -> list[Path]:
    """Write the asset files into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if source.spec_text is not None:
        written.append(directory / SPEC_FILE)
        written[-1].write_text(source.spec_text)
    if source.class_names:
        written.append(directory / LABELS_FILE)
        written[-1].write_text("".join(f"{name}\n" for name in source.class_names))
    written.append(directory / METADATA_FILE)
    written[-1].write_text(json.dumps(metadata(source, fmt, preprocessing), indent=2) + "\n")
    return written


def place(assets: list[Path], version_dir: Path) -> None:
    """Copy ``assets`` into ``version_dir/assets/`` (formats that are a single file)."""
    target = version_dir / ASSETS_DIR
    target.mkdir(exist_ok=True)
    for path in assets:
        shutil.copyfile(path, target / path.name)


def read_metadata(version_dir: Path) -> dict[str, Any]:
    """``export.json`` of an exported version (empty when missing)."""
    path = version_dir / ASSETS_DIR / METADATA_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def read_labels(version_dir: Path) -> list[str]:
    """The class names of an exported version (empty when it has none)."""
    path = version_dir / ASSETS_DIR / LABELS_FILE
    return path.read_text().splitlines() if path.is_file() else []
