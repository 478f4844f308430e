"""``kerasbuild data SPEC`` on a generated image folder: counts per split and class, shapes,
the pipeline's images/s, and the PNG grid of augmented training samples."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from PIL import Image

from .images import write_image_folder

SPEC = """
name: bands
input: {shape: [16, 16, 3], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 4, filter_size: 3}
  - {name: output, type: DenseLayer, num_units: 4, nonlinearity: softmax}
data: {source: imgs, seed: 0, test_size: 8, valid_size: 4, normalize: {sample: 32},
       augment: [{type: random_resized_crop, scale: [0.5, 1.0]}, {type: flip_horizontal}]}
train: {batch_size: 8, seed: 0}
"""


def _data(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerasbuild.cli", "data", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


def test_data_command_prints_counts_and_speed_and_writes_the_sample_grid(tmp_path):
    write_image_folder(tmp_path / "imgs", 10)
    (tmp_path / "spec.yaml").write_text(SPEC)
    grid = tmp_path / "grid.png"
    done = _data(str(tmp_path / "spec.yaml"), "-o", str(grid), "--samples", "9")
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout
    assert "source: imgs (streamed from disk)" in text
    assert "examples: train 28, valid 4, test 8" in text
    rows = {
        m[0]: [int(m[1]), int(m[2]), int(m[3])]
        for m in re.findall(r"^(c\d)\s+(\d+)\s+(\d+)\s+(\d+)$", text, re.M)
    }
    assert rows == {"c0": [7, 1, 2], "c1": [7, 1, 2], "c2": [7, 1, 2], "c3": [7, 1, 2]}
    assert "inputs: [16, 16, 3] float32 (uint8 decoded per batch); targets: scalar int64" in text
    speed = float(re.search(r"input pipeline: ([\d,]+) images/s", text)[1].replace(",", ""))
    assert speed > 0
    with Image.open(grid) as image:
        assert image.size == (3 * 16 + 2 * 2, 3 * 16 + 2 * 2) and image.mode == "RGB"
        pixels = image.getextrema()
    assert all(high > 100 for _, high in pixels)  # preprocessing undone: bright bands, not [-2, 2]
    again = _data(str(tmp_path / "spec.yaml"), "-o", str(grid))
    assert again.returncode == 1 and "already exists; pass --overwrite" in again.stderr


def test_overview_of_a_small_in_memory_source_and_a_grey_grid(tmp_path):
    from kerasbuild.data.overview import overview, render, sample_grid
    from kerasbuild.data.splits import load_arrays
    from kerasbuild.schema.data import DataConfig
    from kerasbuild.schema.train import TrainConfig

    splits = load_arrays(DataConfig(source="builtin:digits", seed=0), TrainConfig())
    view = overview(splits, "builtin:digits", batch_size=2048)  # one batch: timed with its start-up
    assert view.counts == {"train": 1150, "valid": 288, "test": 359} and not view.streamed
    assert sum(n["train"] for n in view.per_class.values()) == 1150 and len(view.per_class) == 10
    assert view.timed == 1150 and view.images_per_s > 0
    assert "source: builtin:digits (loaded into memory (a small source))" in render(view)
    assert sample_grid(splits, 64, 4, tmp_path / "g.png") == (2 * 8 + 2, 2 * 8 + 2)
    with Image.open(tmp_path / "g.png") as image:
        assert image.mode == "L" and image.getextrema()[1] > 200  # scale 1/16 undone: 0..255
