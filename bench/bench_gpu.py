"""Benchmark 6: the GPU speed path (runs only when TensorFlow sees a GPU; CI has none).

ResNet-50 from specs/resnet50.yaml vs ``keras.applications.ResNet50(weights=None)`` on
synthetic 224x224x3 batches, both compiled with XLA (``jit_compile=True``), images/s
alternating in one process:

1. float32 (the baseline), 2. mixed_float16 (the spec model's output layer in float32, as
kerasbuild builds it), 3. the speed-up of mixed_float16 + XLA over float32 + XLA for the
spec model, 4. the trained mixed-precision spec model exported to a SavedModel, verified
against the Keras model (``kerasbuild.export``), with the tolerance it used.

Without a GPU it prints one "skipped" line and exits 0.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import alternate, machine, parse_args, report, timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PRECISIONS = ("float32", "mixed_float16")


def main() -> None:
    args = parse_args(__doc__)
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print(f"# GPU profile skipped: no GPU visible to TensorFlow ({machine()})")
        return
    import keras
    import numpy as np

    import kerasbuild

    batch, steps, rounds = (16, 3, 1) if args.quick else (128, 30, 3)
    rng = np.random.default_rng(0)
    x = rng.random((batch * steps, 224, 224, 3), dtype=np.float32)
    y = rng.integers(0, 1000, batch * steps)
    data = (
        tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).cache().prefetch(tf.data.AUTOTUNE)
    )
    print(f"# GPU training throughput, ResNet-50, XLA, batch {batch} ({machine()}, {gpus[0].name})")

    spec_speed: dict[str, float] = {}
    spec_model = None
    for precision in PRECISIONS:
        keras.config.set_dtype_policy(precision)
        spec_model, ours = _measure(
            keras,
            lambda: kerasbuild.build_model(ROOT / "specs" / "resnet50.yaml"),
            data,
            batch * steps,
        )
        _, base = _measure(
            keras, lambda: keras.applications.ResNet50(weights=None), data, batch * steps
        )
        xs, ys = alternate(ours, base, rounds)
        report(
            f"GPU resnet50 {precision} + XLA: spec vs keras.applications",
            xs,
            ys,
            "img/s",
            True,
            ">= 0.98",
            args.json_out,
        )
        spec_speed[precision] = statistics.median(xs)
    print(
        f"GPU resnet50 spec: mixed_float16 + XLA speed-up over float32 + XLA: "
        f"{spec_speed['mixed_float16'] / spec_speed['float32']:.2f}x",
        flush=True,
    )
    _export(spec_model)
    keras.config.set_dtype_policy("float32")


def _measure(keras, make_model, data, images: int):
    """Build and compile (SGD, XLA) under the current dtype policy, warm up; return the model
    and a measurement of images/s over one epoch."""
    model = make_model()
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        jit_compile=True,
        loss="sparse_categorical_crossentropy",
    )
    model.fit(data, epochs=1, verbose=0)
    if not model.jit_compile:
        raise SystemExit(
            "XLA was not applied (Keras switched jit_compile off); the numbers would be wrong"
        )
    return model, lambda: images / timed(lambda: model.fit(data, epochs=1, verbose=0))


def _export(model) -> None:
    """Export the trained mixed-precision model to a verified SavedModel and say how close it
    was."""
    from kerasbuild.export import export
    from kerasbuild.export.report import describe_export

    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        path = Path(tmp) / "resnet50_mixed.keras"
        model.save(path)
        result = export(path, Path(tmp) / "models", fmt="savedmodel")
        print(f"GPU resnet50 mixed_float16 export: {describe_export(result)}", flush=True)


if __name__ == "__main__":
    main()
