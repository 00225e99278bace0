"""Sphinx configuration of skcl's documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (what
``tests/test_docs.py`` runs). Before each build this file writes the generated
pages: the API reference from each module's ``__all__`` (``_apigen.py``) and one
page per strategy from the table in ``_strategies.py`` (its measured numbers read
from ``benchmarks/README.md``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))
sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "Agg")

import _apigen  # noqa: E402
import _experiment_tables  # noqa: E402
import _strategy_pages  # noqa: E402

import skcl  # noqa: E402

_apigen.generate(DOCS)
_strategy_pages.generate(DOCS, ROOT / "benchmarks" / "README.md")
_experiment_tables.generate(DOCS)

project = "skcl"
author = "The skcl developers"
copyright = "The skcl developers"
release = skcl.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "gallery/README.rst", "**.ipynb_checkpoints", "**.inc"]
templates_path = ["_templates"]

# --- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"  # the numpydoc "Parameters" sections carry the types
# Methods skcl does not document itself (inherited from skorch/scikit-learn) are left to
# those projects' documentation instead of repeating their docstrings here.
autodoc_inherit_docstrings = False
add_module_names = False
numpydoc_show_class_members = False  # methods come from :members: in the class template
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# Broken references fail the build. Every reference to skcl's own public names must
# resolve. External names (torch, numpy, scikit-learn, skorch, accelerate, the
# standard library) cannot: the build runs offline, so there is no intersphinx
# inventory to resolve them against. They are ignored by pattern below, and only
# they.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(torch|numpy|np|sklearn|skorch|scipy|accelerate|joblib|dask|matplotlib|"
               r"tqdm|tensorboard|pathlib|collections|typing|abc|os|io|enum)(\..*)?"),
    (r"py:.*", r"(int|float|str|bool|bytes|dict|list|tuple|set|callable|object|type|None|"
               r"Ellipsis|Exception|ValueError|TypeError|KeyboardInterrupt|RuntimeError|"
               r"UserWarning|Warning)"),
    (r"py:mod", r"tomllib"),
    # private names (a dotted component starting with "_") have no page by design; the
    # docstrings name them for readers of the code
    (r"py:.*", r"(.*\.)?_[A-Za-z0-9]\w*(\..*)?"),
]
# References in skcl's docstrings that have no target on this site, each known and listed
# so that any *new* broken reference still fails the build:
nitpick_ignore = [
    # private helpers the plugin docstrings name for readers of the code (not public API)
    *[("py:func", n) for n in ("supcon_loss", "gem_project", "greedy_class_balanced",
                               "fisher_diagonal", "ace_mask", "cwr_consolidate",
                               "update_prototypes", "ppp_loss", "bic_distillation")],
    ("py:class", "InstanceOf"), ("py:data", "BUFFER_ATTRIBUTES"), ("py:data", "REPORT_FILES"),
    # skcl.experiment's submodules: documented through the package's __all__, not one by one
    *[("py:mod", f"skcl.experiment.{m}") for m in ("spec", "parse", "registry", "run",
                                                    "report")],
    ("py:data", "skcl.experiment.registry.ALLOWED_NAMESPACES"),
    # methods without a docstring of their own (autodoc lists documented methods only)
    ("py:meth", "resize"), ("py:meth", "get_features"), ("py:meth", "restore"),
    ("py:meth", "get_feature_names_out"),
    # inherited from BaseStrategy, named unqualified in StreamingLDA.fit_base
    ("py:meth", "partial_fit"),
    # short or stale names in docstrings (TrainData lives in skcl.utils;
    # InvalidParameterError in skcl.exceptions): to be qualified in the source
    ("py:class", "TrainData"), ("py:class", "skcl.strategies.TrainData"),
    ("py:class", "InvalidParameterError"),
]

# --- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "doc_module": ("skcl",),
    "backreferences_dir": "api/backreferences",
    "reference_url": {"skcl": None},
    "min_reported_time": 1,
    # a failing example fails the build
    "only_warn_on_example_error": False,
    "abort_on_example_error": False,
}

# --- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skcl {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "changelog": []}
html_show_sourcelink = False
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]


# --- hooks -----------------------------------------------------------------------
def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing setters (set_fit_request, ...) are generated on every
    # estimator class; they are scikit-learn's API, documented there.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _public_bases(app, name, obj, options, bases):
    """Show public ancestors instead of private base classes (``_MatrixMetric``,
    ``OnlineRehearsalStrategy``, ...), which have no page to link to."""
    exported = _apigen.exported_objects()

    def public(cls):
        if cls in exported or not cls.__module__.startswith("skcl"):
            return [cls]
        out = []
        for base in cls.__bases__:
            out += [b for b in public(base) if b not in out]
        return out

    new = []
    for base in bases:
        new += [b for b in public(base) if b not in new and b is not object]
    bases[:] = new or [object]


# Docstring formatting workarounds, each for one known source line (no effect once the
# source is fixed): the hook list of StrategyPlugin has a term without a definition.
_DOCSTRING_FIXES = {
    "``before_training_epoch(strategy)`` / ``after_training_epoch(strategy)``":
        "``before_training_epoch(strategy)`` / ``after_training_epoch(strategy)``\n"
        "    Around each epoch.",
}


def _fix_docstring(app, what, name, obj, options, lines):
    for i, line in enumerate(list(lines)):
        fixed = _DOCSTRING_FIXES.get(line.strip())
        indent = line[:len(line) - len(line.lstrip())]
        has_body = i + 1 < len(lines) and lines[i + 1].startswith(indent + " ")
        if fixed is not None and not has_body:
            lines[i:i + 1] = [indent + part for part in fixed.split("\n")]


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-docstring", _fix_docstring, priority=100)
