"""``.keras`` files are loaded only through :func:`kerasbuild.safe_load.load_keras_model`:
safe mode always on, ``.h5`` refused, corrupt files reported without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kerasbuild.errors import KerasbuildError
from kerasbuild.safe_load import load_keras_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPEC = {
    "name": "tiny",
    "input": {"shape": [6]},
    "layers": [
        {"name": "hidden", "type": "DenseLayer", "num_units": 4, "nonlinearity": "scaled_tanh"},
        {"name": "out", "type": "DenseLayer", "num_units": 3, "nonlinearity": "softmax"},
    ],
}


def test_lambda_model_is_refused_by_safe_mode(tmp_path):
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(keras.layers.Dense(3)(inputs))
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(KerasbuildError) as info:
        load_keras_model(path)
    message = str(info.value)
    assert "refused by Keras safe mode" in message and "Lambda" in message
    assert str(path) in message
    assert info.value.exit_code == 1


def test_spec_model_round_trips_in_safe_mode(tmp_path):
    from kerasbuild.build import build_model

    model = build_model(SPEC)
    assert model.count_params() == 6 * 4 + 4 + 4 * 3 + 3
    path = tmp_path / "tiny.keras"
    model.save(path)
    loaded = load_keras_model(path)
    assert loaded.count_params() == 43
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


REFUSALS = textwrap.dedent("""
    import sys
    from pathlib import Path
    from kerasbuild.errors import KerasbuildError
    from kerasbuild.safe_load import load_keras_model
    root = Path(sys.argv[1])
    (root / "model.h5").write_bytes(b"\\x89HDF\\r\\n\\x1a\\n" + bytes(64))
    (root / "model.hdf5").write_bytes(b"\\x89HDF\\r\\n\\x1a\\n" + bytes(64))
    (root / "broken.keras").write_bytes(b"not a zip archive")
    (root / "model.pkl").write_bytes(b"\\x80\\x04K\\x01.")
    for name in ("model.h5", "model.hdf5", "broken.keras", "missing.keras", "model.pkl"):
        try:
            load_keras_model(root / name)
            print(name, "LOADED")
        except KerasbuildError as exc:
            print(name, "|", exc)
    print("keras imported:", "keras" in sys.modules, "tensorflow" in sys.modules)
""")


def test_refusals_happen_before_keras_is_imported(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", REFUSALS, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" | ", 1) for line in result.stdout.splitlines() if " | " in line)
    assert "HDF5 model files (.h5) are refused" in lines["model.h5"]
    assert "HDF5 model files (.h5) are refused" in lines["model.hdf5"]
    assert "not a valid .keras archive" in lines["broken.keras"]
    assert "model file not found" in lines["missing.keras"]
    assert "expected a .keras model file" in lines["model.pkl"]
    assert "keras imported: False False" in result.stdout


@pytest.mark.slow
def test_export_refuses_lambda_and_h5_models_cleanly(tmp_path):
    import keras

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x + 1.0)(inputs)).save(
        tmp_path / "lambda.keras"
    )
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for name, message in (
        ("lambda.keras", "refused by Keras safe mode"),
        ("model.h5", "HDF5 model files (.h5) are refused"),
    ):
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "kerasbuild"),
                "export",
                str(tmp_path / name),
                "--out",
                str(tmp_path / "models"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert message in result.stderr
    models = tmp_path / "models"
    assert not models.exists() or not any(models.iterdir())
