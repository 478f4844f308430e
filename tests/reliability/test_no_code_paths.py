"""A static check of the package: nothing in ``kerasbuild/`` evaluates strings, unpickles, turns
Keras' safe mode off or loads a model without it, or reads YAML with a constructing loader."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "kerasbuild"
FORBIDDEN_CALLS = {"exec", "eval", "compile", "__import__"}
"""Builtins that run code from strings (``re.compile`` and ``model.compile`` are attributes)."""
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "yaml"}
FORBIDDEN_ATTRIBUTES = {
    "enable_unsafe_deserialization",
    "load_weights_from_hdf5_group",
    "unsafe_load",
    "full_load",
}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if (
                isinstance(func, ast.Name) and name in FORBIDDEN_CALLS
            ) or name in FORBIDDEN_ATTRIBUTES:
                found.append(f"{where}: calls {name}()")
            keywords = {k.arg: k.value for k in node.keywords}
            for key, bad in (("safe_mode", False), ("allow_pickle", True)):
                value = keywords.get(key)
                if isinstance(value, ast.Constant) and value.value is bad:
                    found.append(f"{where}: {key}={bad}")
            if name == "load_model":
                value = keywords.get("safe_mode")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    found.append(f"{where}: load_model() without safe_mode=True")
            if name == "YAML":
                typ = keywords.get("typ")
                if isinstance(typ, ast.Constant) and typ.value in ("unsafe", "full"):
                    found.append(f"{where}: YAML(typ={typ.value!r})")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for module in names:
                if module.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where}: imports {module}")
    return found


def test_package_has_no_code_execution_paths():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30
    violations = [v for f in files for v in _violations(f)]
    assert violations == []


def test_checker_finds_what_it_forbids(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import pickle\nimport keras\n"
        "keras.saving.load_model('m.keras')\nkeras.saving.load_model('m.keras', safe_mode=False)\n"
        "eval('1')\nkeras.config.enable_unsafe_deserialization()\n"
    )
    found = _violations(bad)
    assert len(found) == 6, found
