"""Commands on spec files (no TensorFlow but ``build``): validate, summary, fmt, schema, build,
from-nolearn."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import KerasbuildError
from ..spec.graph import DEFAULT_MAX_PARAMS
from .common import MAX_PARAMS_HINT, MaxParams, Overwrite, err, friendly_errors, out


def validate(
    specs: Annotated[list[Path], typer.Argument(help="Spec files (YAML or JSON).")],
    max_params: MaxParams = DEFAULT_MAX_PARAMS,
) -> None:
    """Check spec files: exit 0 when all are valid, 1 when any is not."""
    from ..spec.loader import load_spec

    failed = False
    for path in specs:
        try:
            with friendly_errors(MAX_PARAMS_HINT):
                loaded = load_spec(path, max_params=max_params)
                sized = (
                    f" + {len(loaded.graph.unknown)} sized by the data (auto)"
                    if loaded.graph.unknown
                    else ""
                )
                out.print(
                    f"{path}: ok ({len(loaded.graph.nodes)} layers, "
                    f"{loaded.graph.total_params:,} params{sized})",
                    highlight=False,
                )
        except typer.Exit:
            failed = True
    if failed:
        raise typer.Exit(1)


def summary(
    spec: Path,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    max_params: MaxParams = DEFAULT_MAX_PARAMS,
) -> None:
    """Print the layer table: name, type, output shape (NHWC, no batch axis), params."""
    from ..spec.loader import load_spec
    from ..summary import render_summary, summary_dict

    with friendly_errors(MAX_PARAMS_HINT):
        loaded = load_spec(spec, max_params=max_params)
        if as_json:
            print(json.dumps(summary_dict(loaded)))
        else:
            render_summary(loaded, out)


def fmt(spec: Path) -> None:
    """Print the spec in canonical form (a fixed point: fmt of the output is the output)."""
    from ..spec.format import canonical_yaml
    from ..spec.loader import load_spec

    with friendly_errors():
        sys.stdout.write(canonical_yaml(load_spec(spec)))


def schema(
    job: Annotated[
        bool, typer.Option("--job", help="The schema of search-job files instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of spec files, every form the loader accepts (for editors:
    docs/editors.md)."""
    from ..spec.editor_schema import job_schema, spec_schema

    print(json.dumps(job_schema() if job else spec_schema(), indent=1))


def build(
    spec: Path,
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="FILE", help="Where to write the .keras file.")
    ],
    max_params: MaxParams = DEFAULT_MAX_PARAMS,
    overwrite: Overwrite = False,
) -> None:
    """Build the Keras model and save it as a .keras file (untrained weights)."""
    from ..outputs import check_output_file
    from ..spec.loader import load_spec

    with friendly_errors(MAX_PARAMS_HINT):
        loaded = load_spec(spec, max_params=max_params)
        check_output_file(output, overwrite=overwrite, suffixes=(".keras",))
        from ..build import build_model

        model = build_model(loaded)
        output.parent.mkdir(parents=True, exist_ok=True)
        model.save(output)
        out.print(f"wrote {output} ({model.count_params():,} params)", highlight=False)


def from_nolearn(
    script: Path,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Spec file to write (several nets: <stem>_<net>.yaml); default <net>.yaml here.",
        ),
    ] = None,
    overwrite: Overwrite = False,
) -> None:
    """Convert a nolearn script's NeuralNet(...) calls to specs, reading it, never running it.
    Exit 0 when everything was translated, 1 when something was not (the rest is still written)."""
    from ..nolearn.output import convert_script

    with friendly_errors():
        result, paths = convert_script(script, output, overwrite=overwrite)
        for net, path in zip(result.nets, paths):
            size = "does not validate" if net.param_count is None else f"{net.param_count:,} params"
            out.print(
                f"wrote {path} ({net.name}: {len(net.document['layers'])} layers, {size})",
                highlight=False,
            )
        for line, message in result.problems:
            err.print(f"{script}:{line}: {message}", markup=False, highlight=False)
        for line, message in result.notes:
            err.print(f"{script}:{line}: note: {message}", markup=False, highlight=False)
        if not result.nets and not result.problems:
            raise KerasbuildError(f"no NeuralNet(...) call found in {script}")
        if result.problems:
            raise typer.Exit(1)
