"""Streaming image folders: peak memory and throughput of ``kerasbuild train`` against
``keras.utils.image_dataset_from_directory`` with the same net, batch and epochs.

Generates 128x128 JPEG folders (10 classes) of 2,000 and 8,000 images, then for each size
runs in a fresh child process (peak RSS = the child's ``ru_maxrss``, i.e. its VmHWM):

- ``kerasbuild train`` on the folder (``test_size: 0``, ``valid_size: 0.2``, 2 epochs);
- the Keras utility (``validation_split=0.2``) feeding the same Keras model built from the spec;

and prints peak RSS, training images/s (kerasbuild: the epochs' own durations in history.json,
Keras: ``model.fit``), and the input pipeline's own images/s (one epoch of
``StreamSplits.dataset`` with no model). ``--quick``: 200 and 400 images, 1 epoch.

    PYTHONPATH=. python bench/bench_data.py [--quick] [--dir /tmp/kb_bench_images]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = """
name: bench_folder
input: {{shape: [128, 128, 3], name: image}}
layers:
  - {{name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 3, stride: 2}}
  - {{name: pool1, type: MaxPool2DLayer, pool_size: 4}}
  - {{name: output, type: DenseLayer, num_units: 10, nonlinearity: softmax}}
data: {{source: "{folder}", test_size: 0, valid_size: 0.2, seed: 0}}
train: {{max_epochs: {epochs}, batch_size: 32, seed: 0, update: adam, update_learning_rate: 0.001, verbose: 0}}
"""  # noqa: E501

KERAS_CHILD = """
import json, sys, time
import keras
from kerasbuild.build import build_model
from kerasbuild.spec.loader import load_spec
folder, spec, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
kw = dict(image_size=(128, 128), batch_size=32, validation_split=0.2, seed=0, label_mode="int")
train = keras.utils.image_dataset_from_directory(folder, subset="training", **kw)
valid = keras.utils.image_dataset_from_directory(folder, subset="validation", **kw)
scale = keras.layers.Rescaling(1 / 255)
train = train.map(lambda x, y: (scale(x), y))
valid = valid.map(lambda x, y: (scale(x), y))
model = build_model(load_spec(spec))
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], steps_per_execution=32)
start = time.perf_counter()
model.fit(train, validation_data=valid, epochs=epochs, verbose=0)
print(json.dumps({"train_s": time.perf_counter() - start}))
"""  # noqa: E501

MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr[-3000:])
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"""


def make_folder(root: Path, count: int, classes: int = 10) -> Path:
    """``count`` 128x128 RGB JPEGs in ``classes`` class folders (reused when present)."""
    import numpy as np
    from PIL import Image

    folder = root / f"jpeg_{count}"
    if folder.is_dir() and sum(1 for _ in folder.rglob("*.jpg")) == count:
        return folder
    rng = np.random.default_rng(count)
    for i in range(count):
        label = i % classes
        (folder / f"c{label}").mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 80, (128, 128, 3), dtype=np.uint8)
        image[label * 12 : label * 12 + 12] += 150
        Image.fromarray(image).save(folder / f"c{label}" / f"{i:05d}.jpg", quality=85)
    return folder


def measured(command: list[str]) -> tuple[float, str]:
    """``(peak RSS in MB of the child, its stdout)``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, *command],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed:\n{done.stderr[-3000:]}")
    kb = int(done.stdout.rsplit("MAXRSS_KB", 1)[1])
    return kb / 1024, done.stdout.rsplit("MAXRSS_KB", 1)[0]


def pipeline_rate(spec: Path) -> float:
    """Images/s of one training epoch of the streamed pipeline alone (decode, batch, scale)."""
    from kerasbuild.data.splits import load_for_spec
    from kerasbuild.spec.loader import load_spec

    splits = load_for_spec(load_spec(spec))
    ds = splits.dataset("train", 32, training=True)  # one pass: one epoch
    start = time.perf_counter()
    count = sum(int(x.shape[0]) for x, _ in ds)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 and 400 images, 1 epoch")
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "kb_bench_images"))
    args = parser.parse_args()
    sizes, epochs = ((200, 400), 1) if args.quick else ((2000, 8000), 2)
    root = Path(args.dir)
    rows = {}
    for count in sizes:
        folder = make_folder(root, count)
        spec = root / f"spec_{count}.yaml"
        spec.write_text(SPEC.format(folder=folder, epochs=epochs))
        run = root / f"run_{count}"
        kb_rss, _ = measured(
            ["-m", "kerasbuild.cli", "train", str(spec), "--run-dir", str(run), "--overwrite"]
        )
        info = json.loads((run / "run.json").read_text())
        keras_rss, out = measured(["-c", KERAS_CHILD, str(folder), str(spec), str(epochs)])
        keras_s = json.loads(out.strip().splitlines()[-1])["train_s"]
        train_images = info["examples"]["train"] * epochs
        epochs_s = sum(row["duration"] for row in json.loads((run / "history.json").read_text()))
        rows[count] = {
            "kerasbuild_peak_mb": round(kb_rss),
            "keras_peak_mb": round(keras_rss),
            "kerasbuild_images_s": round(train_images / epochs_s, 1),
            "keras_images_s": round(train_images / keras_s, 1),
            "pipeline_images_s": round(pipeline_rate(spec), 1),
        }
        print(count, json.dumps(rows[count]), flush=True)
    small, large = (rows[s] for s in sizes)
    print(
        json.dumps(
            {
                "rss_growth": round(
                    large["kerasbuild_peak_mb"] / small["kerasbuild_peak_mb"] - 1, 3
                ),
                "rss_vs_keras": round(large["kerasbuild_peak_mb"] / large["keras_peak_mb"], 3),
                "throughput_vs_keras": round(
                    large["kerasbuild_images_s"] / large["keras_images_s"], 3
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
