"""Which layers are frozen: ``trainable: false`` on a layer (or on a block use, which
:mod:`kerasbuild.spec.blocks` copies onto its layers) and ``train.freeze`` name patterns;
which of them ``train.unfreeze_at`` thaws. Pure Python (no TensorFlow).

A frozen layer's parameters all count as non-trainable, so ``summary`` and
``Graph.trainable_params`` give what Keras will report.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ..errors import Problem, SpecError, did_you_mean
from .graph import Graph
from .source import Source


def matching(patterns: list[str], names: list[str], source: Source, path: tuple) -> set[str]:
    """The ``names`` matched by any of ``patterns`` (exact names or glob patterns: ``*``,
    ``?``, ``[...]``). A pattern that matches nothing is a located problem at ``path + (i,)``."""
    found: set[str] = set()
    problems: list[Problem] = []
    for i, pattern in enumerate(patterns):
        hits = {name for name in names if fnmatchcase(name, pattern)}
        if not hits:
            problems.append(
                source.problem(
                    f"'{pattern}' matches no layer{did_you_mean(pattern, names)}; "
                    "give a layer name or a glob pattern such as 'conv*'",
                    (*path, i),
                )
            )
        found |= hits
    if problems:
        raise SpecError(problems)
    return found


def frozen_layers(spec: Any, graph: Graph, source: Source) -> set[str]:
    """Names of the layers training starts with frozen."""
    names = [node.name for node in graph.nodes]
    frozen = {node.name for node in graph.nodes if not node.params.trainable}
    return frozen | matching(spec.train.freeze, names, source, ("train", "freeze"))


def unfrozen_layers(spec: Any, graph: Graph, source: Source, frozen: set[str]) -> set[str]:
    """Names of the ``frozen`` layers that ``train.unfreeze_at`` makes trainable (empty
    without it)."""
    unfreeze = spec.train.unfreeze_at
    if unfreeze is None:
        return set()
    if unfreeze.layers is None:
        return frozen
    names = [node.name for node in graph.nodes]
    return frozen & matching(unfreeze.layers, names, source, ("train", "unfreeze_at", "layers"))


def mark_frozen(spec: Any, graph: Graph, source: Source) -> None:
    """Count every parameter of a frozen layer as non-trainable (checks the patterns)."""
    frozen = frozen_layers(spec, graph, source)
    unfrozen_layers(spec, graph, source, frozen)  # its patterns are checked at load time too
    for node in graph.nodes:
        if node.name in frozen:
            node.trainable_count = 0


def owner(keras_name: str, spec_names: set[str]) -> str | None:
    """The spec layer a Keras layer belongs to: its own name, or the longest spec name it
    extends with ``_<role>`` (helper layers such as ``conv1_act``)."""
    if keras_name in spec_names:
        return keras_name
    parts = keras_name.split("_")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = "_".join(parts[:cut])
        if prefix in spec_names:
            return prefix
    return None
