"""Per-layer weight penalties and constraints shared by layers with a weight matrix ``W``."""

from __future__ import annotations

from pydantic import Field

from ..schema.base import StrictModel


class WeightPenalties(StrictModel):
    """Mixin: ``l1``/``l2`` penalties on ``W`` (sum of |w| / w^2, no 1/2 factor, as Lasagne's
    ``regularize_layer_params``) and a ``max_norm`` constraint on each unit's incoming weights."""

    l1: float = Field(0.0, ge=0, description="L1 penalty coefficient on W (added to the loss).")
    l2: float = Field(0.0, ge=0, description="L2 penalty coefficient on W: l2 * sum(W**2).")
    max_norm: float | None = Field(
        None, gt=0, description="Max L2 norm of each unit's incoming weight vector."
    )
