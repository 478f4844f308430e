"""Real image data made on the spot for the streaming tests: class folders of small JPEGs
(each class a distinct, learnable pattern plus noise) and TFRecord shards of the same."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def class_image(label: int, rng: np.random.Generator, size: int, channels: int = 3) -> np.ndarray:
    """A ``(size, size, channels)`` uint8 image: class ``label`` lights one horizontal band
    (of 4) brightly, plus noise."""
    image = rng.integers(0, 60, (size, size, channels)).astype(np.uint8)
    band = size // 4
    image[(label % 4) * band : (label % 4 + 1) * band] += 150
    return image


def encode(image: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(buffer, fmt)
    return buffer.getvalue()


def write_image_folder(
    root: Path, per_class: int, size: int = 16, classes: int = 4, seed: int = 0
) -> Path:
    """``root/c0 .. c{classes-1}/NNNN.jpg``; returns ``root``."""
    rng = np.random.default_rng(seed)
    for label in range(classes):
        folder = root / f"c{label}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / f"{i:04d}.jpg").write_bytes(encode(class_image(label, rng, size)))
    return root


def write_tfrecords(
    prefix: Path,
    shards: int,
    per_shard: int,
    size: int = 16,
    classes: int = 4,
    image_key: str = "image/encoded",
    label_key: str = "image/class/label",
) -> list[Path]:
    """``prefix-0000N.tfrecord`` shards of tf.train.Example (JPEG bytes + int64 label)."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    paths = []
    for shard in range(shards):
        path = Path(f"{prefix}-{shard:05d}.tfrecord")
        with tf.io.TFRecordWriter(str(path)) as writer:
            for i in range(per_shard):
                label = (shard * per_shard + i) % classes
                feature = {
                    image_key: tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[encode(class_image(label, rng, size))])
                    ),
                    label_key: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                }
                writer.write(
                    tf.train.Example(
                        features=tf.train.Features(feature=feature)
                    ).SerializeToString()
                )
        paths.append(path)
    return paths


def prepare_tfds(data_dir: Path, train: int = 120, test: int = 40, size: int = 16) -> str:
    """Prepare (offline, no download) a tiny tfds data set ``kb_bands`` in ``data_dir``:
    ``train`` and ``test`` splits of ``(size, size, 3)`` images and 4 class labels."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core import registered

    def define() -> type:
        class KbBands(tfds.core.GeneratorBasedBuilder):
            """Band images made by :func:`class_image`."""

            VERSION = tfds.core.Version("1.0.0")
            code_path = None  # defined in a test module: no checksums file to look up

            def _info(self) -> tfds.core.DatasetInfo:
                return tfds.core.DatasetInfo(
                    builder=self,
                    features=tfds.features.FeaturesDict(
                        {
                            "image": tfds.features.Image(shape=(size, size, 3)),
                            "label": tfds.features.ClassLabel(names=["c0", "c1", "c2", "c3"]),
                        }
                    ),
                    supervised_keys=("image", "label"),
                )

            def _split_generators(self, dl_manager):
                return {
                    "train": self._generate_examples(train, 0),
                    "test": self._generate_examples(test, 1),
                }

            def _generate_examples(self, count, seed):
                rng = np.random.default_rng(seed)
                for i in range(count):
                    yield i, {"image": class_image(i % 4, rng, size), "label": i % 4}

        return KbBands

    try:
        builder = define()
    except ValueError:  # an earlier test of this process registered kb_bands: prepare unregistered
        with registered.skip_registration():
            builder = define()

    builder(data_dir=str(data_dir)).download_and_prepare()
    return "kb_bands"


def write_path_csv(
    csv_path: Path, per_class: int, size: int = 16, classes: int = 4, regression: bool = False
) -> Path:
    """Images in ``csv_path``'s folder under ``img/`` and a CSV listing them: ``path,label``
    (class names ``band0``..) or, with ``regression``, ``path,top,bottom``: the lit band's
    top and bottom edges as fractions of the height (two real-valued targets)."""
    rng = np.random.default_rng(1)
    (csv_path.parent / "img").mkdir(parents=True, exist_ok=True)
    lines = ["path,top,bottom" if regression else "path,label"]
    for i in range(per_class * classes):
        label = i % classes
        (csv_path.parent / "img" / f"{i:04d}.png").write_bytes(
            encode(class_image(label, rng, size), "PNG")
        )
        row = f"{label / classes:.4f},{(label + 1) / classes:.4f}" if regression else f"band{label}"
        lines.append(f"img/{i:04d}.png,{row}")
    csv_path.write_text("\n".join(lines) + "\n")
    return csv_path
