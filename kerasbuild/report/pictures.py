"""Every picture of a run, of several runs or of a search, as ``(file name, caption, figure)``
(made one at a time, so only one figure is open), for ``kerasbuild plot`` (files) and
``kerasbuild report`` (one HTML page).

``kerasbuild plot`` dispatches on what it is given: a spec with ``--graph``; several run
directories (overlaid curves); a search directory; one run directory (loss curves, and with
``--errors`` / ``--image N`` the pictures that need the model).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError

Picture = tuple[str, str, Any]
"""``(file name, caption, matplotlib figure)``."""


@dataclass
class PictureOptions:
    """Which model-based pictures of a run to draw. ``errors``: confusion matrix and worst
    misclassified (classification), keypoints or residuals (regression). ``image``: index in
    the test split of the image whose activations, occlusion and saliency maps are drawn
    (None: none). ``layer``: the layer whose activations are drawn (default: the first
    feature map). ``filters``: a convolution layer whose kernels are drawn."""

    errors: bool = False
    image: int | None = None
    layer: str | None = None
    filters: str | None = None

    @property
    def needs_model(self) -> bool:
        return self.errors or self.image is not None or self.filters is not None


def run_pictures(run_dir: Path, options: PictureOptions) -> Iterator[Picture]:
    """The pictures of one run (an ensemble's loss picture overlays its members' curves)."""
    from ..runs.plots import loss_figure
    from ..runs.plots_compare import compare_figure, ensemble_members, run_history
    from ..runs.rundir import read_run

    info = read_run(run_dir)
    members = ensemble_members(run_dir)
    if members:
        yield (
            "loss.png",
            "validation curves of the ensemble's members",
            compare_figure(members, info.get("name", "")),
        )
    else:
        yield (
            "loss.png",
            "training and validation loss per epoch",
            loss_figure(run_history(run_dir), info.get("name", "")),
        )
    if options.needs_model:
        yield from model_pictures(run_dir, options)


def model_pictures(run_dir: Path, options: PictureOptions) -> Iterator[Picture]:
    """Pictures that need ``model_best.keras`` and the test split."""
    from ..runs.plots import filters_figure
    from ..runs.plots_errors import predict_test_split
    from ..runs.rundir import load_run_model

    model = load_run_model(run_dir)
    if options.filters is not None:
        name, figure = filters_figure(model, options.filters)
        yield f"filters_{name}.png", f"kernels of {name}", figure
    if not options.errors and options.image is None:
        return
    preds = predict_test_split(run_dir, model)
    if options.errors:
        yield from error_pictures(preds)
    if options.image is not None:
        yield from image_pictures(model, preds, options.image, options.layer)


def error_pictures(preds: Any) -> Iterator[Picture]:
    """Confusion matrix and worst misclassified, or keypoints / residuals."""
    from ..runs import plots_errors as pe

    if preds.info.get("task") == "classification":
        matrix = pe.confusion(preds)
        labels = pe.class_labels(preds.info, matrix.shape[0])
        yield (
            "confusion.png",
            "confusion matrix on the test split",
            pe.confusion_figure(matrix, labels),
        )
        worst = pe.worst_misclassified(preds)
        if len(worst):
            yield (
                "misclassified.png",
                "worst misclassified test images",
                pe.misclassified_figure(preds, worst),
            )
        return
    names = pe.keypoint_names(preds.info.get("target_names"))
    if names and preds.x.ndim == 4:
        yield (
            "keypoints.png",
            "true and predicted keypoints on test images",
            pe.keypoints_figure(preds, names, pe.flip_pairs(preds.loaded, names)),
        )
    else:
        yield (
            "residuals.png",
            "predicted against true targets on the test split",
            pe.residuals_figure(preds),
        )


def image_pictures(model: Any, preds: Any, index: int, layer: str | None) -> Iterator[Picture]:
    """Activations of ``layer``, and for classification the occlusion and saliency maps, of
    test image ``index``."""
    from ..runs import plots_inspect as pi

    if not 0 <= index < len(preds.x):
        raise KerasbuildError(
            f"--image {index}: the test split has {len(preds.x)} images (0..{len(preds.x) - 1})"
        )
    image = preds.x[index]
    if image.ndim != 3:
        raise KerasbuildError(
            f"--image needs image inputs (height, width, channels); this run's inputs "
            f"have shape {list(image.shape)}"
        )
    name, values = pi.layer_activations(model, image, layer)
    yield (
        f"activations_{name}.png",
        f"activations of {name} for test image {index}",
        pi.activations_figure(name, values),
    )
    if preds.info.get("task") != "classification":
        return
    target = int(preds.y[index])
    label = f"class {target}"
    yield (
        "occlusion.png",
        f"occlusion map of test image {index} ({label})",
        pi.map_figure(
            image, pi.occlusion_map(model, image, target), f"drop in p({label})", "magma"
        ),
    )
    yield (
        "saliency.png",
        f"gradient saliency of test image {index} ({label})",
        pi.map_figure(
            image, pi.saliency_map(model, image, target), f"|d p({label}) / d pixel|", "hot"
        ),
    )


def search_pictures(project: Path) -> Iterator[Picture]:
    """Objective against each hyper-parameter, parallel coordinates, best so far."""
    from ..tuning.plots import SEARCH_FIGURES, read_results

    results = read_results(project)
    for file_name, (caption, figure) in SEARCH_FIGURES.items():
        yield file_name, caption, figure(results)
