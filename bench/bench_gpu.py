"""Benchmark 6: GPU profile (runs only when TensorFlow sees a GPU; CI has none).

ResNet-50 from specs/resnet50.yaml vs ``keras.applications.ResNet50(weights=None)`` on
synthetic 224x224x3 batches with mixed precision (mixed_float16) and XLA (jit_compile),
images/s alternating in one process; then the Nielsen dropout net the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import alternate, machine, parse_args, report, timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    args = parse_args(__doc__)
    import keras
    import numpy as np
    import tensorflow as tf

    import kerasbuild

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print(f"# GPU profile skipped: no GPU visible to TensorFlow ({machine()})")
        return
    keras.mixed_precision.set_global_policy("mixed_float16")
    batch, steps = (32, 5) if args.quick else (128, 30)
    cases = [
        ("resnet50", (224, 224, 3), 1000, lambda: kerasbuild.build_model(ROOT / "specs" / "resnet50.yaml"),
         lambda: keras.applications.ResNet50(weights=None)),
        ("nielsen_dropout", (28, 28, 1), 10, lambda: kerasbuild.build_model(ROOT / "specs" / "nielsen_dropout.yaml"),
         None),
    ]
    print(f"# GPU training throughput, mixed_float16 + XLA, batch {batch} ({machine()}, {gpus[0].name})")
    for name, shape, classes, ours_fn, base_fn in cases:
        rng = np.random.default_rng(0)
        x = rng.random((batch * steps, *shape), dtype=np.float32)
        y = rng.integers(0, classes, batch * steps)
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).cache().prefetch(tf.data.AUTOTUNE)

        ours = _measure(keras, ours_fn, data, batch * steps)
        if base_fn is None:
            print(f"{name}: {ours():.0f} img/s (no hand-written baseline in this case)")
            continue
        xs, ys = alternate(ours, _measure(keras, base_fn, data, batch * steps), 3)
        report(f"GPU {name}: spec vs keras.applications", xs, ys, "img/s", True, ">= 0.98", args.json_out)


def _measure(keras, make_model, data, images: int):
    """Compile (SGD, XLA), warm up, and return a measurement of images/s over one epoch."""
    model = make_model()
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), jit_compile=True,
                  loss="sparse_categorical_crossentropy")
    model.fit(data, epochs=1, verbose=0)
    return lambda: images / timed(lambda: model.fit(data, epochs=1, verbose=0))


if __name__ == "__main__":
    main()
