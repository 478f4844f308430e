"""Property: for any sequential net, the canonical, Lasagne tuple and nolearn flat forms load to
the same canonical document and summary, and ``fmt`` is a fixed point of each."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasbuild import load_text
from kerasbuild.spec.format import canonical_yaml
from kerasbuild.summary import summary_dict

NONLINEARITIES = ["rectify", "tanh", "sigmoid", "linear", "elu"]


@st.composite
def sequential_nets(draw) -> tuple[list[int], list[tuple[str, str, dict]], dict]:
    """An NCHW Lasagne input shape, layers ``(name, type, params)`` that fit it, and train keys."""
    size = side = draw(st.integers(8, 20))
    channels = draw(st.integers(1, 3))
    layers: list[tuple[str, str, dict]] = []
    for i in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["conv", "pool", "drop"]))
        if kind == "conv" and size >= 3:
            k = draw(st.integers(1, 3))
            pad = draw(st.sampled_from(["valid", "same", 0, 1]))
            layers.append(
                (
                    f"conv{i}",
                    "Conv2DLayer",
                    {
                        "num_filters": draw(st.integers(1, 6)),
                        "filter_size": [k, k],
                        "pad": pad,
                        "nonlinearity": draw(st.sampled_from(NONLINEARITIES)),
                    },
                )
            )
            size = (
                size if pad == "same" else size + 2 * (pad if isinstance(pad, int) else 0) - k + 1
            )
        elif kind == "pool" and size >= 2:
            layers.append((f"pool{i}", "MaxPool2DLayer", {"pool_size": [2, 2]}))
            size //= 2
        else:
            layers.append(
                (f"drop{i}", "DropoutLayer", {"p": draw(st.sampled_from([0.1, 0.25, 0.5]))})
            )
    for i in range(draw(st.integers(1, 2))):
        layers.append((f"hidden{i}", "DenseLayer", {"num_units": draw(st.integers(1, 16))}))
    layers[-1][2]["nonlinearity"] = draw(st.sampled_from(["softmax", None]))
    train = {
        "update_learning_rate": draw(st.sampled_from([0.01, 0.03])),
        "max_epochs": draw(st.integers(1, 50)),
    }
    return [None, channels, side, side], layers, train


def _dump(value) -> str:
    return json.dumps(value)


def _texts(input_shape: list, layers: list, train: dict) -> dict[str, str]:
    canonical = ["layers:", f"  - {{name: input, type: InputLayer, shape: {_dump(input_shape)}}}"]
    tuples = ["layers:", f"  - [input, InputLayer, {{shape: {_dump(input_shape)}}}]"]
    flat = ["layers:", "  - [input, InputLayer]"]
    flat_params = [f"input_shape: {_dump(input_shape)}"]
    for name, kind, params in layers:
        fields = ", ".join(f"{k}: {_dump(v)}" for k, v in params.items())
        canonical.append(f"  - {{name: {name}, type: {kind}, {fields}}}")
        tuples.append(f"  - [{name}, {kind}, {{{fields}}}]")
        flat.append(f"  - [{name}, {kind}]")
        flat_params += [f"{name}_{k}: {_dump(v)}" for k, v in params.items()]
    train_lines = [f"{k}: {_dump(v)}" for k, v in train.items()]
    return {
        "canonical": "\n".join([*canonical, "train:", *("  " + t for t in train_lines)]) + "\n",
        "tuples": "\n".join([*tuples, f"train: {{{', '.join(train_lines)}}}"]) + "\n",
        "flat": "\n".join([*flat, *flat_params, *train_lines]) + "\n",
    }


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(net=sequential_nets())
def test_three_forms_agree_on_any_sequential_net(net):
    texts = _texts(*net)
    loaded = {form: load_text(text, file=f"{form}.yaml") for form, text in texts.items()}
    reference = loaded["canonical"]
    once = canonical_yaml(reference)
    for form, spec in loaded.items():
        assert spec.document == reference.document, form
        assert summary_dict(spec) == summary_dict(reference), form
        assert canonical_yaml(spec) == once, form
    assert canonical_yaml(load_text(once)) == once
    channels, side = net[0][1], net[0][2]
    assert reference.graph.nodes[0].shape == (side, side, channels)
    assert reference.spec.train.max_epochs == net[2]["max_epochs"]
