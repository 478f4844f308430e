"""What a training run does for transfer learning, in one object the runner calls at three
points: load ``init:`` weights into a fresh model, build the optimiser over the variables
that will ever train, and add the :class:`~.unfreeze.Unfreeze` callback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..spec.freeze import frozen_layers, unfrozen_layers
from .init_weights import load_initial_weights
from .paths import init_path
from .unfreeze import Unfreeze, layers_of, variables_to_build


class TransferPlan:
    """``loaded``'s ``init:`` and ``train.unfreeze_at`` for ``model`` (built by
    :func:`kerasbuild.build.build_model`, frozen layers already frozen)."""

    def __init__(self, loaded: Any, model: Any, note: Callable[[str], None]) -> None:
        self.loaded = loaded
        self.model = model
        self.note = note
        spec, graph = loaded.spec, loaded.graph
        thawed = unfrozen_layers(
            spec, graph, loaded.source, frozen_layers(spec, graph, loaded.source)
        )
        self.thawed = layers_of(model, thawed, {node.name for node in graph.nodes})

    def load_init(self) -> str | None:
        """Load ``init.weights`` (a fresh run, not a resumed one); the report line, or None."""
        path = init_path(self.loaded)
        if path is None:
            return None
        report = load_initial_weights(self.model, path, strict=self.loaded.spec.init.strict)
        self.note(f"init: {report}")
        return report

    def optimizer_variables(self) -> list[Any]:
        """What to build the optimiser over: the trainable variables once thawed."""
        return variables_to_build(self.model, self.thawed)

    def callbacks(self) -> list[Any]:
        unfreeze = self.loaded.spec.train.unfreeze_at
        return [Unfreeze(unfreeze, self.thawed, self.note)] if unfreeze is not None else []
