"""report.html renders in a real browser: a headless-Chromium screenshot is not blank and
shows the plots (viridis/tab colours), not only text.

Needs a Chromium binary (Debian: ``apt-get install chromium-headless-shell`` or
``chromium``; or set ``SKCL_CHROMIUM`` to its path); skipped only when none is found.
"""

import os
import shutil
import subprocess

import numpy as np
import pytest

_NAMES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome",
          "google-chrome-stable")


def _chromium():
    explicit = os.environ.get("SKCL_CHROMIUM")
    if explicit:
        return explicit
    return next((p for p in map(shutil.which, _NAMES) if p), None)


def _screenshot(browser, page, png, height=2000):
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size=1200,{height}", f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    import matplotlib.image as mpimg

    return mpimg.imread(png)[..., :3]


def test_report_html_renders_in_headless_chromium(tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium binary found (apt-get install chromium-headless-shell)")
    from skcl.experiment import Experiment, StrategySpec, StreamSpec, run_experiment, write_report

    exp = Experiment(name="browser check",
                     streams=[StreamSpec("split_digits", {"n_experiences": 2})],
                     strategies=[StrategySpec("Naive", "Naive", {"max_epochs": 1})],
                     seeds=[0], metrics=["accuracy"], output=str(tmp_path / "out"))
    folder = write_report(exp, run_experiment(exp, progress=None), tmp_path / "out")
    img = _screenshot(browser, folder / "report.html", tmp_path / "shot.png")
    assert img.shape[0] == 2000 and img.shape[1] == 1200
    non_white = np.any(img < 0.95, axis=-1).mean()
    colourful = (img.max(axis=-1) - img.min(axis=-1) > 0.3).mean()
    assert non_white > 0.05, f"the page looks blank ({non_white:.3f} non-white)"
    assert colourful > 0.01, f"no plot is visible ({colourful:.4f} coloured)"
    # the same page without its images has (almost) no colour: the plots are what we saw
    (folder / "bare.html").write_text(
        (folder / "report.html").read_text().replace("src='data:image", "data-gone='"))
    bare = _screenshot(browser, folder / "bare.html", tmp_path / "bare.png")
    assert (bare.max(axis=-1) - bare.min(axis=-1) > 0.3).mean() < colourful / 5
