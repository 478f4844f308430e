"""``kerasbuild train``: a spec (or a run directory to resume) -> a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import KerasbuildError
from .common import SET_HINT, err, friendly_errors, out


def train(
    spec: Annotated[
        Path | None,
        typer.Argument(
            help="The spec file (optional with --resume: the run directory's spec.yaml)."
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a spec value (dotted path, YAML value), e.g. train.max_epochs=5.",
        ),
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option("--run-dir", metavar="DIR", help="Run directory (default runs/<name>)."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            metavar="",
            help="Continue a killed run from its last epoch (with --run-dir, no spec needed).",
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", metavar="", help="Replace an existing run directory.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Start N local worker processes of a train.distribute: multi_worker run.",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            metavar="P",
            help="--workers: their ports are P, P+1... (default: free ports).",
        ),
    ] = None,
    init_weights: Annotated[
        Path | None,
        typer.Option(
            "--init-weights",
            metavar="PATH",
            help="Start from "
            "these weights (.weights.h5, .h5, .keras or a run directory), as init.weights "
            "in the spec.",
        ),
    ] = None,
) -> None:
    """Train SPEC on its data: section and write a run directory (exit 3 when the loss diverges)."""
    import shlex

    from ..data.paths import check_data
    from ..runs.lock import refuse_if_held
    from ..runs.rundir import SPEC, check_run_dir, resolved_yaml
    from ..spec.loader import load_spec
    from ..transfer.paths import check_init
    from .sets import parse_sets

    with friendly_errors(SET_HINT):
        overrides = parse_sets(sets)
        if init_weights is not None:
            overrides["init.weights"] = str(init_weights.resolve())
        if spec is None:
            if not (resume and run_dir):
                raise KerasbuildError(
                    "give a SPEC file (or --resume --run-dir DIR to continue a run)", exit_code=2
                )
            spec = run_dir / SPEC
        loaded = load_spec(spec, overrides=overrides)
        directory = run_dir or Path("runs") / loaded.name
        if workers is not None:
            from ..runs.launcher import launch

            if loaded.spec.train.distribute != "multi_worker":
                raise KerasbuildError(
                    "--workers needs train.distribute: multi_worker (add --set "
                    "train.distribute=multi_worker)",
                    exit_code=2,
                )
            args = [
                str(spec),
                *(f"--set={s}" for s in sets or ()),
                "--run-dir",
                str(directory),
                *(["--init-weights", str(init_weights)] if init_weights else []),
                *(["--resume"] if resume else []),
                *(["--overwrite"] if overwrite else []),
            ]
            raise typer.Exit(launch(args, workers, port))
        if (
            loaded.spec.train.distribute != "multi_worker" or _is_chief()
        ):  # other workers write elsewhere
            refuse_if_held(directory)
            check_run_dir(directory, resolved_yaml(loaded), resume=resume, overwrite=overwrite)
        check_data(loaded)
        if not resume:  # a resumed run starts from its checkpoint
            check_init(loaded)
        from ..fit.write_errors import WriteError
        from ..runs.report import describe_result
        from ..runs.runner import saved_advice
        from ..runs.runner import train as run_training

        try:
            result = run_training(
                loaded, directory, resume=resume, overwrite=overwrite, console=err
            )
        except WriteError as exc:
            if not exc.advice:  # not a failure of the run itself
                raise
            raise exc.with_advice(
                saved_advice(
                    directory,
                    resume="run again with --resume",
                    restart="start again with --overwrite",
                )
            ) from None
        except KeyboardInterrupt as exc:
            from ..fit.signals import exit_code

            err.print(
                "interrupted; continue with: kerasbuild train --resume --run-dir "
                f"{shlex.quote(str(directory))}",
                highlight=False,
            )
            raise typer.Exit(exit_code(exc)) from None
        out.print(describe_result(result), highlight=False)


def _is_chief() -> bool:
    from ..fit.cluster import this_task

    return this_task().is_chief
