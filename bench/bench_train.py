"""Benchmarks 1 and 4: training throughput (images/s), all sides in one process, alternating.

1a. spec-built model vs the same architecture written by hand in Keras, both compiled with
    kerasbuild's settings and fed by kerasbuild's tf.data pipeline: measures model overhead
    (target >= 0.98).
1b. kerasbuild (spec model + its pipeline and steps_per_execution default) vs a naive
    hand-written ``model.fit(X, y, batch_size=...)`` (target >= 1.3 on CPU).
4.  kerasbuild with the augmentation pipeline on (one-pixel random shifts, Nielsen's
    expansion done online) vs off (target >= 0.9).

Nets: the Nielsen dropout net on MNIST-5k (real digits) and the small residual net on 32x32x3
inputs (random images: throughput does not depend on pixel values).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import alternate, machine, parse_args, report, timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def hand_nielsen(keras):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(20, 5, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(40, 5, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.5),
            layers.Flatten(),
            layers.Dense(1000, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(1000, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def hand_small_resnet(keras):
    layers = keras.layers

    def conv_bn(x, filters, size=3, stride=1):
        x = layers.Conv2D(
            filters,
            size,
            strides=stride,
            padding="same",
            use_bias=False,
            kernel_initializer="he_normal",
        )(x)
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-4)(x)

    def basic(x, filters, stride=1, shortcut=None):
        y = layers.Activation("relu")(conv_bn(x, filters, stride=stride))
        y = conv_bn(y, filters)
        return layers.Activation("relu")(layers.Add()([x if shortcut is None else shortcut, y]))

    inputs = keras.Input((32, 32, 3))
    x = layers.Activation("relu")(conv_bn(inputs, 16))
    x = basic(basic(x, 16), 16)
    for filters in (32, 64):
        x = basic(x, filters, 2, conv_bn(x, filters, 1, 2))
        x = basic(x, filters)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def main() -> None:
    args = parse_args(__doc__)
    rounds = 1 if args.quick else 5
    print(f"# training throughput, images/s ({machine()}); {rounds} alternating epochs per side")
    for spec_name, hand in (
        ("nielsen_dropout", hand_nielsen),
        ("small_resnet32", hand_small_resnet),
    ):
        bench_net(spec_name, hand, rounds, args)


def bench_net(spec_name: str, hand, rounds: int, args) -> None:
    """Benchmarks 1a, 1b and 4 for one net."""
    import keras
    import numpy as np

    import kerasbuild
    from kerasbuild.data.pipeline import make_dataset
    from kerasbuild.data.splits import load_for_spec
    from kerasbuild.fit.objective import compile_model
    from kerasbuild.fit.session import default_steps_per_execution

    loaded = kerasbuild.load_spec(ROOT / "specs" / f"{spec_name}.yaml")
    config = loaded.spec.train
    batch = config.batch_size
    if spec_name == "nielsen_dropout":
        splits = load_for_spec(loaded)
        x, y = splits.x_train, splits.y_train
    else:
        rng = np.random.default_rng(0)
        x = rng.random((2048, 32, 32, 3), dtype=np.float32)
        y = rng.integers(0, 10, 2048).astype("int32")
    if args.quick:
        x, y = x[:256], y[:256]
    n = len(x)
    spe = default_steps_per_execution(config)
    spec_model = compile_model(kerasbuild.build_model(loaded), config, steps_per_execution=spe)
    hand_model = compile_model(hand(keras), config, steps_per_execution=spe)
    assert spec_model.count_params() == hand_model.count_params(), "architectures differ"
    naive_model = hand(keras)
    naive_model.compile(
        optimizer=keras.optimizers.SGD(
            config.update_learning_rate, momentum=config.update_momentum
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    plain = make_dataset(x, y, batch_size=batch, training=True, seed=0)
    shifted = make_dataset(x, y, batch_size=batch, training=True, seed=0, augment=_shift_augment())

    def epoch(model, data):
        return lambda: n / timed(lambda: model.fit(data, epochs=1, verbose=0))

    def naive_epoch():
        return n / timed(lambda: naive_model.fit(x, y, batch_size=batch, epochs=1, verbose=0))

    for fn in (
        epoch(spec_model, plain),
        epoch(hand_model, plain),
        naive_epoch,
        epoch(spec_model, shifted),
    ):
        fn()  # warm-up: tracing and graph building are not throughput
    ours, base = alternate(epoch(spec_model, plain), epoch(hand_model, plain), rounds)
    report(
        f"{spec_name}: spec-built vs hand-written Keras (same settings)",
        ours,
        base,
        "img/s",
        True,
        ">= 0.98",
        args.json_out,
    )
    ours, base = alternate(epoch(spec_model, plain), naive_epoch, rounds)
    report(
        f"{spec_name}: kerasbuild vs naive model.fit(X, y)",
        ours,
        base,
        "img/s",
        True,
        ">= 1.3",
        args.json_out,
    )
    ours, base = alternate(epoch(spec_model, shifted), epoch(spec_model, plain), rounds)
    report(
        f"{spec_name}: augmentation (1-pixel shifts) on vs off",
        ours,
        base,
        "img/s",
        True,
        ">= 0.9",
        args.json_out,
    )
    keras.backend.clear_session()


def _shift_augment():
    from pydantic import TypeAdapter

    from kerasbuild.schema.data import Augmentation

    return [TypeAdapter(Augmentation).validate_python({"type": "shift", "max_pixels": 1})]


if __name__ == "__main__":
    main()
