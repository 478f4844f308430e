"""One self-contained HTML page (``kerasbuild report``) about a run or a search: the spec
and its layer table, the metrics, every picture that applies (PNG embedded as data URIs),
the environment (versions, devices) and the timings. It loads nothing from the network and
runs no script."""

from __future__ import annotations

import base64
import html
import io
import json
import platform
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: .85em; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: .9em; }
img { max-width: 100%; border: 1px solid #eee; }
"""  # noqa: E501


def png_data_uri(figure: Any) -> str:
    """A matplotlib figure as a ``data:image/png;base64,...`` URI (the figure is closed)."""
    from ..runs.plots import save_figure

    buffer = io.BytesIO()
    save_figure(figure, buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure_html(uri: str, caption: str) -> str:
    return (
        f'<figure><img src="{uri}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:.6g}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value:,}</td>'
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def table_html(header: list[str], rows: Iterable[list[Any]]) -> str:
    """An HTML table; floats to 6 significant digits, integers with thousands separators."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pairs(mapping: dict[str, Any]) -> str:
    return table_html(
        ["", ""],
        [[k, v if not isinstance(v, dict | list) else json.dumps(v)] for k, v in mapping.items()],
    )


def environment() -> dict[str, Any]:
    """Versions of Python and the libraries, the platform and the devices TensorFlow sees."""
    from importlib.metadata import PackageNotFoundError, version

    import tensorflow as tf

    found = {"python": platform.python_version(), "platform": platform.platform()}
    for package in (
        "kerasbuild",
        "keras",
        "tensorflow",
        "tensorflow-cpu",
        "keras-tuner",
        "numpy",
        "matplotlib",
    ):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    found["devices"] = ", ".join(
        f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_physical_devices()
    )
    return found


def spec_section(spec_path: Path, title: str) -> str:
    """The spec text and its layer table (name, type, output shape, params)."""
    from ..runs.plots_graph import graph_png
    from ..spec.loader import load_spec
    from ..summary import summary_dict

    loaded = load_spec(spec_path)
    data = summary_dict(loaded)
    rows = [
        [
            i,
            layer["name"],
            layer["type"],
            "x".join("?" if d is None else str(d) for d in layer["output_shape"]),
            layer["params"],
        ]
        for i, layer in enumerate(data["layers"])
    ]
    graph = "data:image/png;base64," + base64.b64encode(graph_png(loaded)).decode("ascii")
    return (
        f"<h2>{html.escape(title)}</h2><pre>{html.escape(spec_path.read_text(encoding='utf-8'))}</pre>"
        f"<h3>Layers: {data['total_params']:,} parameters ({data['trainable_params']:,} "
        "trainable)</h3>"
        + table_html(["#", "name", "type", "output shape", "params"], rows)
        + "<details><summary>layer graph</summary>"
        + _figure_html(graph, "layer graph")
        + "</details>"
    )


def run_sections(run_dir: Path, image: int) -> list[str]:
    """Sections of a run's page."""
    from ..fit.files import read_json
    from ..runs.rundir import SPEC, read_run
    from .pictures import PictureOptions, run_pictures

    info = read_run(run_dir)
    metrics = read_json(run_dir / "metrics.json") if (run_dir / "metrics.json").is_file() else {}
    overview = {
        k: info.get(k)
        for k in (
            "name",
            "status",
            "task",
            "epochs_completed",
            "max_epochs",
            "best_epoch",
            "monitor",
            "seed",
            "examples",
        )
    }
    sections = [
        f"<h2>Run</h2>{_pairs(overview)}",
        "<h2>Metrics</h2>"
        + (_pairs(metrics) if metrics else "<p>no metrics.json (the run did not finish)</p>"),
    ]
    options = PictureOptions(
        errors=bool(info.get("examples", {}).get("test")),
        image=image if info.get("examples", {}).get("test") else None,
    )
    sections.append(
        "<h2>Pictures</h2>"
        + "".join(
            _figure_html(png_data_uri(fig), caption)
            for _, caption, fig in run_pictures(run_dir, options)
        )
    )
    sections.append(spec_section(run_dir / SPEC, "Spec (as trained)"))
    timings = {k: info.get(k) for k in ("started_at", "finished_at", "duration_s", "replicas")}
    history = run_dir / "history.json"
    rows = read_json(history) if history.is_file() else []
    sections.append(
        "<h2>Timings</h2>"
        + _pairs(timings)
        + table_html(["epoch", "seconds"], [[r["epoch"], r.get("duration")] for r in rows])
    )
    if info.get("versions"):
        sections.append("<h2>Versions the run was trained with</h2>" + _pairs(info["versions"]))
    return sections


def search_sections(project: Path) -> list[str]:
    """Sections of a search's page."""
    from ..tuning.plots import read_results
    from .pictures import search_pictures

    results = read_results(project)
    names = list(results["trials"][0]["values"])
    rows = [
        [
            rank,
            t["trial_id"],
            t["status"],
            t["score"],
            t.get("seconds"),
            *(t["values"].get(n) for n in names),
        ]
        for rank, t in enumerate(results["trials"], 1)
    ]
    overview = {
        k: results.get(k)
        for k in ("job", "spec", "tuner", "objective", "direction", "counts", "stopped_reason")
    }
    sections = [
        f"<h2>Search</h2>{_pairs(overview)}",
        "<h2>Trials</h2>"
        + table_html(["#", "trial", "status", results["objective"], "seconds", *names], rows),
        "<h2>Pictures</h2>"
        + "".join(
            _figure_html(png_data_uri(fig), caption) for _, caption, fig in search_pictures(project)
        ),
    ]
    best = project / "best_spec.yaml"
    if best.is_file():
        sections.append(spec_section(best, "Best spec"))
    seconds = [t["seconds"] for t in results["trials"] if t.get("seconds")]
    sections.append(
        "<h2>Timings</h2>"
        + _pairs({"trials": len(results["trials"]), "total trial seconds": round(sum(seconds), 3)})
    )
    return sections


def report_html(path: Path, image: int = 0) -> str:
    """The whole page for a run directory or a search directory."""
    from ..tuning.plots import is_search_dir

    path = Path(path)
    kind, sections = (
        ("search", search_sections(path))
        if is_search_dir(path)
        else ("run", run_sections(path, image))
    )
    env = "<h2>Environment (this report)</h2>" + _pairs(environment())
    made = datetime.now(UTC).isoformat(timespec="seconds")
    title = html.escape(f"kerasbuild {kind} report: {path.resolve().name}")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="icon" href="data:,"><style>{STYLE}</style></head><body><h1>{title}</h1>'
        f"<p>{html.escape(str(path.resolve()))}; made {made}</p>"
        + "".join(sections)
        + env
        + "</body></html>"
    )


def write_report(path: Path, output: Path, *, image: int = 0, overwrite: bool = False) -> Path:
    """Write :func:`report_html` to ``output`` atomically; refuses an existing file unless
    ``overwrite``."""
    from ..fit.files import atomic_write_text

    output = Path(output)
    if output.exists() and not overwrite:
        raise KerasbuildError(
            f"{output} already exists; pass --overwrite to replace it", exit_code=2
        )
    if not Path(path).is_dir():
        raise KerasbuildError(f"{path} is not a run or search directory")
    atomic_write_text(output, report_html(path, image))
    return output
