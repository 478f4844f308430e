"""What the net sees, for one input image (nolearn's ``plot_conv_activity``,
``plot_occlusion`` and ``plot_saliency``):

- the activations of one layer, one grey tile per channel;
- an occlusion map (Zeiler & Fergus 2014): how much the probability of the image's class
  drops when a grey square hides each part of the image;
- a gradient saliency map (Simonyan et al. 2014): the largest absolute gradient of that
  class's score over the channels of each pixel.

``image`` is one preprocessed model input ``(height, width, channels)``; the model is a
Keras model with one image input. Maps are ``(height, width)`` float arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import KerasbuildError
from .plots import image_grid, pyplot


def spatial_layers(model: Any) -> list[str]:
    """Names of the layers whose output is a feature map ``(batch, height, width, channels)``,
    layers with a convolution kernel first."""
    maps = [layer for layer in model.layers[1:] if len(layer.output.shape) == 4]
    return [
        layer.name for layer in sorted(maps, key=lambda lay: getattr(lay, "kernel", None) is None)
    ]


def layer_activations(
    model: Any, image: np.ndarray, layer: str | None = None
) -> tuple[str, np.ndarray]:
    """``(layer name, activations (height, width, channels))`` of ``layer`` for ``image``
    (default: the first layer with a feature-map output)."""
    import keras

    names = spatial_layers(model)
    if layer is None:
        if not names:
            raise KerasbuildError(
                "the model has no layer with a feature-map output to draw; pass --layer"
            )
        layer = names[0]
    try:
        output = model.get_layer(layer).output
    except ValueError:
        raise KerasbuildError(
            f"no layer named '{layer}'; layers with feature maps: {', '.join(names) or 'none'}"
        ) from None
    probe = keras.Model(model.input, output)
    values = np.asarray(probe(image[None], training=False))[0]
    if values.ndim == 1:
        values = values[None, None, :]
    if values.ndim != 3:
        raise KerasbuildError(
            f"layer '{layer}' has output shape {list(values.shape)}; choose a layer "
            f"with a feature map: {', '.join(names) or 'none'}"
        )
    return layer, values


def class_of(model: Any, image: np.ndarray) -> int:
    """The class the model predicts for ``image``."""
    return int(np.argmax(np.asarray(model(image[None], training=False))[0]))


def occlusion_map(
    model: Any,
    image: np.ndarray,
    target: int,
    *,
    patch: int | None = None,
    stride: int = 1,
    batch_size: int = 256,
) -> np.ndarray:
    """``(height, width)``: mean drop in the probability of class ``target`` over every
    ``patch`` x ``patch`` square covering the pixel, when that square is set to the image's
    mean value (patch default: a quarter of the shorter side, at least 3)."""
    height, width = image.shape[:2]
    patch = patch or max(3, min(height, width) // 4)
    base = float(np.asarray(model(image[None], training=False))[0, target])
    fill = image.mean(axis=(0, 1))
    corners = [
        (r, c)
        for r in range(0, height - patch + 1, stride)
        for c in range(0, width - patch + 1, stride)
    ]
    drop = np.zeros((height, width), np.float64)
    cover = np.zeros((height, width), np.float64)
    for start in range(0, len(corners), batch_size):
        chunk = corners[start : start + batch_size]
        batch = np.repeat(image[None], len(chunk), axis=0)
        for k, (r, c) in enumerate(chunk):
            batch[k, r : r + patch, c : c + patch] = fill
        probs = np.asarray(model(batch, training=False))[:, target]
        for (r, c), p in zip(chunk, probs, strict=True):
            drop[r : r + patch, c : c + patch] += base - float(p)
            cover[r : r + patch, c : c + patch] += 1
    return drop / np.maximum(cover, 1)


def saliency_map(model: Any, image: np.ndarray, target: int) -> np.ndarray:
    """``(height, width)``: max over channels of ``|d score_target / d pixel|``."""
    import tensorflow as tf

    x = tf.convert_to_tensor(image[None], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = model(x, training=False)[0, target]
    grad = tape.gradient(score, x)
    return np.abs(np.asarray(grad)[0]).max(axis=-1)


def activations_figure(name: str, values: np.ndarray) -> Any:
    """One tile per channel of ``values`` ``(height, width, channels)`` (at most 64)."""
    channels = min(values.shape[-1], 64)
    tiles = np.transpose(values[..., :channels], (2, 0, 1))
    shown = "" if channels == values.shape[-1] else f" (first {channels})"
    return image_grid(
        tiles,
        f"{name}: {values.shape[-1]} channels {values.shape[0]}x{values.shape[1]}{shown}",
        cmap="viridis",
    )


def map_figure(image: np.ndarray, heat: np.ndarray, title: str, cmap: str) -> Any:
    """The image next to ``heat`` ``(height, width)`` and the heat laid over the image; 900x320."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), dpi=100)
    grey = image.mean(axis=-1) if image.shape[-1] != 3 else image
    axes[0].imshow(grey, cmap="gray")
    axes[0].set_title("input")
    shown = axes[1].imshow(heat, cmap=cmap)
    axes[1].set_title(title)
    fig.colorbar(shown, ax=axes[1], fraction=0.046)
    axes[2].imshow(grey, cmap="gray")
    axes[2].imshow(heat, cmap=cmap, alpha=0.5)
    axes[2].set_title("overlay")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig
