"""Write converted nets as canonical kerasbuild YAML files (``kerasbuild from-nolearn``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

from ..errors import KerasbuildError
from ..outputs import check_output_file
from ..spec.format import canonical_yaml
from ..spec.loader import LoadedSpec
from .convert import ConversionResult, ConvertedNet, from_nolearn


def spec_yaml(net: ConvertedNet, script: str) -> str:
    """The spec as canonical YAML, headed by comments naming what was not translated."""
    header = [f"# Converted from {script}:{net.line} by kerasbuild from-nolearn."]
    if net.param_count is not None:
        header.append(f"# {len(net.document['layers'])} layers, {net.param_count:,} parameters.")
    for line, message in net.problems:
        header.append(f"# NOT TRANSLATED ({script}:{line}): {message}")
    for line, message in net.notes:
        header.append(f"# note ({script}:{line}): {message}")
    body = canonical_yaml(cast(LoadedSpec, SimpleNamespace(document=net.document)))
    return "\n".join(header) + "\n" + body


def output_paths(nets: list[ConvertedNet], output: Path | None) -> list[Path]:
    """One file per net: ``output`` itself for a single net, ``<output stem>_<net>.yaml`` for
    several; without ``output``, ``<net>.yaml`` in the current directory."""
    if output is not None and output.suffix not in (".yaml", ".yml"):
        raise KerasbuildError(f"output must end in .yaml or .yml, got {output}")
    if output is None:
        return [Path(f"{net.name}.yaml") for net in nets]
    if len(nets) == 1:
        return [output]
    return [output.with_name(f"{output.stem}_{net.name}{output.suffix}") for net in nets]


def convert_script(
    script: Path, output: Path | None = None, *, overwrite: bool = False
) -> tuple[ConversionResult, list[Path]]:
    """Read ``script`` (never run it), write one spec per ``NeuralNet`` call, return both.
    An existing output file is refused (nothing is written) unless ``overwrite``."""
    try:
        text = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KerasbuildError(f"cannot read {script}: {exc}") from None
    result = from_nolearn(text, script.name)
    if not result.nets:
        return result, []
    paths = output_paths(result.nets, output)
    if any(path.resolve() == script.resolve() for path in paths):
        raise KerasbuildError(f"refusing to overwrite the script {script}")
    for path in paths:
        check_output_file(path, overwrite=overwrite)
    for net, path in zip(result.nets, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(spec_yaml(net, script.name), encoding="utf-8")
    return result, paths
