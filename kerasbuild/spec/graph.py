"""Wiring and shape inference over the layer graph, in pure Python (no TensorFlow).

Each layer reads ``incoming`` (default: the previous layer) or ``incomings`` (merges).
Dangling names, cycles, layers that reach no output and shape mismatches are reported as
located problems, several at once. Shapes exclude the batch axis (NHWC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem, SizeLimitError, SpecError, did_you_mean
from ..layers import ShapeError, lookup
from ..layers.registry import LayerEntry, Shape
from .source import Source

DEFAULT_MAX_PARAMS = 2_000_000_000
DEFAULT_MAX_ACTIVATIONS = 500_000_000
"""Per-example activation values (float32: 2 GB) above which a spec is refused."""


@dataclass
class Node:
    index: int
    name: str
    entry: LayerEntry
    params: Any
    inputs: list[str]
    shape: Shape = ()
    param_count: int = 0
    trainable_count: int = 0
    known: bool = True
    """False when the shape depends on an ``auto`` size (:mod:`.auto`): ``shape`` is ``()``
    and the counts are 0 until the data fills it in."""


@dataclass
class Graph:
    """The wired layers: ``nodes`` in spec order, ``order`` the same nodes with every layer
    after the layers it reads (what a builder walks), ``outputs`` the output layer names."""

    nodes: list[Node]
    outputs: list[str]
    by_name: dict[str, Node] = field(default_factory=dict)
    order: list[Node] = field(default_factory=list)

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.entry.name == "InputLayer"]

    @property
    def unknown(self) -> list[Node]:
        """Layers whose shape waits for an ``auto`` size."""
        return [n for n in self.nodes if not n.known]

    @property
    def total_params(self) -> int:
        return sum(n.param_count for n in self.nodes)

    @property
    def trainable_params(self) -> int:
        return sum(n.trainable_count for n in self.nodes)

    @property
    def activation_values(self) -> int:
        total = 0
        for n in self.nodes:
            if not n.known:
                continue
            size = 1
            for d in n.shape:
                size *= d or 1
            total += size
        return total


def analyse(
    spec: Any,
    source: Source,
    max_params: int = DEFAULT_MAX_PARAMS,
    max_activations: int = DEFAULT_MAX_ACTIVATIONS,
    unknown: set[str] | frozenset[str] = frozenset(),
) -> Graph:
    """Resolve wiring, infer every shape and parameter count, enforce the size limits.

    ``unknown``: layers whose size is ``auto``; they and every layer they feed get no shape
    (``Node.known`` false) and are not shape-checked."""
    problems: list[Problem] = []
    nodes: list[Node] = []
    by_name: dict[str, Node] = {}
    previous: str | None = None
    for i, layer in enumerate(spec.layers):
        entry = lookup(layer.type)
        path = ("layers", i)
        if layer.name in by_name:
            first, _ = source.locate(("layers", by_name[layer.name].index))
            where = f"line {first}" if first is not None else f"layer {by_name[layer.name].index}"
            problems.append(
                source.problem(
                    f"duplicate layer name '{layer.name}' (first used at {where}); "
                    "layer names must be unique",
                    path + ("name",),
                )
            )
        if entry.max_inputs == 0:
            inputs: list[str] = []
            if layer.incoming or layer.incomings:
                problems.append(source.problem("an input layer takes no incoming", path))
        elif layer.incomings is not None:
            if layer.incoming is not None:
                problems.append(
                    source.problem("give either 'incoming' or 'incomings', not both", path)
                )
            inputs = list(layer.incomings)
        elif layer.incoming is not None:
            inputs = [layer.incoming]
        elif previous is not None:
            inputs = [previous]
        else:
            problems.append(
                source.problem(
                    f"layer '{layer.name}' has no input: the first layer must be an InputLayer "
                    "(or give a top-level 'input: {shape: [...]}')",
                    path,
                )
            )
            inputs = []
        if entry.max_inputs != 0:
            if len(inputs) < entry.min_inputs or (
                entry.max_inputs is not None and len(inputs) > entry.max_inputs
            ):
                want = f"{entry.min_inputs}+" if entry.max_inputs is None else str(entry.max_inputs)
                field = "incomings" if entry.max_inputs != 1 else "incoming"
                problems.append(
                    source.problem(
                        f"{layer.type} takes {want} input(s) via '{field}', got {len(inputs)}", path
                    )
                )
        node = Node(i, layer.name, entry, layer, inputs)
        nodes.append(node)
        by_name.setdefault(layer.name, node)
        previous = layer.name
    names = list(by_name)
    for node in nodes:
        for j, ref in enumerate(node.inputs):
            if ref not in by_name:
                key = ("incomings", j) if node.params.incomings is not None else ("incoming",)
                problems.append(
                    source.problem(
                        f"unknown layer '{ref}'{did_you_mean(ref, names)}",
                        ("layers", node.index, *key),
                    )
                )
    outputs = list(spec.outputs) if spec.outputs else ([nodes[-1].name] if nodes else [])
    for j, ref in enumerate(outputs):
        if ref not in by_name:
            problems.append(
                source.problem(
                    f"unknown output layer '{ref}'{did_you_mean(ref, names)}", ("outputs", j)
                )
            )
    if problems:
        raise SpecError(problems)

    order = _topological_order(nodes, by_name, source)
    _check_reachable(nodes, by_name, outputs, source)
    failed: set[str] = set()
    for node in order:
        if any(r in failed for r in node.inputs):
            failed.add(node.name)
            continue
        if node.name in unknown or any(not by_name[r].known for r in node.inputs):
            node.known = False
            continue
        try:
            inferred = node.entry.infer(node.params, [by_name[r].shape for r in node.inputs])
        except ShapeError as exc:
            shapes = ", ".join(_shape_text(by_name[r].shape) for r in node.inputs)
            label = "input shapes" if len(node.inputs) > 1 else "input shape"
            problems.append(source.problem(f"{exc} ({label} {shapes})", ("layers", node.index)))
            failed.add(node.name)
            continue
        except OverflowError:
            problems.append(
                source.problem(
                    "sizes too large to compute (beyond floating point range); refused",
                    ("layers", node.index),
                )
            )
            failed.add(node.name)
            continue
        node.shape = tuple(inferred.shape)
        node.param_count = inferred.params
        node.trainable_count = inferred.trainable_params
    if problems:
        raise SpecError(problems)
    graph = Graph(nodes, outputs, by_name, order)
    if graph.total_params > max_params:
        raise SizeLimitError(
            source.error(
                f"the model would have {_count(graph.total_params)} parameters "
                f"({_gib(graph.total_params)} as float32), over the limit of "
                f"{max_params:,}; refused before allocating anything",
                (),
            ).problems
        )
    if graph.activation_values > max_activations:
        raise source.error(
            f"one example needs {_count(graph.activation_values)} activation values "
            f"({_gib(graph.activation_values)} as float32), over the limit of "
            f"{max_activations:,}; refused before allocating anything",
            (),
        )
    return graph


def _shape_text(shape: Shape) -> str:
    """``(None, 8)`` -> ``"[null, 8]"``, as the shape would be written in a spec."""
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


def _count(n: int) -> str:
    """``1234567`` -> ``"1,234,567"``; counts past 10^18 as a power of ten."""
    return f"{n:,}" if n < 10**18 else f"about 10^{len(str(n)) - 1}"


def _gib(values: int) -> str:
    """Size of ``values`` float32 numbers in GiB, for messages (exact integers never overflow)."""
    size = values * 4
    if size < 2**30:
        return f"{size / 2**20:,.1f} MiB"
    if size < 2**70:
        return f"{size / 2**30:,.1f} GiB"
    gib = size // 2**30
    return f"about 10^{len(str(gib)) - 1} GiB"


def _topological_order(nodes: list[Node], by_name: dict[str, Node], source: Source) -> list[Node]:
    state: dict[str, int] = {}
    order: list[Node] = []
    for start in nodes:
        if start.name in state:
            continue
        stack: list[tuple[Node, int]] = [(start, 0)]
        state[start.name] = 1
        while stack:
            node, j = stack.pop()
            if j < len(node.inputs):
                stack.append((node, j + 1))
                child = by_name[node.inputs[j]]
                if state.get(child.name) == 1:
                    cycle = [n.name for n, _ in stack] + [child.name]
                    cycle = cycle[cycle.index(child.name) :]
                    raise source.error(
                        "the layers form a cycle: " + " -> ".join(reversed(cycle)),
                        ("layers", node.index),
                    )
                if child.name not in state:
                    state[child.name] = 1
                    stack.append((child, 0))
            else:
                state[node.name] = 2
                order.append(node)
    return order


def _check_reachable(
    nodes: list[Node], by_name: dict[str, Node], outputs: list[str], source: Source
) -> None:
    seen: set[str] = set()
    todo = list(outputs)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(by_name[name].inputs)
    dead = [n for n in nodes if n.name not in seen]
    if dead:
        raise SpecError(
            [
                source.problem(
                    f"layer '{n.name}' does not lead to any output ({', '.join(outputs)}); remove "
                    "it, wire it in, "
                    "or list it under 'outputs'",
                    ("layers", n.index),
                )
                for n in dead
            ]
        )
