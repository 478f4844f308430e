"""The architecture as a picture (nolearn's ``draw_to_file``), from the spec's layer graph
(:mod:`kerasbuild.spec.graph`): no TensorFlow, so it works right after ``validate``.

Each layer is a box with its name, type, output shape and parameter count; the layers of a
``use:`` block (each copy of a repeated one) are drawn inside one cluster. Graphviz lays the
graph out when its ``dot`` program is installed; otherwise matplotlib draws the layers in
rows by depth from the input.
"""

from __future__ import annotations

import io
import shutil
from typing import Any

from .plots import pyplot, save_figure


def block_clusters(loaded: Any) -> dict[str, str]:
    """Layer name -> the block instance it was expanded from (``stem``, ``stage1_2``), for
    layers of top-level ``use:`` entries; other layers are absent."""
    prefixes = []
    for entry in loaded.document.get("layers", []):
        if isinstance(entry, dict) and "use" in entry:
            repeat = entry.get("repeat") or 1
            prefixes += (
                [entry["name"]]
                if repeat == 1
                else [f"{entry['name']}_{k}" for k in range(1, repeat + 1)]
            )
    clusters = {}
    for node in loaded.graph.nodes:
        owners = [p for p in prefixes if node.name.startswith(p + "_")]
        if owners:
            clusters[node.name] = max(owners, key=len)
    return clusters


def node_label(node: Any) -> str:
    """``name``, ``type``, ``shape`` and ``params`` on three lines."""
    shape = "x".join("?" if d is None else str(d) for d in node.shape)
    params = f"{node.param_count:,} params" if node.param_count else "no params"
    return f"{node.name}\n{node.entry.name}\n{shape} | {params}"


def graph_dot(loaded: Any) -> Any:
    """``graphviz.Digraph`` of the spec: one box per layer, one cluster per block instance."""
    import graphviz

    dot = graphviz.Digraph(
        loaded.name,
        graph_attr={
            "rankdir": "TB",
            "label": _title(loaded),
            "labelloc": "t",
            "fontname": "Helvetica",
            "dpi": "72",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "#eef3fb",
            "fontname": "Helvetica",
            "fontsize": "10",
        },
    )
    clusters = block_clusters(loaded)
    groups: dict[str | None, list[Any]] = {}
    for node in sorted(loaded.graph.nodes, key=lambda n: n.index):
        groups.setdefault(clusters.get(node.name), []).append(node)
    for cluster, nodes in groups.items():
        if cluster is None:
            for node in nodes:
                dot.node(node.name, node_label(node))
            continue
        with dot.subgraph(name=f"cluster_{cluster}") as sub:
            sub.attr(label=cluster, style="rounded,dashed", color="#5b7db1")
            for node in nodes:
                sub.node(node.name, node_label(node))
    for node in loaded.graph.nodes:
        for parent in node.inputs:
            dot.edge(parent, node.name)
    return dot


def has_graphviz() -> bool:
    """Whether the ``dot`` program and the ``graphviz`` package are both available."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def graph_png(loaded: Any, *, use_graphviz: bool | None = None) -> bytes:
    """The architecture as PNG bytes: graphviz when available (or ``use_graphviz``), else
    matplotlib (:func:`graph_figure`)."""
    if has_graphviz() if use_graphviz is None else use_graphviz:
        return graph_dot(loaded).pipe(format="png")
    buffer = io.BytesIO()
    save_figure(graph_figure(loaded), buffer)
    return buffer.getvalue()


def _title(loaded: Any) -> str:
    graph = loaded.graph
    return f"{loaded.name}: {len(graph.nodes)} layers, {graph.total_params:,} parameters"


def depths(loaded: Any) -> dict[str, int]:
    """Layer name -> longest path from an input (inputs are 0)."""
    by_name = loaded.graph.by_name
    depth: dict[str, int] = {}

    def of(name: str) -> int:
        stack = [name]
        while stack:
            top = stack[-1]
            pending = [p for p in by_name[top].inputs if p not in depth]
            if pending:
                stack.extend(pending)
                continue
            depth[top] = 1 + max((depth[p] for p in by_name[top].inputs), default=-1)
            stack.pop()
        return depth[name]

    for node in loaded.graph.nodes:
        of(node.name)
    return depth


def graph_figure(loaded: Any) -> Any:
    """Matplotlib drawing of the layer graph: one row per depth, boxes coloured by block."""
    depth = depths(loaded)
    rows: dict[int, list[Any]] = {}
    for node in sorted(loaded.graph.nodes, key=lambda n: n.index):
        rows.setdefault(depth[node.name], []).append(node)
    width = max(len(r) for r in rows.values())
    position = {
        node.name: (col - (len(row) - 1) / 2, -d)
        for d, row in rows.items()
        for col, node in enumerate(row)
    }
    clusters = block_clusters(loaded)
    palette = pyplot().get_cmap("Pastel1")
    colour_of = {c: palette(i % 9) for i, c in enumerate(dict.fromkeys(clusters.values()))}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 2.6 * width), max(3.0, 0.9 * len(rows))), dpi=72)
    for node in loaded.graph.nodes:
        x, y = position[node.name]
        for parent in node.inputs:
            px, py = position[parent]
            ax.annotate(
                "", (x, y + 0.25), (px, py - 0.25), arrowprops={"arrowstyle": "->", "color": "grey"}
            )
        ax.text(
            x,
            y,
            node_label(node).replace("\n", "  ", 1),
            ha="center",
            va="center",
            fontsize=7,
            bbox={
                "boxstyle": "round",
                "facecolor": colour_of.get(clusters.get(node.name), "#eef3fb"),
            },
        )
    for cluster, colour in colour_of.items():
        ax.plot([], [], "s", color=colour, label=f"block {cluster}")
    if colour_of:
        ax.legend(loc="upper right", fontsize=7)
    ax.set_xlim(-width / 2 - 0.5, width / 2 + 0.5)
    ax.set_ylim(-len(rows), 1)
    ax.set_title(_title(loaded), fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    return fig
