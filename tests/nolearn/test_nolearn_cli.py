"""``kerasbuild from-nolearn``: files written, problems printed as SCRIPT.py:LINE, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from kerasbuild.cli import app
from kerasbuild.spec.loader import load_spec

SCRIPTS = Path(__file__).parent / "scripts"
runner = CliRunner()


def test_clean_script_exits_0_and_writes_one_spec_per_net(tmp_path, monkeypatch):
    script = tmp_path / "kfkd.py"
    shutil.copy(SCRIPTS / "kfkd.py", script)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["from-nolearn", str(script)])
    assert result.exit_code == 0, result.output
    assert "wrote net1.yaml (net1: 3 layers, 924,730 params)" in result.output
    assert "wrote net2.yaml (net2: 10 layers, 8,051,502 params)" in result.output
    assert load_spec(tmp_path / "net1.yaml").graph.total_params == 924_730
    assert load_spec(tmp_path / "net2.yaml").graph.total_params == 8_051_502


def test_output_gets_a_suffix_per_net(tmp_path):
    out = tmp_path / "specs" / "facial.yaml"
    result = runner.invoke(app, ["from-nolearn", str(SCRIPTS / "kfkd.py"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["facial_net1.yaml", "facial_net2.yaml"]


def test_single_net_goes_to_output(tmp_path):
    out = tmp_path / "net3.yaml"
    result = runner.invoke(app, ["from-nolearn", str(SCRIPTS / "kfkd_net3.py"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# Converted from kfkd_net3.py:86 by kerasbuild from-nolearn.\n")
    assert load_spec(out).spec.train.batch_iterator_train.type == "FlipBatchIterator"


def test_untranslatable_part_exits_1_and_still_writes(tmp_path):
    script = tmp_path / "partial.py"
    script.write_text(
        "from lasagne.layers import InputLayer, DenseLayer\n"
        "from nolearn.lasagne import NeuralNet\n"
        "net = NeuralNet(\n"
        "    layers=[('input', InputLayer), ('out', DenseLayer)],\n"
        "    input_shape=(None, 20), out_num_units=3,\n"
        "    on_epoch_finished=[lambda nn, history: None],\n"
        "    max_epochs=7,\n"
        ")\n"
    )
    out = tmp_path / "partial.yaml"
    result = runner.invoke(app, ["from-nolearn", str(script), "-o", str(out)])
    assert result.exit_code == 1
    assert f"{script}:6: on_epoch_finished: a lambda" in result.output
    loaded = load_spec(out)
    assert loaded.graph.total_params == 20 * 3 + 3
    assert loaded.spec.train.max_epochs == 7
    assert "# NOT TRANSLATED (partial.py:6): on_epoch_finished: a lambda" in out.read_text()


def test_no_neuralnet_and_bad_output_are_errors(tmp_path):
    script = tmp_path / "plain.py"
    script.write_text("print('hello')\n")
    result = runner.invoke(app, ["from-nolearn", str(script)])
    assert result.exit_code == 1 and "no NeuralNet(...) call found" in result.output
    result = runner.invoke(
        app, ["from-nolearn", str(SCRIPTS / "kfkd_net3.py"), "-o", str(tmp_path / "x.txt")]
    )
    assert result.exit_code == 1 and "must end in .yaml" in result.output
    assert not (tmp_path / "x.txt").exists()
    broken = tmp_path / "broken.py"
    broken.write_text("net = NeuralNet(\n")
    result = runner.invoke(app, ["from-nolearn", str(broken)])
    assert result.exit_code == 1 and f"{broken}:1: syntax error" in result.output


def test_spec_that_does_not_validate_is_still_written(tmp_path):
    script = tmp_path / "custom.py"
    script.write_text(
        "from lasagne.layers import InputLayer, DenseLayer\n"
        "from nolearn.lasagne import NeuralNet\n"
        "from mylayers import MaxoutLayer\n"
        "net = NeuralNet(\n"
        "    layers=[('input', InputLayer), ('maxout', MaxoutLayer), ('out', DenseLayer)],\n"
        "    input_shape=(None, 20), maxout_pool_size=2, out_num_units=3,\n"
        ")\n"
    )
    out = tmp_path / "custom.yaml"
    result = runner.invoke(app, ["from-nolearn", str(script), "-o", str(out)])
    assert result.exit_code == 1
    assert "wrote" in result.output and "does not validate" in result.output
    assert (
        f"{script}:5: layer 'maxout': MaxoutLayer is not a layer kerasbuild knows" in result.output
    )
    text = out.read_text()
    assert "{name: maxout, type: MaxoutLayer, pool_size: 2}" in text
    validate = runner.invoke(app, ["validate", str(out)])
    assert validate.exit_code == 1 and "unknown layer type 'MaxoutLayer'" in validate.output
