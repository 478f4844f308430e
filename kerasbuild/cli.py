"""The ``kerasbuild`` command line. Each command only parses its options and calls a plain
function; TensorFlow is imported inside the commands that need it, so ``--help``,
``validate``, ``summary``, ``fmt`` and ``schema`` stay fast."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import KerasbuildError, SpecError

EXIT_CODES = ("Exit codes: 0 success; 1 invalid spec, input or output (a located message); 2 run "
              "directory or usage problem; 3 training diverged (loss NaN); 130 interrupted (Ctrl-C).")
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Turn Lasagne/nolearn-style model specs into trained, tuned and served Keras models.",
                  epilog=EXIT_CODES)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

MaxParams = Annotated[int, typer.Option("--max-params", metavar="N",
                                        help="Refuse specs with more parameters than this.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", metavar="", help="Replace an existing output.")]


def _version(value: bool) -> None:
    if value:
        from . import __version__

        out.print(f"kerasbuild {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(version: Annotated[bool, typer.Option("--version", metavar="", callback=_version, is_eager=True,
                                                       help="Print the version and exit.")] = False) -> None:
    """Turn Lasagne/nolearn-style model specs into trained, tuned and served Keras models."""


@contextmanager
def friendly_errors():
    """Print located problems (exit 1) or operational errors (their exit code), no traceback."""
    try:
        yield
    except SpecError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(1) from None
    except KerasbuildError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        err.print(f"error: {name}{exc.strerror or exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None


@app.command()
def validate(specs: Annotated[list[Path], typer.Argument(help="Spec files (YAML or JSON).")],
             max_params: MaxParams = 2_000_000_000) -> None:
    """Check spec files: exit 0 when all are valid, 1 when any is not."""
    from .spec.loader import load_spec

    failed = False
    for path in specs:
        try:
            with friendly_errors():
                loaded = load_spec(path, max_params=max_params)
                out.print(f"{path}: ok ({len(loaded.graph.nodes)} layers, "
                          f"{loaded.graph.total_params:,} params)", highlight=False)
        except typer.Exit:
            failed = True
    if failed:
        raise typer.Exit(1)


@app.command()
def summary(spec: Path, as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
            max_params: MaxParams = 2_000_000_000) -> None:
    """Print the layer table: name, type, output shape (NHWC, no batch axis), params."""
    from .spec.loader import load_spec
    from .summary import render_summary, summary_dict

    with friendly_errors():
        loaded = load_spec(spec, max_params=max_params)
        if as_json:
            print(json.dumps(summary_dict(loaded)))
        else:
            render_summary(loaded, out)


@app.command()
def fmt(spec: Path) -> None:
    """Print the spec in canonical form (a fixed point: fmt of the output is the output)."""
    from .spec.format import canonical_yaml
    from .spec.loader import load_spec

    with friendly_errors():
        sys.stdout.write(canonical_yaml(load_spec(spec)))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (for editor completion)."""
    from .spec.model import document_model

    print(json.dumps(document_model().model_json_schema(), indent=2))


@app.command()
def build(spec: Path, output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE",
                                                          help="Where to write the .keras file.")],
          max_params: MaxParams = 2_000_000_000, overwrite: Overwrite = False) -> None:
    """Build the Keras model and save it as a .keras file (untrained weights)."""
    from .outputs import check_output_file
    from .spec.loader import load_spec

    with friendly_errors():
        loaded = load_spec(spec, max_params=max_params)
        check_output_file(output, overwrite=overwrite, suffixes=(".keras",))
        from .compile import build_model

        model = build_model(loaded)
        output.parent.mkdir(parents=True, exist_ok=True)
        model.save(output)
        out.print(f"wrote {output} ({model.count_params():,} params)", highlight=False)


@app.command("from-nolearn")
def from_nolearn(script: Path,
                 output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE", help="Spec file to "
                                   "write (several nets: <stem>_<net>.yaml); default <net>.yaml here.")] = None,
                 overwrite: Overwrite = False) -> None:
    """Convert a nolearn script's NeuralNet(...) calls to specs, reading it, never running it.
    Exit 0 when everything was translated, 1 when something was not (the rest is still written)."""
    from .nolearn.output import convert_script

    with friendly_errors():
        result, paths = convert_script(script, output, overwrite=overwrite)
        for net, path in zip(result.nets, paths):
            size = "does not validate" if net.param_count is None else f"{net.param_count:,} params"
            out.print(f"wrote {path} ({net.name}: {len(net.document['layers'])} layers, {size})", highlight=False)
        for line, message in result.problems:
            err.print(f"{script}:{line}: {message}", markup=False, highlight=False)
        for line, message in result.notes:
            err.print(f"{script}:{line}: note: {message}", markup=False, highlight=False)
        if not result.nets and not result.problems:
            raise KerasbuildError(f"no NeuralNet(...) call found in {script}")
        if result.problems:
            raise typer.Exit(1)


@app.command()
def train(spec: Annotated[Path | None, typer.Argument(help="The spec file (optional with --resume: the run "
                                                    "directory's spec.yaml).")] = None,
          sets: Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help="Override a spec "
                                                        "value (dotted path, YAML value), e.g. train.max_epochs=5.")] = None,
          run_dir: Annotated[Path | None, typer.Option("--run-dir", metavar="DIR",
                                                       help="Run directory (default runs/<name>).")] = None,
          resume: Annotated[bool, typer.Option("--resume", metavar="", help="Continue a killed run from its last "
                                               "epoch (with --run-dir, no spec needed).")] = False,
          overwrite: Annotated[bool, typer.Option("--overwrite", metavar="", help="Replace an existing run "
                                                  "directory.")] = False,
          ) -> None:
    """Train SPEC on its data: section and write a run directory (exit 3 when the loss diverges)."""
    import shlex

    from .data.paths import check_data
    from .spec.loader import load_spec
    from .train.overrides import parse_sets
    from .train.rundir import SPEC, check_run_dir, resolved_yaml

    with friendly_errors():
        overrides = parse_sets(sets)
        if spec is None:
            if not (resume and run_dir):
                raise KerasbuildError("give a SPEC file (or --resume --run-dir DIR to continue a run)", exit_code=2)
            spec = run_dir / SPEC
        loaded = load_spec(spec, overrides=overrides)
        directory = run_dir or Path("runs") / loaded.name
        check_run_dir(directory, resolved_yaml(loaded), resume=resume, overwrite=overwrite)
        check_data(loaded)
        from .train.report import describe_result
        from .train.runner import train as run_training

        try:
            result = run_training(loaded, directory, resume=resume, overwrite=overwrite, console=err)
        except KeyboardInterrupt:
            err.print(f"interrupted; continue with: kerasbuild train --resume --run-dir {shlex.quote(str(directory))}",
                      highlight=False)
            raise typer.Exit(130) from None
        out.print(describe_result(result), highlight=False)


@app.command()
def evaluate(run: Path, data: Annotated[str | None, typer.Option("--data", metavar="SOURCE", help="Evaluate on "
                                                                "every example of this source (its labels "
                                                                "matched to the run's classes by name) instead "
                                                                "of the run's test split.")] = None,
             x_key: Annotated[str | None, typer.Option("--x-key", metavar="NAME", help="--data .npz: the inputs' "
                                                       "array (default: the spec's data.x_key).")] = None,
             y_key: Annotated[str | None, typer.Option("--y-key", metavar="NAME", help="--data .npz: the labels' "
                                                       "array (default: the spec's data.y_key).")] = None,
             ) -> None:
    """Evaluate a run's model_best.keras (default: on the run's own test split)."""
    with friendly_errors():
        from .train.evaluate import evaluate_run

        scores = evaluate_run(run, data, x_key=x_key, y_key=y_key)
        out.print(" ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items()),
                  highlight=False)


@app.command()
def predict(model: Annotated[Path, typer.Argument(help="A run directory, or an exported version "
                                                    "directory (models/NAME/N, or models/NAME for the latest).")],
            inputs: Annotated[list[Path], typer.Argument(help="Image files, folders of images, or .npz files "
                                                         "with raw inputs (NHWC) under --x-key.")],
            output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE", help="Output .npz (y, labels, "
                                                 "files) or .csv (file,class,p_<class>... or file,<target>...).")],
            x_key: Annotated[str, typer.Option("--x-key", metavar="NAME", help="The inputs' array in "
                                               ".npz files.")] = "x",
            overwrite: Overwrite = False) -> None:
    """Predict on raw inputs: probabilities and labels (classification) or targets (regression)."""
    from .outputs import check_output_file
    from .train.predict_inputs import check_inputs

    with friendly_errors():
        check_inputs(inputs)
        check_output_file(output, overwrite=overwrite, suffixes=(".npz", ".csv"))
        from .export import predict as _exported  # noqa: F401  (registers exported versions)
        from .train.predict import predict_file

        summary_ = predict_file(model, inputs, output, x_key=x_key)
        out.print(f"wrote {summary_['output']} ({summary_['n']} predictions, y shape {summary_['shape']})",
                  highlight=False)


@app.command()
def plot(run: Path, filters: Annotated[str | None, typer.Option("--filters", help="Also draw this convolution "
                                                                "layer's kernels (e.g. conv1).")] = None,
         ) -> None:
    """Draw loss.png (train/valid loss, log scale) and, with --filters, a kernel grid image."""
    with friendly_errors():
        from .train.report import plot_run

        for path in plot_run(run, filters):
            out.print(f"wrote {path}", highlight=False)


@app.command()
def ensemble(runs: Annotated[list[Path], typer.Argument(help="Run directories to average.")],
             output: Annotated[Path, typer.Option("-o", "--output", metavar="DIR",
                                                  help="Directory for the ensemble run.")],
             overwrite: Annotated[bool, typer.Option("--overwrite", metavar="",
                                                     help="Replace an existing directory.")] = False,
             ) -> None:
    """Average the members' outputs into one model, written as a run directory."""
    from .train.rundir import check_run_dir

    with friendly_errors():
        check_run_dir(output, "", resume=False, overwrite=overwrite)
        from .train.ensemble import ensemble_runs

        metrics = ensemble_runs(runs, output, overwrite=overwrite)
        out.print(f"wrote {output}/model_best.keras"
                  + (f"; test accuracy {metrics['test_accuracy']:.4f}" if "test_accuracy" in metrics else ""),
                  highlight=False)


@app.command()
def export(source: Annotated[Path, typer.Argument(help="A run directory or a .keras file.")],
           out_dir: Annotated[Path, typer.Option("--out", help="Model directory; the export becomes its next "
                                                          "integer version, e.g. models/NAME/3.")],
           fmt: Annotated[str, typer.Option("--format", help="savedmodel, onnx or tflite.")] = "savedmodel",
           no_preprocessing: Annotated[bool, typer.Option("--no-preprocessing", help="Do not bake the run's "
                                                          "preprocessing in (clients send model inputs).")] = False,
           ) -> None:
    """Export for serving: verified against the Keras model, published atomically as OUT/N."""
    with friendly_errors():
        from .export import export as run_export
        from .export.report import describe_export

        result = run_export(source, out_dir, fmt=fmt, preprocessing=not no_preprocessing)
        out.print(describe_export(result), highlight=False)


@app.command()
def tune(job: Annotated[Path, typer.Argument(help="A search-job file (see tuning/ and docs/tuning.md).")],
         chief: Annotated[bool, typer.Option("--chief", help="Hold the oracle and serve workers.")] = False,
         port: Annotated[int | None, typer.Option("--port", help="--chief: port to listen on.")] = None,
         host: Annotated[str, typer.Option("--host", help="--chief: address to listen on.")] = "0.0.0.0",
         worker: Annotated[str | None, typer.Option("--worker", help="Run as the worker with this unique id.")] = None,
         oracle: Annotated[str | None, typer.Option("--oracle", help="--worker: the chief's HOST:PORT.")] = None,
         workers: Annotated[int | None, typer.Option("--workers", help="Start a chief and N workers on "
                                                     "127.0.0.1 and wait for them.")] = None,
         dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate the job; print the search space.")] = False,
         verbose: Annotated[int, typer.Option("--verbose", help="Keras fit verbosity per trial (0, 1, 2).")] = 0,
         ) -> None:
    """Search hyper-parameters; running the same job again resumes it."""
    with friendly_errors():
        from .tuning.command import tune as run_tune

        run_tune(job, out, chief=chief, port=port, host=host, worker=worker, oracle=oracle, workers=workers,
                 dry_run=dry_run, verbose=verbose)


@app.command()
def data(spec: Path,
         output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE", help="Write a PNG grid of "
                                                     "augmented training samples.")] = None,
         samples: Annotated[int, typer.Option("--samples", min=1, help="Images in the grid.")] = 16,
         batches: Annotated[int, typer.Option("--batches", min=1, help="Training batches to time.")] = 20,
         overwrite: Overwrite = False) -> None:
    """Look at a spec's data: examples per split and class, shapes, the input pipeline's images/s."""
    from .outputs import check_output_file
    from .spec.loader import load_spec

    with friendly_errors():
        loaded = load_spec(spec)
        if loaded.spec.data is None:
            raise KerasbuildError(f"{spec}: the spec has no data: section")
        if output is not None:
            check_output_file(output, overwrite=overwrite, suffixes=(".png",))
        from .data.overview import overview, render, sample_grid
        from .data.splits import load_for_spec

        splits = load_for_spec(loaded)
        batch = loaded.spec.train.effective_batch_size
        out.print(render(overview(splits, loaded.spec.data.source, batch, batches)), highlight=False)
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            width, height = sample_grid(splits, batch, samples, output)
            out.print(f"wrote {output} ({min(samples, splits.size('train'))} augmented training samples, "
                      f"{width}x{height} pixels)", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
