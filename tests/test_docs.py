"""The documentation site builds with warnings as errors, every gallery example runs, and
the built pages hold what the site promises (one page per strategy with its paper,
scenarios, plugins, departures and measured numbers; every public name in the API
reference); with a Chromium binary, the pages render (docs/screenshot.py).

Needs the docs extra (``pip install -e ".[docs]"``); skipped only when Sphinx is absent.
"""

import importlib
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    # executed examples are cached by sphinx-gallery; start clean so every one runs
    shutil.rmtree(DOCS / "auto_examples", ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-b", "html",
         str(DOCS), str(out)], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout[-4000:]}\n{proc.stderr}"
    return out


def test_build_has_every_page(site):
    for page in ("index", "getting_started", "changelog", "guide/choosing",
                 "guide/experiment_files", "guide/checkpointing", "guide/tuning",
                 "guide/pipeline", "guide/gpu", "guide/dask", "guide/avalanche",
                 "api/index", "strategies/index", "auto_examples/index"):
        assert (site / f"{page}.html").exists(), page
    changes = (ROOT / "CHANGES.md").read_text().splitlines()
    first_release = next(line for line in changes if line.startswith("## [0"))
    assert first_release[3:].split("]")[0][1:] in (site / "changelog.html").read_text()


def test_every_gallery_example_ran_and_plotted(site):
    examples = sorted((DOCS / "gallery").glob("plot_*.py"))
    assert len(examples) >= 3
    for ex in examples:
        html = (site / "auto_examples" / f"{ex.stem}.html").read_text()
        assert f"sphx_glr_{ex.stem}_001.png" in html, f"{ex.name} shows no plot"
        assert (site / "_images" / f"sphx_glr_{ex.stem}_001.png").exists()


def test_one_page_per_strategy_with_its_sections(site):
    import _strategy_pages

    import skcl.strategies

    names = _strategy_pages.strategy_names()
    assert len(names) >= 19
    for name in names:
        html = (site / "strategies" / f"{name}.html").read_text()
        for needle in ("Paper.", "Scenarios.", "Plugins.",
                       "Departures from the paper or from Avalanche", "Measured",
                       "Produced by", "Parameters and methods"):
            assert needle in html, f"{name}: no '{needle}'"
        assert "No measurement yet" not in html, name
        # every parameter of the class is on its page, with its default
        cls = getattr(skcl.strategies, name)
        for p in inspect.signature(cls).parameters.values():
            if p.kind is p.VAR_KEYWORD:
                continue
            assert p.name in html, f"{name}: parameter {p.name} not documented"


def test_every_public_name_has_an_api_page(site):
    import _apigen

    missing = []
    for module_name, _ in _apigen.MODULES:
        page = (site / "api" / f"{module_name}.html").read_text()
        for name in _apigen.public_names(module_name):
            obj = getattr(importlib.import_module(module_name), name)
            if f"{module_name}.{name}" not in page and name not in page:
                missing.append(f"{module_name}.{name}")
            elif inspect.isclass(obj) or callable(obj):
                generated = site / "api" / "generated" / f"{module_name}.{name}.html"
                if not generated.exists() and "the same object as" not in page:
                    missing.append(f"{module_name}.{name} (no page)")
    assert not missing, missing


def test_pages_render_in_headless_chromium(site, tmp_path):
    import screenshot

    browser = screenshot.find_chromium()
    if browser is None:
        pytest.skip("no Chromium binary found (apt-get install chromium-headless-shell)")
    report = screenshot.check_site(site, tmp_path, browser)
    assert not any(report.values()), report
    # the check can fail: a page with its images removed shows no plot
    page = site / "auto_examples" / "plot_forgetting.html"
    bare = page.with_name("bare.html")
    bare.write_text(page.read_text().replace("../_images/", "missing/"))
    img = screenshot.screenshot(browser, bare, tmp_path / "bare.png")
    assert screenshot.check(img, needs_plot=True), "a page without its plot passed the check"
