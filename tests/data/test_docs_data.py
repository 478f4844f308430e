"""docs/data.md: every complete yaml example loads, and its data section resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kerasbuild import load_text
from kerasbuild.schema.data import augmentations_for

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "data.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(), re.S)


def test_the_guide_has_examples():
    assert len(EXAMPLES) == 6


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_guide_example_loads(index):
    loaded = load_text(EXAMPLES[index], file=f"data.md[{index}].yaml")
    assert loaded.spec.data is not None
    augment = augmentations_for(loaded.spec.data, loaded.spec.train)
    if index == 5:  # the FlipBatchIterator example becomes one keypoint flip
        assert loaded.spec.train.regression
        assert [a.type for a in augment] == ["flip_horizontal"]
        assert len(augment[0].swap_columns()) == 12
    elif index == 0:
        assert [a.type for a in augment] == ["elastic"] and loaded.spec.data.expand.shifts == 1
    else:  # the streamed sources
        assert loaded.spec.data.kind == ["folder", "csv", "tfrecord", "tfds"][index - 1]
