"""Pictures from real runs: the files are PNGs of the stated size and the numbers behind
them are right (confusion matrix sums to the test count, the occlusion and saliency maps of a
net that only sees the right half are flat on the left half, best-so-far is monotone)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from kerasbuild.cli import app
from kerasbuild.report.pictures import PictureOptions
from kerasbuild.report.plot_command import plot_paths
from kerasbuild.spec.loader import load_spec

SPECS = Path(__file__).resolve().parents[2] / "specs"


def png_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of a PNG that is not one flat colour."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("L"))
        assert pixels.std() > 5, f"{path} is (almost) one colour"
        return image.size


def test_graph_is_drawn_without_tensorflow(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from kerasbuild.spec.loader import load_spec\n"
        "from kerasbuild.runs.plots_graph import graph_dot, graph_png, has_graphviz\n"
        f"loaded = load_spec({str(SPECS / 'small_resnet32.yaml')!r})\n"
        f"Path({str(tmp_path / 'mpl.png')!r}).write_bytes(graph_png(loaded, use_graphviz=False))\n"
        "if has_graphviz():\n"
        f"    Path({str(tmp_path / 'dot.png')!r}).write_bytes(graph_png(loaded))\n"
        f"    Path({str(tmp_path / 'g.dot')!r}).write_text(graph_dot(loaded).source)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was "
        "imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    width, height = png_size(tmp_path / "mpl.png")
    assert height > 2000 and width > 200  # 52 layers in rows
    if not (tmp_path / "dot.png").exists():
        pytest.skip("graphviz 'dot' is not installed; the matplotlib drawing was checked")
    assert png_size(tmp_path / "dot.png")[1] > 2000
    source = (tmp_path / "g.dot").read_text()
    assert source.count("subgraph cluster_") == 7  # stem, stage1_1, stage1_2, stage2_1, ...
    loaded = load_spec(SPECS / "small_resnet32.yaml")
    assert (
        source.count("->") == sum(len(n.inputs) for n in loaded.graph.nodes) == 57
    )  # chain + shortcuts
    assert 'stage1_1_add [label="stage1_1_add\nElemwiseSumLayer\n32x32x16 | no params"' in source


def test_loss_plot_has_plain_log_labels_and_whole_epochs(tmp_path: Path) -> None:
    from kerasbuild.runs.plots import loss_figure

    history = [{"epoch": e, "loss": 2.3 / e, "val_loss": 2.4 / e} for e in range(1, 6)]
    fig = loss_figure(history)
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [
        t.get_text() for t in ax.get_yticklabels(minor=False) + ax.get_yticklabels(minor=True)
    ]
    assert labels and not any("10^" in t or "times" in t or "$" in t for t in labels), labels
    assert {"0.5", "1", "2"} <= set(labels)
    shown = [t for t in ax.get_xticks() if 1 <= t <= 5]
    assert shown and all(float(t).is_integer() for t in ax.get_xticks())


@pytest.mark.slow
def test_classification_pictures_and_numbers(right_half_run: Path, tmp_path: Path) -> None:
    from kerasbuild.runs import plots_errors as pe
    from kerasbuild.runs import plots_inspect as pi
    from kerasbuild.runs.rundir import load_run_model

    written = plot_paths([right_half_run], PictureOptions(errors=True, image=3), output=tmp_path)
    sizes = {p.name: png_size(p) for p in written}
    assert sizes == {
        "loss.png": (600, 400),
        "confusion.png": (600, 560),
        "misclassified.png": (480, 530),
        "activations_conv1.png": (360, 250),
        "occlusion.png": (900, 320),
        "saliency.png": (900, 320),
    }

    model = load_run_model(right_half_run)
    preds = pe.predict_test_split(right_half_run, model)
    metrics = json.loads((right_half_run / "metrics.json").read_text())
    matrix = pe.confusion(preds)
    assert matrix.shape == (10, 10) and matrix.sum() == metrics["n_test"] == 120
    assert np.trace(matrix) / 120 == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    worst = pe.worst_misclassified(preds)
    assert len(worst) == 16
    p_true = preds.outputs[worst, preds.y[worst].astype(int)]
    assert (preds.outputs[worst].argmax(axis=1) != preds.y[worst]).all() and (
        np.diff(p_true) >= 0
    ).all()

    image, target = preds.x[3], int(preds.y[3])
    occlusion = pi.occlusion_map(model, image, target, patch=7)
    assert (
        np.abs(occlusion[:, : 14 - 7 + 1]).max() < 1e-6
    )  # every patch covering these is in the left half
    assert np.abs(occlusion[:, 14:]).max() > 1e-3
    saliency = pi.saliency_map(model, image, target)
    assert saliency.shape == (28, 28) and saliency[:, :14].max() == 0 and saliency[:, 14:].max() > 0
    name, values = pi.layer_activations(model, image)
    assert name == "conv1" and values.shape == (24, 10, 6)  # 28x14 slice -> 5x5 conv -> 24x10


@pytest.mark.slow
def test_keypoints_drawn_with_flip_pairs(keypoints_run: Path, tmp_path: Path) -> None:
    from kerasbuild.runs import plots_errors as pe
    from kerasbuild.runs.rundir import load_run_model

    written = plot_paths([keypoints_run], PictureOptions(errors=True), output=tmp_path)
    assert {p.name: png_size(p) for p in written} == {
        "loss.png": (600, 400),
        "keypoints.png": (480, 450),
    }
    preds = pe.predict_test_split(keypoints_run, load_run_model(keypoints_run))
    names = pe.keypoint_names(preds.info["target_names"])
    assert names == ["left_eye_center", "right_eye_center"]
    assert pe.flip_pairs(preds.loaded, names) == [(0, 1)]
    assert preds.y.shape == preds.outputs.shape == (30, 4)


@pytest.mark.slow
def test_compare_runs_and_ensemble_from_the_command_line(
    right_half_run: Path, dense_run: Path, tmp_path: Path
) -> None:
    from kerasbuild.runs.ensemble import ensemble_runs

    result = CliRunner().invoke(
        app, ["plot", str(right_half_run), str(dense_run), "-o", str(tmp_path / "c.png")]
    )
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "c.png") == (1100, 420)
    ensemble_runs([right_half_run, dense_run], tmp_path / "ens")
    result = CliRunner().invoke(app, ["plot", str(tmp_path / "ens")])
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "ens" / "loss.png") == (1100, 420)  # the members' curves


@pytest.mark.slow
def test_search_pictures(search_dir: Path, tmp_path: Path) -> None:
    from kerasbuild.tuning.plots import best_so_far, completed_trials, read_results

    written = plot_paths([search_dir], PictureOptions(), output=tmp_path)
    sizes = {p.name: png_size(p) for p in written}
    assert sizes == {
        "search_objective.png": (720, 300),
        "search_parallel.png": (600, 420),
        "search_best_so_far.png": (600, 400),
    }
    results = read_results(search_dir)
    scores = [t["score"] for t in completed_trials(results)]
    assert len(scores) == 3
    best = best_so_far(scores, "max")
    assert best[-1] == max(scores) == results["best"]["score"] and all(np.diff(best) >= 0)
