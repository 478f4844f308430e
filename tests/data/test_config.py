"""The data: section: validation, augmentation merging with nolearn's FlipBatchIterator, and
located errors for missing paths (no TensorFlow needed)."""

from __future__ import annotations

import sys
import textwrap

import pytest
from pydantic import ValidationError

from kerasbuild.data.paths import check_data
from kerasbuild.errors import SpecError
from kerasbuild.schema.data import (
    DataConfig,
    FlipHorizontal,
    Shift,
    augmentations_for,
)
from kerasbuild.schema.train import TrainConfig
from kerasbuild.spec.loader import load_spec

# Nouri's facial-keypoints tutorial: left/right pairs of the 30 target columns.
TUTORIAL_FLIP_INDICES = [
    (0, 2),
    (1, 3),
    (4, 8),
    (5, 9),
    (6, 10),
    (7, 11),
    (12, 16),
    (13, 17),
    (14, 18),
    (15, 19),
    (22, 24),
    (23, 25),
]


def test_unknown_builtin_suggests_the_right_name():
    with pytest.raises(
        ValidationError, match=r"unknown builtin data set 'mnist' \(did you mean 'mnist_5k'\?\)"
    ):
        DataConfig(source="builtin:mnist")


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("builtin:digits", "builtin"),
        ("tfds:mnist", "tfds"),
        ("tfds:cifar10/plain", "tfds"),
        ("data/x.npz", "npz"),
        ("training.CSV", "csv"),
        ("faces/", "folder"),
    ],
)
def test_source_kinds(source, kind):
    assert DataConfig(source=source).kind == kind


def test_fraction_of_one_or_more_is_refused():
    with pytest.raises(ValidationError, match="test_size as a fraction must be below 1"):
        DataConfig(source="builtin:digits", test_size=1.5)


def test_unknown_augmentation_type_is_refused():
    with pytest.raises(ValidationError, match="flip_horizontal"):
        DataConfig(source="builtin:digits", augment=[{"type": "flip"}])


def test_keypoint_pairs_become_column_pairs():
    flip = FlipHorizontal(
        type="flip_horizontal", keypoint_pairs=[(0, 1), (2, 4)], flip_indices=[(22, 24)]
    )
    assert flip.swap_columns() == [(22, 24), (0, 2), (1, 3), (4, 8), (5, 9)]


def test_flip_batch_iterator_maps_to_flip_augmentation():
    train = TrainConfig(
        regression=True,
        batch_iterator_train={
            "type": "FlipBatchIterator",
            "batch_size": 48,
            "flip_indices": TUTORIAL_FLIP_INDICES,
        },
    )
    data = DataConfig(source="training.csv", augment=[{"type": "gaussian_noise", "sigma": 0.01}])
    augment = augmentations_for(data, train)
    assert [a.type for a in augment] == ["flip_horizontal", "gaussian_noise"]
    assert augment[0].p == 0.5
    assert augment[0].swap_columns() == TUTORIAL_FLIP_INDICES


def test_plain_batch_iterator_adds_nothing():
    train = TrainConfig(batch_iterator_train={"type": "BatchIterator", "batch_size": 32})
    assert augmentations_for(DataConfig(source="builtin:digits"), train) == []


def test_flip_given_twice_is_an_error():
    train = TrainConfig(batch_iterator_train={"type": "FlipBatchIterator"})
    data = DataConfig(
        source="builtin:digits", augment=[{"type": "shift"}, {"type": "flip_horizontal"}]
    )
    with pytest.raises(SpecError, match="horizontal flip is given twice") as info:
        augmentations_for(data, train)
    assert info.value.problems[0].path == ("data", "augment", 1)


def test_geometric_augmentation_with_regression_targets_is_refused():
    data = DataConfig(
        source="training.csv",
        augment=[{"type": "flip_horizontal"}, {"type": "rotation", "degrees": 5}],
    )
    with pytest.raises(SpecError, match="'rotation' moves pixels but not regression targets"):
        augmentations_for(data, TrainConfig(regression=True))
    assert isinstance(augmentations_for(data, TrainConfig())[1], type(data.augment[1]))
    assert isinstance(
        augmentations_for(
            DataConfig(source="builtin:digits", augment=[{"type": "shift"}]), TrainConfig()
        )[0],
        Shift,
    )


def test_keypoint_flip_without_target_scaling_is_refused():
    data = DataConfig(source="k.npz", target_scale=None, augment=[{"type": "flip_horizontal"}])
    with pytest.raises(SpecError, match="needs targets centred on the image"):
        augmentations_for(data, TrainConfig(regression=True))


def _write_spec(path, data: str) -> None:
    path.write_text(
        textwrap.dedent("""\
        name: t
        input: {shape: [8, 8, 1]}
        layers:
          - {name: out, type: DenseLayer, num_units: 10, nonlinearity: softmax}
        data:
        """)
        + textwrap.indent(textwrap.dedent(data), "  ")
    )


def test_missing_source_is_a_located_error(tmp_path):
    spec = tmp_path / "spec.yaml"
    _write_spec(spec, "source: missing/digits.npz\ntest_size: 0.1\n")
    with pytest.raises(SpecError) as info:
        check_data(load_spec(spec))
    text = str(info.value)
    assert text.startswith(f"{spec}:6:")
    assert "data.source" in text
    assert str(tmp_path / "missing" / "digits.npz") in text and "does not exist" in text


def test_missing_tfds_data_dir_and_bad_augment_are_reported_together(tmp_path):
    spec = tmp_path / "spec.yaml"
    _write_spec(
        spec,
        """\
        source: tfds:mnist
        data_dir: nowhere
        target_scale: null
        augment:
          - {type: flip_horizontal}
        """,
    )
    text = spec.read_text().replace("name: t\n", "name: t\nregression: true\n")
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        check_data(load_spec(spec))
    paths = [p.path for p in info.value.problems]
    assert paths == [("data", "target_scale"), ("data", "data_dir")]
    assert all(p.line is not None for p in info.value.problems)


def test_no_data_section_is_a_clear_error(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: t\ninput: {shape: [4]}\nlayers:\n  - {name: out, type: DenseLayer, num_units: 2}\n"
    )
    with pytest.raises(SpecError, match="the spec has no data: section"):
        check_data(load_spec(spec))


def test_config_module_does_not_import_tensorflow():
    import subprocess

    code = (
        "import kerasbuild.schema.data, kerasbuild.data.paths, sys; "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
