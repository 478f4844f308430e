"""Freezing and weight matching without training: frozen parameters count as non-trainable in
pure Python exactly as Keras counts them, patterns that match nothing are located errors, and
the layer matcher pairs by name, then by order while the shapes agree."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasbuild import SpecError, load_text  # noqa: E402
from kerasbuild.summary import summary_dict  # noqa: E402
from kerasbuild.transfer.init_weights import match_layers  # noqa: E402

SPEC = """
name: frozen
input: {shape: [8, 8, 1], name: image}
blocks:
  conv_bn:
    layers:
      - {name: conv, type: Conv2DLayer, num_filters: 4, filter_size: 3, nonlinearity: relu6}
      - {name: bn, type: BatchNormLayer}
layers:
  - {use: conv_bn, name: stem, trainable: false}
  - {name: conv2, type: Conv2DLayer, num_filters: 4, filter_size: 3}
  - {name: hidden, type: DenseLayer, num_units: 8, trainable: false}
  - {name: output, type: DenseLayer, num_units: 3, nonlinearity: softmax}
train: {freeze: ["conv?"], max_epochs: 3}
"""


def test_frozen_parameters_are_non_trainable_in_summary_and_in_keras():
    loaded = load_text(SPEC)
    summary = summary_dict(loaded)
    assert summary["total_params"] == 40 + 16 + 148 + 520 + 27  # hidden: 4x4x4 inputs -> 8
    assert summary["trainable_params"] == 27  # only the head
    from kerasbuild import build_model

    model = build_model(loaded)
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    assert trainable == summary["trainable_params"]
    assert model.count_params() == summary["total_params"]
    assert {layer.name for layer in model.layers if not layer.trainable} >= {
        "stem_conv",
        "stem_bn",
        "conv2",
        "hidden",
    }


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'freeze: ["conv?"]',
            'freeze: ["convx"]',
            "train.freeze.0: 'convx' matches no layer (did you mean 'conv2'?)",
        ),
        (
            "max_epochs: 3",
            "max_epochs: 3, unfreeze_at: {epoch: 3}",
            "unfreeze_at.epoch (3) must be below max_epochs (3)",
        ),
        (
            "max_epochs: 3",
            "max_epochs: 3, unfreeze_at: {epoch: 1, layers: [head*]}",
            "train.unfreeze_at.layers.0: 'head*' matches no layer",
        ),
        (
            "trainable: false}\n  - {name: conv2",
            "trainable: no}\n  - {name: conv2",
            "trainable must be true or false",
        ),
    ],
)
def test_bad_freeze_settings_are_located_errors(old, new, message):
    assert old in SPEC
    with pytest.raises(SpecError) as exc:
        load_text(SPEC.replace(old, new, 1), file="frozen.yaml")
    text = str(exc.value)
    assert message in text and "frozen.yaml:" in text


def test_init_weights_that_do_not_exist_are_located(tmp_path):
    from kerasbuild.transfer.paths import check_init

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC + "init: {weights: missing.weights.h5}\n")
    from kerasbuild import load_spec

    with pytest.raises(SpecError) as exc:
        check_init(load_spec(spec))
    assert f"spec.yaml:{len(SPEC.splitlines()) + 1}:" in str(exc.value)
    assert f"{tmp_path / 'missing.weights.h5'} does not exist (relative to {tmp_path})" in str(
        exc.value
    )


def test_layers_match_by_name_then_by_order_while_shapes_agree():
    a, b, c = [(3, 3, 1, 4), (4,)], [(4,), (4,), (4,), (4,)], [(36, 10), (10,)]
    ours = [("conv", a), ("bn_new", b), ("dense_new", c), ("head", [(10, 2)])]
    theirs = [("conv", a), ("bn", b), ("dense", c), ("out", [(10, 5)]), ("extra", [(1,)])]
    matching = match_layers(ours, theirs)
    assert matching.pairs == [(0, 0, "name"), (1, 1, "order"), (2, 2, "order")]
    assert matching.skipped == [("head", "no layer of that name in the file")]
    assert matching.unused == ["out", "extra"]
    renamed = match_layers([("conv", [(3, 3, 1, 8), (8,)])], theirs)
    assert renamed.pairs == [] and renamed.skipped == [
        ("conv", "shapes 3x3x1x8, 8 here, 3x3x1x4, 4 in the file")
    ]
