"""The report renders in a real headless Chromium: a non-blank screenshot, no script errors, every section in the DOM.

Needs `chromium` (Debian package; `.ci/run` installs it). Skipped with a reason when it is absent, except in CI
(`CI` set, or `DEEPMATH_REQUIRE_SHARED=1` as `.ci/run` sets), where a missing browser fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deepmath.demo.config import ReportConfig
from deepmath.demo.report import run_report
from tests.demo.fake_run import make_fake_run

pytestmark = pytest.mark.browser

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    message = "no headless Chromium found (Debian: apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI") or os.environ.get("DEEPMATH_REQUIRE_SHARED") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [browser, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def test_report_renders_in_headless_chromium(tmp_path):
    browser = _chromium()
    run = make_fake_run(tmp_path / "run")
    stats = run_report(ReportConfig(run_dir=str(run)))
    url = (run / "report" / "report.html").resolve().as_uri()

    shot = tmp_path / "report.png"
    result = _run(
        browser,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        url,
    )
    assert shot.exists() and shot.stat().st_size > 10_000, result.stderr[-2000:]
    assert "Uncaught" not in result.stderr, result.stderr[-2000:]
    assert "ERR_FILE_NOT_FOUND" not in result.stderr

    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    not_white = (pixels < 0.95).any(axis=-1).mean()
    assert pixels.std() > 0.05 and not_white > 0.05, "the screenshot is (nearly) blank"

    dom = _run(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in stats["sections"]:
        assert f">{section}</h2>" in dom.stdout
    assert dom.stdout.count("data:image/png;base64,") == stats["images"]
