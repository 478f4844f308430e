"""Commands on finished runs: evaluate, predict, ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import Overwrite, friendly_errors, note_run_state, out


def evaluate(
    run: Path,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            metavar="SOURCE",
            help="Evaluate on "
            "every example of this source (its labels "
            "matched to the run's classes by name) instead "
            "of the run's test split.",
        ),
    ] = None,
    x_key: Annotated[
        str | None,
        typer.Option(
            "--x-key",
            metavar="NAME",
            help="--data .npz: the inputs' array (default: the spec's data.x_key).",
        ),
    ] = None,
    y_key: Annotated[
        str | None,
        typer.Option(
            "--y-key",
            metavar="NAME",
            help="--data .npz: the labels' array (default: the spec's data.y_key).",
        ),
    ] = None,
) -> None:
    """Evaluate a run's model_best.keras (default: on the run's own test split)."""
    with friendly_errors():
        from ..runs.evaluate import evaluate_run

        note_run_state(run)
        scores = evaluate_run(run, data, x_key=x_key, y_key=y_key)
        out.print(
            " ".join(
                f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items()
            ),
            highlight=False,
        )


def predict(
    model: Annotated[
        Path,
        typer.Argument(
            help="A run directory, or an exported version "
            "directory (models/NAME/N, or models/NAME for the latest)."
        ),
    ],
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Image files, folders of images, or .npz files "
            "with raw inputs (NHWC) under --x-key."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Output .npz (y, labels, "
            "files) or .csv (file,class,p_<class>... or file,<target>...).",
        ),
    ],
    x_key: Annotated[
        str, typer.Option("--x-key", metavar="NAME", help="The inputs' array in .npz files.")
    ] = "x",
    overwrite: Overwrite = False,
) -> None:
    """Predict on raw inputs: probabilities and labels (classification) or targets (regression)."""
    from ..outputs import check_output_file
    from ..runs.predict_inputs import check_inputs

    with friendly_errors():
        check_inputs(inputs)
        check_output_file(output, overwrite=overwrite, suffixes=(".npz", ".csv"))
        from ..export import predict as _exported  # noqa: F401  (registers exported versions)
        from ..runs.predict import predict_file

        summary_ = predict_file(model, inputs, output, x_key=x_key)
        out.print(
            f"wrote {summary_['output']} ({summary_['n']} predictions, y shape "
            f"{summary_['shape']})",
            highlight=False,
        )


def ensemble(
    runs: Annotated[list[Path], typer.Argument(help="Run directories to average.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="DIR", help="Directory for the ensemble run.")
    ],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", metavar="", help="Replace an existing directory.")
    ] = False,
) -> None:
    """Average the members' outputs into one model, written as a run directory."""
    from ..runs.lock import refuse_if_held
    from ..runs.rundir import check_run_dir

    with friendly_errors():
        refuse_if_held(output)
        check_run_dir(output, "", resume=False, overwrite=overwrite)
        from ..runs.ensemble import ensemble_runs

        metrics = ensemble_runs(runs, output, overwrite=overwrite)
        out.print(
            f"wrote {output}/model_best.keras"
            + (
                f"; test accuracy {metrics['test_accuracy']:.4f}"
                if "test_accuracy" in metrics
                else ""
            ),
            highlight=False,
        )
