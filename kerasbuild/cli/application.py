"""The ``kerasbuild`` command line. Each command only parses its options and calls a plain
function; TensorFlow is imported inside the commands that need it, so ``--help``,
``validate``, ``summary``, ``fmt`` and ``schema`` stay fast."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import KerasbuildError, OverrideError, SizeLimitError, SpecError
from ..spec.graph import DEFAULT_MAX_PARAMS

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
        from .. import __version__

        out.print(f"kerasbuild {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(version: Annotated[bool, typer.Option("--version", metavar="", callback=_version, is_eager=True,
                                                       help="Print the version and exit.")] = False) -> None:
    """Turn Lasagne/nolearn-style model specs into trained, tuned and served Keras models."""


MAX_PARAMS_HINT = {SizeLimitError: "raise it with --max-params"}
SET_HINT = {OverrideError: "given with --set"}
"""What a command adds to a library error: which of its options the problem is about."""


@contextmanager
def friendly_errors(hints: dict[type[SpecError], str] | None = None):
    """Print located problems (exit 1, each followed by the matching ``hints`` entry) or
    operational errors (their exit code), no traceback."""
    try:
        yield
    except SpecError as exc:
        hint = next((f" ({text})" for kind, text in (hints or {}).items() if isinstance(exc, kind)), "")
        for problem in exc.problems:
            err.print(f"{problem}{hint}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except KerasbuildError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        err.print(f"error: {name}{exc.strerror or exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None


def _note_run_state(path: Path) -> None:
    """Say on stderr when a run directory is not finished (``crashed``, still ``running``, ...)."""
    from ..runs.lock import state_note
    from ..runs.rundir import RUN_JSON, read_run

    if (path / RUN_JSON).is_file():
        note = state_note(path, read_run(path))
        if note:
            err.print(note, markup=False, highlight=False)


@app.command()
def validate(specs: Annotated[list[Path], typer.Argument(help="Spec files (YAML or JSON).")],
             max_params: MaxParams = DEFAULT_MAX_PARAMS) -> None:
    """Check spec files: exit 0 when all are valid, 1 when any is not."""
    from ..spec.loader import load_spec

    failed = False
    for path in specs:
        try:
            with friendly_errors(MAX_PARAMS_HINT):
                loaded = load_spec(path, max_params=max_params)
                out.print(f"{path}: ok ({len(loaded.graph.nodes)} layers, "
                          f"{loaded.graph.total_params:,} params)", highlight=False)
        except typer.Exit:
            failed = True
    if failed:
        raise typer.Exit(1)


@app.command()
def summary(spec: Path, as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
            max_params: MaxParams = DEFAULT_MAX_PARAMS) -> None:
    """Print the layer table: name, type, output shape (NHWC, no batch axis), params."""
    from ..spec.loader import load_spec
    from ..summary import render_summary, summary_dict

    with friendly_errors(MAX_PARAMS_HINT):
        loaded = load_spec(spec, max_params=max_params)
        if as_json:
            print(json.dumps(summary_dict(loaded)))
        else:
            render_summary(loaded, out)


@app.command()
def fmt(spec: Path) -> None:
    """Print the spec in canonical form (a fixed point: fmt of the output is the output)."""
    from ..spec.format import canonical_yaml
    from ..spec.loader import load_spec

    with friendly_errors():
        sys.stdout.write(canonical_yaml(load_spec(spec)))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (for editor completion)."""
    from ..spec.model import document_model

    print(json.dumps(document_model().model_json_schema(), indent=2))


@app.command()
def build(spec: Path, output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE",
                                                          help="Where to write the .keras file.")],
          max_params: MaxParams = DEFAULT_MAX_PARAMS, overwrite: Overwrite = False) -> None:
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


@app.command("from-nolearn")
def from_nolearn(script: Path,
                 output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE", help="Spec file to "
                                   "write (several nets: <stem>_<net>.yaml); default <net>.yaml here.")] = None,
                 overwrite: Overwrite = False) -> None:
    """Convert a nolearn script's NeuralNet(...) calls to specs, reading it, never running it.
    Exit 0 when everything was translated, 1 when something was not (the rest is still written)."""
    from ..nolearn.output import convert_script

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

    from ..data.paths import check_data
    from ..runs.lock import refuse_if_held
    from ..runs.rundir import SPEC, check_run_dir, resolved_yaml
    from ..spec.loader import load_spec
    from .sets import parse_sets

    with friendly_errors(SET_HINT):
        overrides = parse_sets(sets)
        if spec is None:
            if not (resume and run_dir):
                raise KerasbuildError("give a SPEC file (or --resume --run-dir DIR to continue a run)", exit_code=2)
            spec = run_dir / SPEC
        loaded = load_spec(spec, overrides=overrides)
        directory = run_dir or Path("runs") / loaded.name
        refuse_if_held(directory)
        check_run_dir(directory, resolved_yaml(loaded), resume=resume, overwrite=overwrite)
        check_data(loaded)
        from ..runs.report import describe_result
        from ..runs.runner import train as run_training

        try:
            result = run_training(loaded, directory, resume=resume, overwrite=overwrite, console=err)
        except KeyboardInterrupt as exc:
            from ..fit.signals import exit_code

            err.print(f"interrupted; continue with: kerasbuild train --resume --run-dir {shlex.quote(str(directory))}",
                      highlight=False)
            raise typer.Exit(exit_code(exc)) from None
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
        from ..runs.evaluate import evaluate_run

        _note_run_state(run)
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
    from ..outputs import check_output_file
    from ..runs.predict_inputs import check_inputs

    with friendly_errors():
        check_inputs(inputs)
        check_output_file(output, overwrite=overwrite, suffixes=(".npz", ".csv"))
        from ..export import predict as _exported  # noqa: F401  (registers exported versions)
        from ..runs.predict import predict_file

        summary_ = predict_file(model, inputs, output, x_key=x_key)
        out.print(f"wrote {summary_['output']} ({summary_['n']} predictions, y shape {summary_['shape']})",
                  highlight=False)


@app.command()
def plot(paths: Annotated[list[Path], typer.Argument(help="A run directory; several runs (overlaid curves); a "
                                                     "search directory; or a spec with --graph.")],
         graph: Annotated[bool, typer.Option("--graph", help="Draw the spec's layer graph (no TensorFlow).")] = False,
         filters: Annotated[str | None, typer.Option("--filters", help="Also draw this convolution "
                                                     "layer's kernels (e.g. conv1).")] = None,
         errors: Annotated[bool, typer.Option("--errors", help="Also draw the confusion matrix and worst "
                                              "misclassified test images (keypoints or residuals for "
                                              "regression).")] = False,
         image: Annotated[int | None, typer.Option("--image", help="Also draw activations, occlusion and "
                                                   "saliency maps of this test image (index).")] = None,
         layer: Annotated[str | None, typer.Option("--layer", help="--image: the layer whose activations are "
                                                   "drawn (default: the first feature map).")] = None,
         output: Annotated[Path | None, typer.Option("-o", "--output", help="File (--graph, several runs) or "
                                                     "folder (one run, a search).")] = None,
         ) -> None:
    """Draw pictures of runs, searches and specs (see docs/plots.md)."""
    with friendly_errors():
        from ..report.plot_command import PictureOptions, plot_paths

        options = PictureOptions(errors=errors, image=image, layer=layer, filters=filters)
        for path in plot_paths(paths, options, graph=graph, output=output):
            out.print(f"wrote {path}", highlight=False)


@app.command()
def report(path: Annotated[Path, typer.Argument(help="A run directory or a search directory.")],
           output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")],
           image: Annotated[int, typer.Option("--image", help="Test image whose activations, occlusion and "
                                              "saliency maps are shown.")] = 0,
           overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing file.")] = False,
           ) -> None:
    """Write one self-contained HTML page: spec, metrics, every picture, environment, timings."""
    with friendly_errors():
        from ..report.html import write_report

        out.print(f"wrote {write_report(path, output, image=image, overwrite=overwrite)}", highlight=False)


@app.command()
def ensemble(runs: Annotated[list[Path], typer.Argument(help="Run directories to average.")],
             output: Annotated[Path, typer.Option("-o", "--output", metavar="DIR",
                                                  help="Directory for the ensemble run.")],
             overwrite: Annotated[bool, typer.Option("--overwrite", metavar="",
                                                     help="Replace an existing directory.")] = False,
             ) -> None:
    """Average the members' outputs into one model, written as a run directory."""
    from ..runs.lock import refuse_if_held
    from ..runs.rundir import check_run_dir

    with friendly_errors():
        refuse_if_held(output)
        check_run_dir(output, "", resume=False, overwrite=overwrite)
        from ..runs.ensemble import ensemble_runs

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
           quantize: Annotated[str | None, typer.Option("--quantize", help="tflite: float16 weights "
                                                        "(half the size; inputs and outputs stay float32).")] = None,
           ) -> None:
    """Export for serving: verified against the Keras model, published atomically as OUT/N."""
    with friendly_errors():
        from ..export import export as run_export
        from ..export.report import describe_export

        _note_run_state(source)
        result = run_export(source, out_dir, fmt=fmt, preprocessing=not no_preprocessing, quantize=quantize)
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
        from ..tuning.command import tune as run_tune

        run_tune(job, out, chief=chief, port=port, host=host, worker=worker, oracle=oracle, workers=workers,
                 dry_run=dry_run, verbose=verbose)


def main() -> None:
    """The console script: quiets TensorFlow's C++ start-up lines, then runs the command."""
    quiet_tensorflow()
    app()


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ INFO and WARNING lines (oneDNN, CPU features, absl) in every command
    that imports it, unless the user chose a level with ``TF_CPP_MIN_LOG_LEVEL``. Errors still
    print. Must run before TensorFlow is imported; the variable is read once, at import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

