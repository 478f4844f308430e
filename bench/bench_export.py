"""Benchmark 5: serving latency of a kerasbuild export vs a SavedModel exported by hand.

Both come from the same Keras model (the Nielsen dropout spec, untrained weights: latency
does not depend on them): ``kerasbuild.export.exporter.export`` (named signature, outputs
``probabilities`` and ``classes``) and ``model.export()`` (Keras' default signature). Both are
loaded with ``tf.saved_model.load`` and their ``serving_default`` signatures are called
alternately at batch 1 and 64. Target ratio <= 1.05 (kerasbuild adds an argmax output).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import alternate, machine, parse_args, report, timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    args = parse_args(__doc__)
    import numpy as np
    import tensorflow as tf

    import kerasbuild
    from kerasbuild.export.exporter import export

    calls = 20 if args.quick else 300
    rounds = 2 if args.quick else 7
    print(
        f"# exported SavedModel latency, ms per call ({machine()}); {rounds} rounds x {calls} calls"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = kerasbuild.build_model(ROOT / "specs" / "nielsen_dropout.yaml")
        model.save(tmp / "model.keras")
        ours_dir = export(tmp / "model.keras", tmp / "ours").path
        model.export(str(tmp / "hand"), verbose=False)
        ours_fn = tf.saved_model.load(str(ours_dir)).signatures["serving_default"]
        hand_fn = tf.saved_model.load(str(tmp / "hand")).signatures["serving_default"]
        ours_input = next(iter(ours_fn.structured_input_signature[1]))
        hand_input = next(iter(hand_fn.structured_input_signature[1]))
        for batch in (1, 64):
            x = tf.constant(np.random.default_rng(0).random((batch, 28, 28, 1), dtype=np.float32))
            ours_fn(**{ours_input: x})
            hand_fn(**{hand_input: x})

            ours, base = alternate(
                _per_call(ours_fn, ours_input, x, calls),
                _per_call(hand_fn, hand_input, x, calls),
                rounds,
            )
            report(
                f"SavedModel latency at batch {batch}",
                ours,
                base,
                "ms",
                False,
                "<= 1.05",
                args.json_out,
            )


def _per_call(fn, name: str, x, calls: int):
    """A measurement: milliseconds per call of signature ``fn`` on input ``x``."""
    return lambda: 1000 * timed(lambda: [fn(**{name: x}) for _ in range(calls)]) / calls


if __name__ == "__main__":
    main()
