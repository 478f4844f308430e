"""Every spec in ``specs/``: it validates, its header states its source and its parameter count,
the pure-Python inference equals what Keras builds (total and per layer), ``fmt`` is a fixed
point, and the reference architectures match their published parameter counts."""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasbuild import load_spec, load_text  # noqa: E402
from kerasbuild.cli import app  # noqa: E402
from kerasbuild.spec.format import canonical_yaml  # noqa: E402
from kerasbuild.summary import summary_dict  # noqa: E402

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs"
SPECS = sorted(p for p in SPEC_DIR.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
IDS = [p.stem for p in SPECS]

EXACT_PARAMS = {
    "nielsen_dropout": 1_672_570,
    "vgg16": 138_357_544,
    "resnet50": 25_636_712,
    "fkp_net3": 16_561_502,
    "mobilenet_v2": 3_538_984,
    "densenet121": 8_062_504,
    "xception": 22_910_480,
    "efficientnet_b0": 5_330_571,
    "convnext_tiny": 28_589_128,
    "inception_v3": 23_851_784,
}
"""Counts fixed by the issue (and by keras.applications for VGG16 and ResNet-50)."""

LINE_LIMITS = {"vgg16": 60, "resnet50": 120}

EXPECTED_SPECS = {
    "nielsen_fc100",
    "nielsen_conv1",
    "nielsen_conv2",
    "nielsen_relu_l2",
    "nielsen_dropout",
    "lenet5",
    "alexnet",
    "vgg16",
    "resnet50",
    "fkp_net1",
    "fkp_net3",
    "small_resnet32",
    "mobilenet_v2",
    "densenet121",
    "xception",
    "efficientnet_b0",
    "convnext_tiny",
    "vit_tiny",
    "unet_small",
    "inception_v3",
}


def _header(path: Path) -> str:
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def _stated_params(path: Path) -> int:
    match = re.search(r"^# Parameters: ([0-9,]+)", _header(path), re.MULTILINE)
    assert match, f"{path.name}: header has no '# Parameters: N' line"
    return int(match.group(1).replace(",", ""))


def test_library_holds_every_named_spec():
    assert EXPECTED_SPECS <= set(IDS)


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_validate_command_accepts_spec(path):
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.stderr
    total = load_spec(path).graph.total_params
    assert f"{total:,} params" in result.stdout


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_header_names_source_and_true_parameter_count(path):
    header = _header(path)
    assert header.startswith("# Source: "), f"{path.name} must start with '# Source: ...'"
    assert _stated_params(path) == load_spec(path).graph.total_params


@pytest.mark.parametrize("name,count", sorted(EXACT_PARAMS.items()))
def test_reference_parameter_counts(name, count):
    assert load_spec(SPEC_DIR / f"{name}.yaml").graph.total_params == count


@pytest.mark.parametrize("name,limit", sorted(LINE_LIMITS.items()))
def test_block_specs_are_short(name, limit):
    assert len((SPEC_DIR / f"{name}.yaml").read_text().splitlines()) < limit


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_inference_equals_keras_model(path):
    """Total, trainable and per-layer output shapes from pure-Python inference equal Keras'."""
    import keras

    from kerasbuild import build_model

    loaded = load_spec(path)
    model = build_model(loaded)
    try:
        assert model.count_params() == loaded.graph.total_params
        trainable = sum(_size(w.shape) for w in model.trainable_weights)
        assert trainable == loaded.graph.trainable_params
        for node in loaded.graph.nodes:
            keras_shape = tuple(model.get_layer(node.name).output.shape[1:])
            assert keras_shape == node.shape, node.name
        assert [t.shape[1:] for t in model.outputs] == [
            loaded.graph.by_name[n].shape for n in loaded.graph.outputs
        ]
    finally:
        del model
        keras.backend.clear_session()
        gc.collect()


def _size(shape) -> int:
    out = 1
    for d in shape:
        out *= int(d)
    return out


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_matches_keras_applications(name):
    """Same parameter count and the same multiset of weight shapes as keras.applications."""
    import keras

    from kerasbuild import build_model

    reference = {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50}[name](
        weights=None
    )
    ours = build_model(SPEC_DIR / f"{name}.yaml")
    try:
        assert ours.count_params() == reference.count_params() == EXACT_PARAMS[name]
        assert sorted(tuple(w.shape) for w in ours.weights) == sorted(
            tuple(w.shape) for w in reference.weights
        )
        assert tuple(ours.output.shape) == tuple(reference.output.shape) == (None, 1000)
    finally:
        del ours, reference
        keras.backend.clear_session()
        gc.collect()


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_fmt_is_a_fixed_point_with_the_same_summary(path):
    loaded = load_spec(path)
    once = canonical_yaml(loaded)
    reloaded = load_text(once, file=f"{path.stem}.fmt.yaml")
    assert canonical_yaml(reloaded) == once
    assert summary_dict(reloaded) == summary_dict(loaded)
    result = CliRunner().invoke(app, ["fmt", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == once


def test_fkp_net3_is_the_pasted_nolearn_net():
    """Flat form as in the lecture: layer list of [name, type], '<layer>_<param>' and training
    keywords at the top level, NCHW input_shape."""
    from kerasbuild.spec.source import parse_file

    raw = parse_file(SPEC_DIR / "fkp_net3.yaml").data
    assert raw["input_shape"] == [None, 1, 96, 96] and raw["conv1_num_filters"] == 32
    assert all(isinstance(item, list) and len(item) == 2 for item in raw["layers"])
    loaded = load_spec(SPEC_DIR / "fkp_net3.yaml")
    train = loaded.spec.train
    assert loaded.graph.by_name["input"].shape == (96, 96, 1)
    assert train.regression is True and train.max_epochs == 10_000
    assert (
        train.batch_iterator_train.type == "FlipBatchIterator"
        and train.batch_iterator_train.batch_size == 48
    )
    assert [h.type for h in train.on_epoch_finished] == [
        "AdjustVariable",
        "AdjustVariable",
        "EarlyStopping",
    ]
    assert train.on_epoch_finished[2].patience == 250


def test_nielsen_specs_train_on_the_bundled_mnist_digits():
    for name in (
        "nielsen_fc100",
        "nielsen_conv1",
        "nielsen_conv2",
        "nielsen_relu_l2",
        "nielsen_dropout",
    ):
        spec = load_spec(SPEC_DIR / f"{name}.yaml").spec
        assert spec.data.source == "builtin:mnist_5k", name
        assert spec.train.eval_size == 0.1 and spec.train.max_epochs >= 40, name
        assert spec.layers[0].shape == (28, 28, 1) and spec.layers[-1].nonlinearity == "softmax", (
            name
        )
    l2 = {
        layer.name: layer.l2
        for layer in load_spec(SPEC_DIR / "nielsen_relu_l2.yaml").spec.layers
        if hasattr(layer, "l2")
    }
    assert l2 == {"conv1": 1.4e-4, "conv2": 1.4e-4, "hidden": 1.4e-4, "output": 1.4e-4}
