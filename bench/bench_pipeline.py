"""Throughput of make_dataset on mnist_5k (a script, not a test).

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/bench_pipeline.py [--epochs 5]

Prints images per second of the training pipeline as ``fit`` consumes it (one pass over the
re-iterable dataset per epoch) with no augmentation and with each augmentation, timed after
one warm-up epoch (the map function traces, the thread pools start).
"""

from __future__ import annotations

import argparse
import time

from kerasbuild.data.pipeline import make_dataset
from kerasbuild.data.splits import load_arrays
from kerasbuild.schema.data import DataConfig
from kerasbuild.schema.train import TrainConfig

CASES = {
    "none": [],
    "shift(2)": [{"type": "shift", "max_pixels": 2}],
    "rotation(15)": [{"type": "rotation", "degrees": 15}],
    "zoom(0.1)": [{"type": "zoom", "factor": 0.1}],
    "elastic(34, 4)": [{"type": "elastic", "alpha": 34, "sigma": 4}],
    "gaussian_noise(0.1)": [{"type": "gaussian_noise", "sigma": 0.1}],
    "all five": [
        {"type": "shift", "max_pixels": 2},
        {"type": "rotation", "degrees": 15},
        {"type": "zoom", "factor": 0.1},
        {"type": "elastic", "alpha": 34, "sigma": 4},
        {"type": "gaussian_noise", "sigma": 0.1},
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    splits = load_arrays(
        DataConfig(source="builtin:mnist_5k", test_size=0, valid_size=0), TrainConfig()
    )
    x, y = splits.x_train, splits.y_train
    print(f"mnist_5k: {len(x)} images {x.shape[1:]}, batch {args.batch_size}, {args.epochs} epochs")
    for name, augment in CASES.items():
        config = DataConfig(source="builtin:mnist_5k", augment=augment)
        ds = make_dataset(
            x, y, batch_size=args.batch_size, training=True, augment=config.augment, seed=0
        )
        for _ in ds:  # warm-up epoch
            pass
        start = time.perf_counter()
        for _ in range(args.epochs):
            for _ in ds:
                pass
        rate = args.epochs * len(x) / (time.perf_counter() - start)
        print(f"{name:>20}: {rate:>10,.0f} images/s")


if __name__ == "__main__":
    main()
