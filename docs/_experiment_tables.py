"""Write ``guide/experiment_generated.inc``: the experiment-file names read from the code.

``guide/experiment_files.rst`` includes it, so the lists of sections, keys, metrics,
loggers, stream builders, nameable classes and allow-listed namespaces are the ones
``skcl run`` accepts, not a copy that can drift.
"""

from __future__ import annotations

import inspect
from pathlib import Path


def _lines(title: str, items, fmt="``{}``") -> list[str]:
    return [f"**{title}**: " + ", ".join(fmt.format(i) for i in items) + ".", ""]


def generate(docs: Path) -> None:
    from skcl.experiment import parse, parse_strategies, registry, spec

    out = []
    out += _lines("Sections (top-level tables)", parse._SECTIONS)
    out += _lines("Keys of [experiment]", parse._EXPERIMENT_KEYS)
    out += _lines("Metrics (``metrics = [...]``)", spec.METRIC_NAMES)
    out += _lines("Loggers (``loggers = [...]``)", spec.LOGGER_NAMES)
    out += _lines("Keys whose string value is a class reference",
                  parse_strategies.CLASS_KEYS)
    out += ["**Stream builders** (``builder = \"...\"``; the other keys of the table are the "
            "builder's arguments):", ""]
    for name, fn in sorted(registry.builders().items()):
        args = ", ".join(p for p in inspect.signature(fn).parameters)
        out.append(f"* :func:`~skcl.benchmarks.{name}`: {args}")
    out.append("")
    out += _lines("Strategies (``class = \"...\"`` in [[strategies]])",
                  sorted(registry.strategy_classes()))
    out += _lines("Plugins (``plugins = [{ class = \"...\" }]``)",
                  sorted(registry.plugin_classes()))
    others = sorted(set(registry.object_classes()) - set(registry.plugin_classes()))
    out += _lines("Transforms, buffers and selection strategies (``{ class = \"...\" }`` "
                  "tables in any parameter)", others)
    out += ["**Allow-listed namespaces** for class references (anything else needs "
            "``--trust`` or ``[trust]``):", ""]
    out += [f"* ``{ns}``: {what[0]} (subclasses of ``{what[1]}``)"
            for ns, what in registry.ALLOWED_NAMESPACES.items()]
    out.append("")
    text = "\n".join(out)
    path = docs / "guide" / "experiment_generated.inc"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
