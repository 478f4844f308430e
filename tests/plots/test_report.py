"""``kerasbuild report``: one self-contained HTML page, refused over an existing file, that
real headless Chromium renders (a non-blank screenshot) without console errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from kerasbuild.cli import app

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--hide-scrollbars",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no Chromium installed (apt-get install -y chromium; .ci/run installs it)")


def _report(path: Path, output: Path, *extra: str):
    return CliRunner().invoke(app, ["report", str(path), "-o", str(output), *extra])


def _open_in_chromium(page: Path, tmp_path: Path) -> tuple[np.ndarray, str]:
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file(), result.stderr[-2000:]
    with Image.open(shot) as image:
        return np.asarray(image.convert("L")), result.stderr


def _console_errors(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "CONSOLE" in line and ("ERROR" in line or "error" in line)
    ]


def test_run_report_opens_in_chromium(right_half_run: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = _report(right_half_run, page)
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert not re.search(r'(src|href)="(https?:|//)', text)  # nothing from the network
    images = re.findall(r'<img src="data:image/png;base64,', text)
    assert (
        len(images) == 7
    )  # loss, confusion, misclassified, activations, occlusion, saliency, graph
    for heading in (
        "Metrics",
        "Pictures",
        "Spec (as trained)",
        "Timings",
        "Environment (this report)",
    ):
        assert f"<h2>{heading}</h2>" in text
    assert "<td>conv1</td><td>Conv2DLayer</td><td>10x24x6</td>" not in text  # shapes are H x W x C
    assert "<td>conv1</td><td>Conv2DLayer</td><td>24x10x6</td>" in text

    again = _report(right_half_run, page)
    assert again.exit_code == 2 and "already exists; pass --overwrite" in again.output

    pixels, log = _open_in_chromium(page, tmp_path)
    assert pixels.shape == (2400, 1200)
    assert (
        pixels.std() > 20 and (pixels < 128).mean() > 0.01
    )  # text, tables and the loss plot drawn
    assert not _console_errors(log), _console_errors(log)


def test_search_report_opens_in_chromium(search_dir: Path, tmp_path: Path) -> None:
    page = tmp_path / "search.html"
    page.write_text("a page the user keeps")
    assert _report(search_dir, page).exit_code == 2 and page.read_text() == "a page the user keeps"
    result = _report(search_dir, page, "--overwrite")
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.count("<img ") == 4  # three search pictures + the best spec's graph
    assert text.count('<tr><td class="num">') >= 4  # one row per trial
    pixels, log = _open_in_chromium(page, tmp_path)
    assert pixels.std() > 20
    assert not _console_errors(log), _console_errors(log)
