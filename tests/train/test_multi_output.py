"""A model with two outputs trained on scikit-learn's digits: the digit (classification) and
its mean ink (regression), one target array per output in an npz file; per-output losses,
metrics and loss weights; evaluate and a SavedModel export with one signature output per
output layer. Also the located errors of a multi-output spec's ``train.outputs`` and data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kerasbuild.errors import SpecError
from kerasbuild.spec.loader import load_text

SPEC = """\
name: digit_and_ink
input: {shape: [8, 8, 1], name: image}
layers:
  - {name: conv1, type: Conv2DLayer, num_filters: 8, filter_size: 3}
  - {name: hidden, type: DenseLayer, num_units: 32}
  - {name: digit, type: DenseLayer, num_units: 10, nonlinearity: softmax}
  - {name: ink, type: DenseLayer, num_units: 1, nonlinearity: linear, incoming: hidden}
outputs: [digit, ink]
data: {source: digits.npz, y_key: {digit: y, ink: y_ink}, scale: 0.0625, limit: 1600,
       test_size: 320, valid_size: 256, seed: 0}
train:
  update: adam
  update_learning_rate: 0.01
  batch_size: 64
  max_epochs: 5
  seed: 0
  verbose: 0
  outputs:
    digit: {metrics: [accuracy]}
    ink: {regression: true, metrics: [mae], loss_weight: 0.5}
"""


def write_digits(folder) -> None:
    """sklearn's 1,797 digits as ``x`` (0..16), ``y`` (the digit) and ``y_ink`` (the image's
    mean pixel value as a z-score: mean 0, standard deviation 1, a regression target)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.float32)
    ink = x.mean(axis=(1, 2))
    ink = ((ink - ink.mean()) / ink.std()).astype(np.float32)
    np.savez(folder / "digits.npz", x=x, y=digits.target.astype(np.int64), y_ink=ink)


def spec_errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_text(text, "spec.yaml")
    return [str(p) for p in info.value.problems]


@pytest.fixture(scope="module")
def multi_run(tmp_path_factory):
    from kerasbuild.runs.runner import train
    from kerasbuild.spec.loader import load_spec

    folder = tmp_path_factory.mktemp("multi")
    write_digits(folder)
    (folder / "spec.yaml").write_text(SPEC)
    result = train(load_spec(folder / "spec.yaml"), folder / "run")
    return folder, result


@pytest.mark.slow
def test_both_outputs_learn_and_the_total_loss_weighs_them(multi_run):
    folder, result = multi_run
    last = result.history[-1]
    assert last["val_digit_accuracy"] > 0.8
    # the ink z-score: always answering its mean (0) errs by about 0.8 on average
    assert last["val_ink_mae"] < 0.5
    # Keras: loss = sum(weight * output loss); exact per epoch as every batch is full (1,024
    # training and 256 validation examples in batches of 64)
    for row in result.history:
        for prefix in ("", "val_"):
            total = row[f"{prefix}digit_loss"] + 0.5 * row[f"{prefix}ink_loss"]
            assert row[f"{prefix}loss"] == pytest.approx(total, rel=1e-5)
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    assert metrics["n_test"] == 320
    assert metrics["test_digit_accuracy"] > 0.8
    run = json.loads((folder / "run" / "run.json").read_text())
    assert run["targets"]["ink"]["task"] == "regression"
    assert run["targets"]["digit"]["task"] == "classification"
    assert run["monitor"] == "val_loss"


@pytest.mark.slow
def test_evaluate_reports_each_output(multi_run):
    from kerasbuild.runs.evaluate import evaluate_run

    folder, _ = multi_run
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    scores = evaluate_run(folder / "run")
    assert scores["n"] == 320
    assert scores["digit_accuracy"] == pytest.approx(metrics["test_digit_accuracy"], abs=1e-6)
    assert scores["ink_mae"] == pytest.approx(metrics["test_ink_mae"], abs=1e-6)
    on_file = evaluate_run(folder / "run", str(folder / "digits.npz"))
    assert on_file["n"] == 1797 and on_file["digit_accuracy"] > 0.8


@pytest.mark.slow
def test_predict_writes_each_output_from_the_run_and_from_its_export(multi_run, tmp_path):
    import csv

    from kerasbuild.export import export
    from kerasbuild.export import predict as _exported  # noqa: F401  (registers exports)
    from kerasbuild.runs.predict import predict_file

    folder, _ = multi_run
    data = np.load(folder / "digits.npz")
    np.savez(tmp_path / "x.npz", x=data["x"][:40, :, :, None])
    exported = export(folder / "run", tmp_path / "served")
    for model in (folder / "run", exported.path):
        summary = predict_file(model, [tmp_path / "x.npz"], tmp_path / "p.npz")
        assert summary["shape"] == {"digit": [40, 10], "ink": [40, 1]}
        got = np.load(tmp_path / "p.npz")
        assert sorted(got.files) == ["digit/labels", "digit/y", "files", "ink/y"]
        assert (got["digit/labels"] == data["y"][:40]).mean() >= 0.8, model
        assert np.abs(got["ink/y"][:, 0] - data["y_ink"][:40]).mean() < 0.5, model
        (tmp_path / "p.npz").unlink()
    predict_file(folder / "run", [tmp_path / "x.npz"], tmp_path / "p.csv")
    with open(tmp_path / "p.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "digit", *(f"digit_p_{d}" for d in range(10)), "ink_target_0"]
    assert len(rows) == 41
    assert np.mean([int(r[1]) == d for r, d in zip(rows[1:], data["y"][:40])]) >= 0.8


@pytest.mark.slow
def test_savedmodel_signature_names_each_output(multi_run, tmp_path):
    from export.conftest import fresh_python  # tests/export, as pytest imports it

    from kerasbuild.export import export

    folder, _ = multi_run
    result = export(folder / "run", tmp_path / "served")
    images = np.load(folder / "digits.npz")["x"][:20, :, :, None]
    got = fresh_python(
        f"""
import tensorflow as tf
fn = tf.saved_model.load({str(result.path)!r}).signatures["serving_default"]
out = fn(image=tf.constant(inputs["image"]))
result = {{k: v.numpy().tolist() for k, v in out.items()}}
""",
        image=images,
    )
    assert sorted(got) == ["digit", "ink"]
    digit, ink = np.asarray(got["digit"]), np.asarray(got["ink"])
    assert digit.shape == (20, 10) and ink.shape == (20, 1)
    np.testing.assert_allclose(digit.sum(axis=1), 1.0, atol=1e-5)
    labels = np.load(folder / "digits.npz")["y"][:20]
    assert (digit.argmax(axis=1) == labels).mean() >= 0.8
    truth = np.load(folder / "digits.npz")["y_ink"][:20]
    assert np.abs(ink[:, 0] - truth).mean() < 0.5


def test_a_train_outputs_name_that_is_no_output_is_located_with_a_suggestion():
    problems = spec_errors(SPEC.replace("    ink: {regression", "    inks: {regression"))
    assert any(
        p.startswith("spec.yaml:") and "train.outputs.inks" in p and "did you mean 'ink'" in p
        for p in problems
    ), problems
    assert any("no entry for output layer(s) ink" in p for p in problems), problems


def test_a_multi_output_spec_without_train_outputs_is_refused():
    text = SPEC.split("  outputs:\n")[0]
    (problem,) = spec_errors(text)
    assert problem.startswith("spec.yaml:11:") and "train" in problem
    assert "2 outputs (digit, ink)" in problem and "outputs: {digit: {}, ink: {}}" in problem


def test_a_metric_of_the_other_task_is_located_at_the_output():
    (problem,) = spec_errors(SPEC.replace("metrics: [mae]", "metrics: [accuracy]"))
    assert problem.startswith("spec.yaml:20:")
    assert "train.outputs.ink.metrics" in problem
    assert "metric 'accuracy' does not fit output 'ink', a regression output" in problem
    assert "mae, mse, rmse" in problem


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ('{source: "builtin:digits"}', "data.source", "a builtin source gives one target"),
        ("{source: digits.npz}", "data.y_key", "y_key: {digit: y_digit, ink: y_ink}"),
        ("{source: digits.npz, y_key: {digit: y, ink_: y_ink}}", "data.y_key.ink_", "'ink'"),
    ],
)
def test_data_that_cannot_give_each_output_a_target_is_located(data, field, expected):
    text = SPEC.replace(
        "{source: digits.npz, y_key: {digit: y, ink: y_ink}, scale: 0.0625, limit: 1600,\n"
        "       test_size: 320, valid_size: 256, seed: 0}",
        data,
    )
    problems = spec_errors(text)
    assert any(field in p and expected in p for p in problems), problems
    assert all(p.startswith("spec.yaml:9:") for p in problems), problems


def test_a_single_output_spec_keeps_a_single_target_array():
    (problem,) = spec_errors(
        SPEC.replace("outputs: [digit, ink]\n", "")
        .replace(
            "  - {name: ink, type: DenseLayer, num_units: 1, nonlinearity: linear, "
            "incoming: hidden}\n",
            "",
        )
        .split("  outputs:\n")[0]
    )
    assert "data.y_key" in problem and "the model has one output" in problem
