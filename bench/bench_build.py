"""Benchmark 3: build time of specs/resnet50.yaml vs keras.applications.ResNet50(weights=None).

Both are built alternately in one process (after one warm-up each); the spec side includes
loading and validating the YAML. Target ratio <= 1.2.
"""

from __future__ import annotations

from pathlib import Path

from common import alternate, machine, parse_args, report, timed

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    args = parse_args(__doc__)
    import keras

    import kerasbuild

    spec = ROOT / "specs" / ("small_resnet32.yaml" if args.quick else "resnet50.yaml")

    def ours() -> float:
        keras.backend.clear_session()
        return timed(lambda: kerasbuild.build_model(spec))

    def baseline() -> float:
        keras.backend.clear_session()
        if args.quick:
            return timed(lambda: keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3)))
        return timed(lambda: keras.applications.ResNet50(weights=None))

    ours()
    baseline()
    print(f"# build time ({machine()})")
    xs, ys = alternate(ours, baseline, 2 if args.quick else 5)
    report(
        f"build {spec.stem} vs keras.applications.ResNet50",
        xs,
        ys,
        "s",
        False,
        "<= 1.2",
        args.json_out,
    )


if __name__ == "__main__":
    main()
