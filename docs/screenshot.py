"""Render built documentation pages in headless Chromium and check they are not blank.

Usage (after building the site)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
    python docs/screenshot.py docs/_build/html [--out shots/]

Takes screenshots of the home page, one strategy page and one gallery page, and
fails (exit 1) when a page is blank, or when the gallery page shows no plot. Needs a
Chromium binary: Debian's ``chromium-headless-shell`` (or ``chromium``); set
``SKCL_CHROMIUM`` to use another path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

NAMES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome",
         "google-chrome-stable")
#: matplotlib's default C0 and C1, the colours of the gallery page's two curves
PLOT_COLOURS = [(0.122, 0.467, 0.706), (1.0, 0.498, 0.055)]
#: (page, must show a plot)
PAGES = [("index.html", False), ("strategies/EWC.html", False),
         ("auto_examples/plot_forgetting.html", True)]


def find_chromium() -> str | None:
    explicit = os.environ.get("SKCL_CHROMIUM")
    if explicit:
        return explicit
    return next((p for p in map(shutil.which, NAMES) if p), None)


def screenshot(browser: str, page: Path, png: Path, width=1280, height=1600) -> np.ndarray:
    """The page rendered at ``width x height`` as an RGB array in [0, 1]."""
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    import matplotlib.image as mpimg

    return mpimg.imread(png)[..., :3]


def check(img: np.ndarray, needs_plot: bool) -> list[str]:
    """What is wrong with a screenshot (empty when it looks rendered)."""
    problems = []
    non_white = float(np.any(img < 0.9, axis=-1).mean())
    distinct = len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    if non_white < 0.02 or distinct < 20:
        problems.append(f"looks blank ({non_white:.3f} non-white, {distinct} colours)")
    if needs_plot:
        # the plot's two curves in matplotlib's first two colours (C0 blue, C1 orange);
        # the theme's own colours (links, code highlighting) are not these
        counts = [int((np.abs(img - np.array(c)).max(axis=-1) < 0.06).sum())
                  for c in PLOT_COLOURS]
        if min(counts) < 200:
            problems.append(f"no plot visible ({counts} pixels in the curves' colours)")
    return problems


def check_site(html_dir: Path, out: Path, browser: str) -> dict[str, list[str]]:
    """Screenshot every page of :data:`PAGES` into ``out``; {page: problems}."""
    out.mkdir(parents=True, exist_ok=True)
    report = {}
    for page, needs_plot in PAGES:
        path = html_dir / page
        if not path.exists():
            report[page] = ["page missing from the build"]
            continue
        png = out / (page.replace("/", "_").replace(".html", ".png"))
        report[page] = check(screenshot(browser, path, png), needs_plot)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs")
    args = parser.parse_args(argv)
    browser = find_chromium()
    if browser is None:
        print("no Chromium binary found (apt-get install chromium-headless-shell)",
              file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="skcl-docs-shots-"))
    report = check_site(args.html_dir, out, browser)
    for page, problems in report.items():
        print(f"{page}: {'ok' if not problems else '; '.join(problems)}")
    print(f"screenshots in {out}")
    return 1 if any(report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
