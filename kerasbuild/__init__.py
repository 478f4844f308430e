"""kerasbuild: Lasagne/nolearn-style model specs -> validated, trained, tuned, served Keras models.

Public API (TensorFlow is imported only by :func:`build_model`)::

    spec = kerasbuild.load_spec("specs/nielsen_dropout.yaml")
    model = kerasbuild.build_model(spec)
"""

from .errors import KerasbuildError, SpecError
from .spec.loader import LoadedSpec, load_spec, load_text

__version__ = "0.1.0"


def build_model(spec, **load_kwargs):
    """Build a ``keras.Model`` from a :class:`LoadedSpec`, a spec path or a mapping."""
    from .build import build_model as _build

    return _build(spec, **load_kwargs)


__all__ = ["KerasbuildError", "LoadedSpec", "SpecError", "build_model", "load_spec", "load_text"]
