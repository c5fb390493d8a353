"""report.html in a real browser (Debian's headless Chromium): every image loads, the page is not blank."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import report_synthetic as syn
from elbench.report import make_report

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-extensions",
    "--hide-scrollbars",
]

#: Appended to a copy of the page: when everything has loaded, say how many images decoded.
CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0; });
  var marker = document.createElement('div');
  marker.id = 'elbench-image-check';
  marker.textContent = 'IMAGES ' + ok.length + ' OF ' + imgs.length;
  document.body.appendChild(marker);
});
</script>
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is needed for the HTML check: run scripts/setup-system-deps (apt-get install chromium)")
    return path


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("htmlcheck")
    paths = make_report(syn.make_campaign(root / "campaign"))
    return paths["html"]


def test_every_image_loads(report_html, tmp_path):
    page = report_html.read_text()
    n_images = page.count("<img ")
    assert n_images >= 6
    assert re.search(r'src="(?!data:)', page) is None, "the report must not reference external files"
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", CHECK_SCRIPT + "</body>"))
    result = run_chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"IMAGES {n_images} OF {n_images}" in result.stdout, result.stdout[-500:] + result.stderr[-1000:]


def test_screenshot_is_not_blank(report_html, tmp_path):
    shot = tmp_path / "shot.png"
    result = run_chromium([f"--screenshot={shot}", "--window-size=1280,2400", report_html.as_uri()], tmp_path / "profile")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1280)
    assert pixels.std() > 20.0  # a blank page has std 0; text and figures give large variance
    dark = (pixels < 128).mean()
    assert 0.01 < dark < 0.5  # ink on a white page
