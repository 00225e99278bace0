"""Write the API reference pages (``docs/api/*.rst``) from each public module's ``__all__``.

Run by ``conf.py`` before every build, so a name added to (or removed from) a
module's ``__all__`` appears in (or leaves) the reference without editing any page.
An object exported by two modules (``InvalidParameterError`` by
:mod:`skcl.exceptions` and :mod:`skcl.utils`) is documented once, where it is
first listed, and the other module points to it.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

#: (module, one-line description), in the order of the reference; a name shared by two
#: modules is documented under the first.
MODULES = [
    ("skcl.strategies", "Continual-learning strategies (estimators)."),
    ("skcl.plugins", "Plugins: the hooks strategies are assembled from."),
    ("skcl.buffers", "Replay memories (storage policies)."),
    ("skcl.selection", "Exemplar selection strategies."),
    ("skcl.benchmarks", "Experiences, streams and data sets."),
    ("skcl.evaluation", "Continual-learning metrics, evaluation plugin, loggers and plots."),
    ("skcl.models", "Networks: MLP, CNNs, growing and multi-head classifiers, PNN."),
    ("skcl.transforms", "Batch transforms applied on the strategy's device."),
    ("skcl.pipeline", "A Pipeline whose partial_fit flows through its steps."),
    ("skcl.exceptions", "Exceptions."),
    ("skcl.utils", "Shared mechanisms: minibatches, training data, parameter constraints."),
    ("skcl.experiment", "Declared experiments (``skcl run``)."),
]


def public_names(module_name: str) -> list[str]:
    mod = importlib.import_module(module_name)
    return list(getattr(mod, "__all__", []))


def exported_objects() -> list:
    """Every class exported by a public module (for base-class links)."""
    out = []
    for module_name, _ in MODULES:
        mod = importlib.import_module(module_name)
        out += [o for n in public_names(module_name)
                if inspect.isclass(o := getattr(mod, n)) and o not in out]
    return out


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def _write(path: Path, text: str) -> None:
    # unchanged files keep their time stamps, so Sphinx does not re-read them
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def generate(docs: Path) -> dict[str, str]:
    """Write ``api/index.rst`` and one page per module; return {qualified name: page}."""
    out = docs / "api"
    out.mkdir(exist_ok=True)
    seen: dict[int, str] = {}
    where: dict[str, str] = {}
    for module_name, blurb in MODULES:
        mod = importlib.import_module(module_name)
        groups: dict[str, list[str]] = {"class": [], "function": [], "data": []}
        aliases = []
        for name in public_names(module_name):
            obj = getattr(mod, name)
            key = id(obj)
            if _kind(obj) != "data" and key in seen:
                aliases.append((name, seen[key]))
                continue
            if _kind(obj) != "data":
                seen[key] = f"{module_name}.{name}"
            groups[_kind(obj)].append(name)
            where[f"{module_name}.{name}"] = f"api/{module_name}"
        title = f":mod:`{module_name}`"
        lines = [title, "=" * len(title), "", blurb, "", f".. automodule:: {module_name}",
                 "   :no-members:", "", f".. currentmodule:: {module_name}", ""]
        headings = {"class": "Classes", "function": "Functions", "data": "Constants"}
        for kind in ("class", "function", "data"):
            if not groups[kind]:
                continue
            lines += [headings[kind], "-" * len(headings[kind]), "",
                      ".. autosummary::", "   :toctree: generated/",
                      f"   :template: autosummary/{kind}.rst",
                      "", *[f"   {n}" for n in groups[kind]], ""]
        if aliases:
            lines += ["Also exported here", "------------------", ""]
            lines += [f"* ``{module_name}.{n}``: the same object as :obj:`{target}`."
                      for n, target in aliases]
            lines.append("")
        _write(out / f"{module_name}.rst", "\n".join(lines))
    index = ["API reference", "=============", "",
             "Every public name of skcl, module by module (each module's ``__all__``).", "",
             ".. list-table::", "   :header-rows: 0", ""]
    for module_name, blurb in MODULES:
        index += [f"   * - :doc:`{module_name}`", f"     - {blurb}"]
    index += ["", ".. toctree::", "   :hidden:", "", *[f"   {m}" for m, _ in MODULES], ""]
    _write(out / "index.rst", "\n".join(index))
    return where
