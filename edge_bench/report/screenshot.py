"""Render an HTML report to a PNG with headless Chromium (for checks and previews; nothing is fetched)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from edge_bench.errors import EdgeBenchError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


class ScreenshotError(EdgeBenchError):
    """The page could not be rendered to an image."""


def find_browser() -> str | None:
    """The first headless-capable Chromium on PATH, or None."""
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2400, timeout: float = 120) -> Path:
    """Render `html` (a local file) into `png` at width x height pixels; returns `png`."""
    browser = find_browser()
    if browser is None:
        raise ScreenshotError("no Chromium found to render the report",
                              hint="install Debian's chromium package (apt-get install -y chromium)")
    png = Path(png).resolve()
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="edge-bench-chromium-") as profile:
        argv = [browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size={width},{height}",
                Path(html).resolve().as_uri()]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ScreenshotError(f"{browser} took more than {timeout:g} s to render {html}") from None
    if not png.is_file() or png.stat().st_size == 0:
        tail = " ".join((done.stderr or "").strip().splitlines()[-2:])
        raise ScreenshotError(f"{browser} wrote no screenshot of {html} (exit {done.returncode}): {tail}")
    return png
