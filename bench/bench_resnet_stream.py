"""ResNet-50 (specs/resnet50.yaml, 25.6 M parameters) at 224x224 trained from a streamed JPEG
folder: memory stays flat over a few hundred steps.

Generates a folder of 224x224 RGB JPEGs (10 classes), then runs ``kerasbuild train`` on the
ResNet-50 spec with that folder as its data (batch 8, one epoch, no validation or test split,
the 1,000-way head set to 10 units) in a child process, sampling the child's resident memory
(VmRSS) every 2 seconds. Prints the peak (VmHWM), the RSS at each quarter of the run, and the
growth from the first quarter to the end: with a streamed source the dataset never sits in
memory, so the RSS after warm-up does not grow with the number of steps. For comparison, the
folder as float32 arrays would take ``images x 224 x 224 x 3 x 4`` bytes (602 KB per image).

    PYTHONPATH=. python bench/bench_resnet_stream.py [--images 1600] [--batch 8]
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
DATA = """
data: {{source: "{folder}", test_size: 0, valid_size: 0, seed: 0}}
train: {{max_epochs: 1, batch_size: {batch}, seed: 0, update: sgd, update_learning_rate: 0.01,
        update_momentum: 0.9, verbose: 0}}
"""


def make_folder(root: Path, count: int, size: int = 224, classes: int = 10) -> Path:
    """``count`` size x size RGB JPEGs in ``classes`` class folders (reused when present)."""
    import numpy as np
    from PIL import Image

    folder = root / f"jpeg{size}_{count}"
    if folder.is_dir() and sum(1 for _ in folder.rglob("*.jpg")) == count:
        return folder
    rng = np.random.default_rng(count)
    band = size // classes
    for i in range(count):
        label = i % classes
        (folder / f"c{label}").mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 80, (size, size, 3), dtype=np.uint8)
        image[label * band : (label + 1) * band] += 150
        Image.fromarray(image).save(folder / f"c{label}" / f"{i:05d}.jpg", quality=85)
    return folder


def status_kb(pid: int, field: str) -> int | None:
    """``VmRSS`` / ``VmHWM`` of a live process in KB (None once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1600)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "kb_bench_images"))
    args = parser.parse_args()
    root = Path(args.dir)
    folder = make_folder(root, args.images)
    spec = root / "resnet50_stream.yaml"
    spec.write_text(
        (ROOT / "specs" / "resnet50.yaml").read_text()
        + DATA.format(folder=folder, batch=args.batch)
    )
    run = root / "run_resnet50"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "kerasbuild.cli", "train", str(spec), "--run-dir", str(run)]
    command += ["--set", "layers.predictions.num_units=10"]  # the folder's 10 classes
    start = time.monotonic()
    child = subprocess.Popen(
        [*command, "--overwrite"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    samples: list[tuple[float, int]] = []
    peak = 0
    while child.poll() is None:
        rss, hwm = status_kb(child.pid, "VmRSS"), status_kb(child.pid, "VmHWM")
        if rss is not None:
            samples.append((time.monotonic() - start, rss))
            peak = max(peak, hwm or 0)
        time.sleep(2)
    output = child.stdout.read().decode(errors="replace") if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"kerasbuild train failed ({child.returncode}):\n{output[-3000:]}")
    history = json.loads((run / "history.json").read_text())
    steps = -(-args.images // args.batch)
    training = [s for s in samples if s[0] > 0.1 * samples[-1][0]]  # past import and build
    quarters = [training[min(len(training) - 1, len(training) * q // 4)][1] for q in (1, 2, 3, 4)]
    result = {
        "images": args.images,
        "batch": args.batch,
        "steps": steps,
        "epoch_s": round(history[0]["duration"], 1),
        "images_s": round(args.images / history[0]["duration"], 2),
        "peak_rss_mb": round(peak / 1024),
        "rss_quarters_mb": [round(kb / 1024) for kb in quarters],
        "growth_q1_to_end": round(quarters[-1] / quarters[0] - 1, 3),
        "dataset_as_float32_mb": round(args.images * 224 * 224 * 3 * 4 / 2**20),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
