"""The base every file-format model derives from, and the pattern of a name."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
"""Layer, model and block names: a letter or ``_``, then letters, digits, ``_``, ``.`` or ``-``."""


class StrictModel(BaseModel):
    """Every spec model refuses unknown keys (``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())
