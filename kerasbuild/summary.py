"""The nolearn-style layer table (name, type, inputs, output shape, params) for a loaded spec."""

from __future__ import annotations

from typing import Any

from .precision import layer_policies
from .spec.auto import AUTO
from .spec.loader import LoadedSpec


def summary_dict(loaded: LoadedSpec) -> dict[str, Any]:
    """``{"name", "precision", "total_params", "trainable_params", "layers": [{"name", "type",
    "inputs", "output_shape", "params", "dtype"}]}``; ``type`` as the spec spells it
    (``MaxPool2DLayer``), ``inputs`` the names of the layers feeding it, ``output_shape`` without
    the batch axis (NHWC), ``dtype`` the layer's dtype policy under ``train.precision`` (output
    layers: float32). A layer sized by the data (``auto``, or fed by such a layer) has
    ``output_shape`` and ``params`` ``"auto"``; the totals then count the other layers."""
    graph = loaded.graph
    precision = loaded.spec.train.precision
    dtypes = layer_policies(graph, precision)
    return {
        "name": loaded.name,
        "precision": precision,
        "total_params": graph.total_params,
        "trainable_params": graph.trainable_params,
        "layers": [
            {
                "name": n.name,
                "type": _spelled_type(loaded, n.index, n.entry.name),
                "inputs": list(n.inputs),
                "output_shape": list(n.shape) if n.known else AUTO,
                "params": n.param_count if n.known else AUTO,
                "dtype": dtypes[n.name],
            }
            for n in sorted(graph.nodes, key=lambda n: n.index)
        ],
    }


def _spelled_type(loaded: LoadedSpec, index: int, canonical: str) -> str:
    """The layer type as written in the (expanded) spec, else the registry's name."""
    layers = loaded.source.data.get("layers") if isinstance(loaded.source.data, dict) else None
    item = layers[index] if isinstance(layers, list) and 0 <= index < len(layers) else None
    spelled = item.get("type") if isinstance(item, dict) else None
    return spelled if isinstance(spelled, str) else canonical


def render_summary(loaded: LoadedSpec, console: Any) -> None:
    """Print the layer table with rich."""
    from rich.table import Table

    data = summary_dict(loaded)
    table = Table(title=f"{data['name']}", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("name", overflow="fold")
    table.add_column("type", overflow="fold")
    table.add_column("inputs", overflow="fold")
    table.add_column("output shape", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("dtype", no_wrap=True)
    for i, layer in enumerate(data["layers"]):
        known = layer["output_shape"] != AUTO
        shape = (
            "x".join("?" if d is None else str(d) for d in layer["output_shape"]) if known else AUTO
        )
        table.add_row(
            str(i),
            layer["name"],
            layer["type"],
            ", ".join(layer["inputs"]),
            shape,
            f"{layer['params']:,}" if known else AUTO,
            layer["dtype"],
        )
    if not console.is_terminal:  # piped or captured: the whole table, however wide
        from rich.console import Console
        from rich.measure import Measurement

        width = Measurement.get(console, console.options.update_width(10_000), table).maximum
        console = Console(file=console.file, width=max(width, console.width), soft_wrap=True)
    console.print(table)
    console.print(
        f"total params: {data['total_params']:,}  trainable: {data['trainable_params']:,}"
        + (
            f"  (+ the {AUTO} layers, sized by the data when training starts)"
            if loaded.graph.unknown
            else ""
        )
    )
