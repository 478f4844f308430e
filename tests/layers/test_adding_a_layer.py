"""docs/adding-a-layer.md is right: its example module, and nothing else, makes a new layer
type known to validation, the builder, the reference docs, the JSON Schema and from-nolearn."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-a-layer.md"

CHECK = textwrap.dedent("""
    import json, sys
    import numpy as np
    import toy_family  # registers ConstantScaleLayer, as a family module does

    from kerasbuild import build_model, load_spec
    from kerasbuild.docs import generate
    from kerasbuild.errors import SpecError
    from kerasbuild.layers import entries, lookup
    from kerasbuild.nolearn.convert import from_nolearn
    from kerasbuild.spec.model import document_model

    spec = {"layers": [{"name": "x", "type": "InputLayer", "shape": [4, 4, 2]},
                       {"name": "twice", "type": "ScaleByLayer", "scale": 3}]}
    loaded = load_spec(spec)
    try:
        load_spec({"layers": [spec["layers"][0], {"name": "bad", "type": "ConstantScaleLayer",
                                                  "scale": "big"}]})
        refused = ""
    except SpecError as exc:
        refused = str(exc)
    model = build_model(loaded)
    x = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
    out = model.predict(x, verbose=0)
    entry = lookup("ConstantScaleLayer")
    script = ("from lasagne.layers import InputLayer\\n"
              "from nolearn.lasagne import NeuralNet\\n"
              "l = InputLayer((None, 2, 4, 4))\\n"
              "l = ConstantScaleLayer(l, 5.0)\\n"
              "net = NeuralNet(layers=l, max_epochs=1)\\n")
    converted = from_nolearn(script, "toy.py")
    layers = converted.nets[0].document["layers"] if converted.nets else []
    print(json.dumps({
        "shape": list(loaded.graph.by_name["twice"].shape),
        "params": loaded.graph.total_params,
        "refused": refused,
        "max_error": float(np.abs(out - 3 * x).max()),
        "family": entry.family, "last": entries()[-1].name,
        "docs": generate(),
        "schema": json.dumps(document_model().model_json_schema()),
        "nolearn": layers[-1] if layers else None,
    }))
""")


@pytest.mark.slow
def test_the_documented_module_registers_a_layer_everywhere(tmp_path):
    module = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    (tmp_path / "toy_family.py").write_text(module)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["shape"] == [4, 4, 2] and result["params"] == 0
    assert "layers.bad.scale" in result["refused"] and "valid number" in result["refused"]
    assert result["max_error"] == 0.0
    assert (result["family"], result["last"]) == ("toy_family", "ConstantScaleLayer")
    assert "## Family: toy_family" in result["docs"]
    assert "ConstantScaleLayer(scale=2.0): multiplies its input by `scale`" in result["docs"]
    assert '"ConstantScaleLayer"' in result["schema"] and '"ScaleByLayer"' in result["schema"]
    assert result["nolearn"] is not None and result["nolearn"]["type"] == "ConstantScaleLayer"
    assert result["nolearn"]["scale"] == 5.0
