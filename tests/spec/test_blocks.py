"""Blocks: named, parameterised groups of layers instantiated with ``use``/``repeat``/``with``."""

from __future__ import annotations

import pytest

from kerasbuild import SpecError, load_text
from kerasbuild.spec.format import canonical_yaml

RESIDUAL = """
input: {shape: [8, 8, 4], name: image}
blocks:
  res:
    params: {filters: 4, act: rectify}
    layers:
      - {name: conv_a, type: Conv2DLayer, num_filters: $filters, filter_size: 3, pad: same, nonlinearity: $act}
      - {name: conv_b, type: Conv2DLayer, num_filters: $filters, filter_size: 3, pad: same, nonlinearity: linear}
      - {name: add, type: ElemwiseSumLayer, incomings: [$input, conv_b]}
layers:
  - {use: res, name: stem}
  - {use: res, name: body, repeat: 3, with: {act: tanh}}
  - {name: pool, type: GlobalPoolLayer, incoming: body}
"""  # noqa: E501


def _names(loaded):
    return [n.name for n in loaded.graph.nodes]


def test_generated_names_are_deterministic():
    loaded = load_text(RESIDUAL)
    assert _names(loaded) == [
        "image",
        "stem_conv_a",
        "stem_conv_b",
        "stem_add",
        "body_1_conv_a",
        "body_1_conv_b",
        "body_1_add",
        "body_2_conv_a",
        "body_2_conv_b",
        "body_2_add",
        "body_3_conv_a",
        "body_3_conv_b",
        "body_3_add",
        "pool",
    ]
    assert _names(load_text(RESIDUAL)) == _names(loaded)


def test_input_is_the_skip_connection_of_each_copy():
    graph = load_text(RESIDUAL).graph
    assert graph.by_name["stem_add"].inputs == ["image", "stem_conv_b"]
    assert graph.by_name["body_1_add"].inputs == ["stem_add", "body_1_conv_b"]
    assert graph.by_name["body_2_conv_a"].inputs == ["body_1_add"]
    assert graph.by_name["body_3_add"].inputs == ["body_2_add", "body_3_conv_b"]
    assert graph.by_name["pool"].inputs == ["body_3_add"]
    assert graph.total_params == 4 * 2 * (3 * 3 * 4 * 4 + 4)


def test_with_overrides_defaults_and_repeat_copies():
    spec = load_text(RESIDUAL).spec
    by_name = {layer.name: layer for layer in spec.layers}
    assert by_name["stem_conv_a"].nonlinearity == "rectify"
    assert [by_name[f"body_{k}_conv_a"].nonlinearity for k in (1, 2, 3)] == ["tanh"] * 3


def test_nested_blocks_pass_layer_names_down():
    loaded = load_text("""
input: {shape: [8, 8, 4], name: image}
blocks:
  unit:
    params: {shortcut: $input}
    layers:
      - {name: conv, type: Conv2DLayer, num_filters: 4, filter_size: 1}
      - {name: add, type: ElemwiseSumLayer, incomings: [$shortcut, conv]}
  projected:
    layers:
      - {name: proj, type: Conv2DLayer, num_filters: 4, filter_size: 1, incoming: $input}
      - {use: unit, name: main, incoming: $input, with: {shortcut: proj}}
layers:
  - {use: projected, name: p}
  - {use: unit, name: u, repeat: 2}
""")
    graph = loaded.graph
    assert _names(loaded) == [
        "image",
        "p_proj",
        "p_main_conv",
        "p_main_add",
        "u_1_conv",
        "u_1_add",
        "u_2_conv",
        "u_2_add",
    ]
    assert graph.by_name["p_main_conv"].inputs == ["image"]
    assert graph.by_name["p_main_add"].inputs == ["p_proj", "p_main_conv"]
    assert graph.by_name["u_1_add"].inputs == ["p_main_add", "u_1_conv"]
    assert graph.by_name["u_2_add"].inputs == ["u_1_add", "u_2_conv"]


def test_fmt_keeps_blocks_unexpanded():
    text = canonical_yaml(load_text(RESIDUAL))
    assert "use: res" in text and "repeat: 3" in text and "body_2_conv_a" not in text
    assert _names(load_text(text)) == _names(load_text(RESIDUAL))


def _error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_text(text, file="net.yaml")
    return str(info.value)


def test_unknown_block_suggests_the_closest():
    text = RESIDUAL.replace("{use: res, name: stem}", "{use: rse, name: stem}")
    assert _error(text) == (
        "net.yaml:11:6: layers.stem.use: unknown block 'rse' (did you mean 'res'?); "
        "defined blocks: res"
    )


def test_unknown_block_parameter_suggests_the_closest():
    text = RESIDUAL.replace("with: {act: tanh}", "with: {atc: tanh}")
    assert _error(text) == (
        "net.yaml:12:46: layers.body.with.atc: block 'res' has no parameter 'atc' "
        "(did you mean 'act'?); its parameters: filters, act"
    )


def test_unknown_dollar_reference_in_a_block():
    text = RESIDUAL.replace(
        "num_filters: $filters, filter_size: 3, pad: same, nonlinearity: $act",
        "num_filters: $filter, filter_size: 3, pad: same, nonlinearity: $act",
    )
    assert _error(text) == (
        "net.yaml:7:43: blocks.res.layers.0.num_filters: '$filter' is not a "
        "parameter of this block (did you mean 'filters'?); its parameters: filters, act"
    )


def test_required_block_parameter():
    text = RESIDUAL.replace(
        "params: {filters: 4, act: rectify}", "params: {filters: null, act: rectify}"
    )
    assert "block 'res' needs a value for parameter 'filters' in 'with'" in _error(text)


def test_bad_repeat():
    assert "repeat must be an integer >= 1, got 0" in _error(
        RESIDUAL.replace("repeat: 3", "repeat: 0")
    )


def test_blocks_using_themselves_are_refused():
    error = _error("""
input: {shape: [4]}
blocks:
  loop:
    layers:
      - {use: loop, name: again}
layers:
  - {use: loop, name: x}
""")
    assert "blocks nest deeper than" in error


def test_bad_parameter_value_is_located_at_the_use_that_gives_it():
    text = RESIDUAL.replace("{use: res, name: stem}", "{use: res, name: stem, with: {filters: -4}}")
    assert _error(text).splitlines() == [
        "net.yaml:11:35: layers.stem_conv_a.num_filters: Input should be greater than or equal to "
        "1, got -4",
        "net.yaml:11:35: layers.stem_conv_b.num_filters: Input should be greater than or equal to "
        "1, got -4",
    ]


def test_error_in_a_template_value_is_located_in_the_block():
    text = RESIDUAL.replace(
        "filter_size: 3, pad: same, nonlinearity: $act",
        "filter_size: 3, pad: sane, nonlinearity: $act",
    )
    lines = _error(text).splitlines()
    assert len(lines) == 4  # stem and the three copies of body
    assert (
        lines[0]
        == "net.yaml:7:82: layers.stem_conv_a.pad: Input should be 'valid', 'same' or 'full', "
        "got 'sane'"
    )
    assert lines[3].startswith("net.yaml:7:82: layers.body_3_conv_a.pad: ")
