"""load_arrays: seeded stratified splits, preprocessing, expansion, and the spec entry point."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from kerasbuild.data.splits import load_arrays, load_for_spec, preprocess_inputs, restore_targets
from kerasbuild.errors import SpecError
from kerasbuild.schema.data import DataConfig
from kerasbuild.schema.train import TrainConfig
from kerasbuild.spec.loader import load_spec


def _rows(x: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in x}


@pytest.fixture(scope="module")
def mnist():
    return load_arrays(
        DataConfig(source="builtin:mnist_5k", test_size=1000, seed=0), TrainConfig(eval_size=0.1)
    )


def test_mnist_5k_split_is_stratified_balanced_and_disjoint(mnist):
    assert mnist.x_train.shape == (3600, 28, 28, 1)
    assert mnist.x_valid.shape == (400, 28, 28, 1) and mnist.x_test.shape == (1000, 28, 28, 1)
    assert np.bincount(mnist.y_test).tolist() == [100] * 10
    assert np.bincount(mnist.y_valid).tolist() == [40] * 10
    assert np.bincount(mnist.y_train).tolist() == [360] * 10
    train, valid, test = _rows(mnist.x_train), _rows(mnist.x_valid), _rows(mnist.x_test)
    assert not (train & valid) and not (train & test) and not (valid & test)
    assert len(np.unique(mnist.y_train[:50])) >= 8  # shuffled, not sorted by label
    assert mnist.preprocessing == {"scale": pytest.approx(1 / 255)}
    assert mnist.x_train.max() == 1.0 and mnist.x_train.min() == 0.0
    assert (
        mnist.input_shape == (28, 28, 1)
        and mnist.num_classes == 10
        and mnist.task == "classification"
    )


def test_splits_repeat_with_the_seed_and_change_with_another(mnist):
    again = load_arrays(
        DataConfig(source="builtin:mnist_5k", test_size=1000, seed=0), TrainConfig(eval_size=0.1)
    )
    np.testing.assert_array_equal(again.x_test, mnist.x_test)
    np.testing.assert_array_equal(again.y_train, mnist.y_train)
    other = load_arrays(
        DataConfig(source="builtin:mnist_5k", test_size=1000, seed=1), TrainConfig(eval_size=0.1)
    )
    assert len(_rows(other.x_test) & _rows(mnist.x_test)) < 400


def test_seed_and_valid_size_fall_back_to_train_then_defaults():
    data = DataConfig(source="builtin:digits", test_size=0)
    from_train = load_arrays(data, TrainConfig(seed=5))
    assert from_train.seed == 5 and len(from_train.x_valid) == round(0.2 * 1797)
    explicit = load_arrays(
        data.model_copy(update={"seed": 5, "valid_size": 97}), TrainConfig(eval_size=0.5)
    )
    assert len(explicit.x_valid) == 97
    np.testing.assert_array_equal(
        load_arrays(data.model_copy(update={"seed": 5}), TrainConfig()).y_valid, from_train.y_valid
    )


def test_standardize_uses_training_statistics_and_is_recorded():
    data = DataConfig(source="builtin:digits", standardize=True, seed=0)
    s = load_arrays(data, TrainConfig())
    assert abs(float(s.x_train.mean())) < 1e-4 and float(s.x_train.std()) == pytest.approx(
        1.0, rel=1e-3
    )
    assert s.preprocessing["scale"] == pytest.approx(1 / 16)
    assert s.preprocessing["mean"][0] == pytest.approx(4.88 / 16, rel=0.05)
    assert abs(float(s.x_test.mean())) < 0.1  # held-out data, same statistics


def test_preprocess_inputs_repeats_what_load_arrays_did(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(20, 10, 10, 3)).astype(np.uint8)
    np.savez(tmp_path / "x.npz", x=x, y=np.arange(20) % 2)
    data = DataConfig(source="x.npz", test_size=0, valid_size=0, standardize=True, resize=(5, 5))
    s = load_arrays(data, TrainConfig(), base_dir=tmp_path)
    assert s.x_train.shape == (20, 5, 5, 3) and s.preprocessing["resize"] == [5, 5]
    again = preprocess_inputs(x, s.preprocessing)
    assert _rows(np.round(again, 4)) == _rows(np.round(s.x_train, 4))


def test_restore_targets_inverts_target_scaling():
    y = np.array([[-1.0, 0.0, 0.5]], np.float32)
    np.testing.assert_allclose(
        restore_targets(y, {"target_center": 48.0, "target_scale": 48.0}), [[0, 48, 72]]
    )
    assert restore_targets(y, {}) is y


def test_expand_multiplies_only_the_training_split():
    data = DataConfig(source="builtin:digits", seed=0, expand={"shifts": 1})
    plain = load_arrays(data.model_copy(update={"expand": None}), TrainConfig())
    s = load_arrays(data, TrainConfig())
    assert len(s.x_train) == 5 * len(plain.x_train)
    assert len(s.x_valid) == len(plain.x_valid) and len(s.x_test) == len(plain.x_test)
    np.testing.assert_array_equal(s.x_train[: len(plain.x_train)], plain.x_train)
    assert s.preprocessing["expand_shifts"] == 1


def test_a_test_split_that_leaves_nothing_is_a_located_problem():
    with pytest.raises(SpecError, match="leaves no examples to train on") as info:
        load_arrays(DataConfig(source="builtin:digits", test_size=1797), TrainConfig())
    assert info.value.problems[0].path == ("data", "test_size")


def test_limit_takes_a_shuffled_subset():
    s = load_arrays(
        DataConfig(source="builtin:mnist_5k", limit=500, test_size=100, valid_size=100),
        TrainConfig(),
    )
    assert len(s.x_train) == 300 and len(np.unique(s.y_test)) == 10


def test_load_for_spec_reads_paths_relative_to_the_spec_file(tmp_path):
    (tmp_path / "specs" / "data").mkdir(parents=True)
    np.savez(
        tmp_path / "specs" / "data" / "d.npz",
        x=np.zeros((30, 4, 4), np.float32),
        y=np.arange(30) % 3,
    )
    spec = tmp_path / "specs" / "s.yaml"
    spec.write_text(
        textwrap.dedent("""\
        name: s
        input: {shape: [4, 4, 1]}
        layers:
          - {name: out, type: DenseLayer, num_units: 3, nonlinearity: softmax}
        eval_size: 0.2
        data: {source: data/d.npz, test_size: 6}
        """)
    )
    s = load_for_spec(load_spec(spec))
    assert (len(s.x_train), len(s.x_valid), len(s.x_test)) == (19, 5, 6)
    assert s.input_shape == (4, 4, 1)


def test_data_that_does_not_fit_the_model_is_located_at_the_layers(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        textwrap.dedent("""\
        name: t
        input: {shape: [28, 28, 1]}
        layers:
          - {name: hidden, type: DenseLayer, num_units: 10}
          - {name: out, type: DenseLayer, num_units: 5, nonlinearity: softmax}
        data: {source: "builtin:digits"}
        """)
    )
    with pytest.raises(SpecError) as info:
        load_for_spec(load_spec(spec))
    first, second = info.value.problems
    assert (first.line, first.path[-1]) == (2, "shape")
    assert (
        "examples are 8x8x1 but input layer 'input' expects 28x28x1; set data.resize: [28, 28]"
        in first.message
    )
    assert (
        second.line == 5
        and "the data has 10 classes but output layer 'out' has 5 units" in second.message
    )
    spec.write_text(
        spec.read_text()
        .replace("[28, 28, 1]", "[8, 8, 1]")
        .replace("num_units: 5", "num_units: 10")
    )
    assert load_for_spec(load_spec(spec)).input_shape == (8, 8, 1)
