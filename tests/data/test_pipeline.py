"""make_dataset: stages, shapes, seeded per-epoch augmentation, and Keras accepting it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasbuild.data.pipeline import make_dataset
from kerasbuild.data.splits import load_arrays
from kerasbuild.schema.data import DataConfig
from kerasbuild.schema.train import TrainConfig

SHIFT = DataConfig(source="builtin:digits", augment=[{"type": "shift", "max_pixels": 2}]).augment


def _stages(ds: tf.data.Dataset) -> list[str]:
    """Dataset transformation class names, outermost first."""
    names = []
    while ds is not None:
        names.append(type(ds).__name__)
        inputs = ds._inputs()
        ds = inputs[0] if inputs else None
    return names


@pytest.fixture(scope="module")
def digits():
    return load_arrays(DataConfig(source="builtin:digits", seed=0), TrainConfig())


def test_training_pipeline_batches_indices_maps_in_parallel_and_prefetches(digits):
    ds = make_dataset(
        digits.x_train, digits.y_train, batch_size=64, training=True, augment=SHIFT, seed=1
    )
    assert _stages(ds)[:4] == [
        "_PrefetchDataset",
        "_AssertCardinalityDataset",
        "_ParallelMapDataset",
        "_FlatMapDataset",
    ]
    assert int(ds.cardinality()) == -(-len(digits.x_train) // 64)
    shapes = [(tuple(x.shape), tuple(y.shape)) for x, y in ds]
    n = len(digits.x_train)
    assert shapes[0] == ((64, 8, 8, 1), (64,))
    assert len(shapes) == -(-n // 64) and shapes[-1][0][0] == n - 64 * (len(shapes) - 1)


def test_evaluation_pipeline_keeps_order_and_never_augments(digits):
    ds = make_dataset(
        digits.x_test, digits.y_test, batch_size=100, training=False, augment=SHIFT, seed=1
    )
    assert _stages(ds) == [
        "_PrefetchDataset",
        "_BatchDataset",
        "CacheDataset",
        "_TensorSliceDataset",
    ]
    x = np.concatenate([b[0].numpy() for b in ds])
    y = np.concatenate([b[1].numpy() for b in ds])
    np.testing.assert_array_equal(x, digits.x_test)
    np.testing.assert_array_equal(y, digits.y_test)


def test_inputs_only_dataset_for_prediction(digits):
    ds = make_dataset(digits.x_test, None, batch_size=50, training=False)
    first = next(iter(ds))
    assert isinstance(first, tf.Tensor) and first.shape == (50, 8, 8, 1)


def _epoch(ds: tf.data.Dataset) -> np.ndarray:
    return np.concatenate([x.numpy() for x, _ in ds])


def test_augmentation_differs_per_epoch_and_repeats_with_the_seed():
    # identical rows, so the shuffle cannot hide or fake a difference
    x = np.repeat(
        load_arrays(
            DataConfig(source="builtin:digits", limit=1, test_size=0, valid_size=0), TrainConfig()
        ).x_train,
        48,
        axis=0,
    )
    y = np.zeros(48, np.int64)
    ds = make_dataset(x, y, batch_size=16, training=True, augment=SHIFT, seed=3)
    first, second = _epoch(ds), _epoch(ds)
    assert not np.array_equal(first, second)
    again = make_dataset(x, y, batch_size=16, training=True, augment=SHIFT, seed=3)
    np.testing.assert_array_equal(_epoch(again), first)
    np.testing.assert_array_equal(_epoch(again), second)
    other = make_dataset(x, y, batch_size=16, training=True, augment=SHIFT, seed=4)
    assert not np.array_equal(_epoch(other), first)
    assert len({row.tobytes() for row in first}) >= 10  # per-image parameters within a batch


def test_keras_trains_on_an_augmented_dataset(digits):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    augment = DataConfig(
        source="builtin:digits",
        augment=[{"type": "shift", "max_pixels": 1}, {"type": "gaussian_noise", "sigma": 0.02}],
    ).augment
    train = make_dataset(
        digits.x_train, digits.y_train, batch_size=32, training=True, augment=augment, seed=0
    )
    valid = make_dataset(digits.x_valid, digits.y_valid, batch_size=256, training=False)
    history = model.fit(train, validation_data=valid, epochs=10, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 10
    assert history.history["val_accuracy"][-1] > 0.9
