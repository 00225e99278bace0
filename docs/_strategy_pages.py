"""Write ``docs/strategies/*.rst`` from the table in ``_strategies.py`` (run by conf.py).

One page per strategy: what it does, the paper, the scenarios, its plugins, where it
departs from the paper or from Avalanche, its measured numbers (read from
``benchmarks/README.md`` with the commands of their section) and every parameter
with its default (autodoc of the class).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import _measured
from _strategies import STRATEGIES

import skcl.plugins
import skcl.strategies

FAMILIES = [
    ("baseline", "Baselines"),
    ("replay", "Replay"),
    ("regularization", "Regularization"),
    ("projection", "Gradient projection"),
    ("online", "Online prototypes"),
    ("architectural", "Architectural"),
    ("streaming", "Streaming"),
    ("rehearsal", "Modern rehearsal"),
]


def strategy_names() -> list[str]:
    """Every strategy class of ``skcl.strategies.__all__`` (BaseStrategy aside)."""
    return [n for n in skcl.strategies.__all__
            if inspect.isclass(obj := getattr(skcl.strategies, n))
            and issubclass(obj, skcl.strategies.BaseStrategy) and obj is not
            skcl.strategies.BaseStrategy]


def _plugin_ref(cls: type) -> str:
    if cls.__name__ in skcl.plugins.__all__:
        return f":class:`~skcl.plugins.{cls.__name__}`"
    public = next((b.__name__ for b in cls.__mro__[1:] if b.__name__ in skcl.plugins.__all__
                   and b is not skcl.plugins.StrategyPlugin), None)
    if public:
        return f"``{cls.__name__}`` (a :class:`~skcl.plugins.{public}`)"
    return f"``{cls.__name__}`` (internal)"


def _plugins(name: str) -> str:
    cls = getattr(skcl.strategies, name)
    built = getattr(cls, "_builtin_plugins", {})
    if not built:
        return ("None built in: a plain :class:`~skcl.strategies.BaseStrategy`. Any plugin "
                "composes with it through ``plugins=[(\"name\", plugin)]``.")
    items = [f"``\"{key}\"``: {_plugin_ref(p)}" for key, p in built.items()]
    return ("; ".join(items) + ". Their parameters are the strategy's flat parameters "
            "(``set_params`` reaches the live plugin); more plugins compose through "
            "``plugins=``.")


def _table(t: _measured.Table, rows: list[list[str]]) -> list[str]:
    width = len(t.header)
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [t.header, *rows]:
        row = (row + [""] * width)[:width]
        out.append("   * - " + (row[0] or " "))
        out += [f"     - {c or ' '}" for c in row[1:]]
    return out + [""]


def _rst_cell(text: str) -> str:
    return text.replace("**", "").replace("*", r"\*").replace("|", r"\|")


def _measured_section(name: str, tables) -> list[str]:
    entry = STRATEGIES[name]
    found = _measured.rows_for(tables, entry["names"],
                               reference=None if name == "Naive" else ["Naive"])
    lines = ["Measured", "--------", "",
             "Rows of ``benchmarks/README.md`` for this strategy (and Naive's rows of the same "
             "table, for reference), on the project's shared 2-core CPU machine; that file "
             "gives each table's settings in full.", ""]
    if not found:
        return lines + ["No measurement yet.", ""]
    for t, rows in found:
        title = t.section + (f" / {t.subsection}" if t.subsection else "")
        title = title.replace("`", "")
        lines += [f"**{title}**", ""]
        lines += _table(t, [[_rst_cell(c) for c in r] for r in rows])
        if t.commands:
            lines += ["Produced by (the commands of that section):", "", ".. code-block:: bash",
                      ""] + [f"   {c}" for c in t.commands] + [""]
    return lines


def page(name: str, tables) -> str:
    e = STRATEGIES[name]
    lines = [name, "=" * len(name), "", ".. currentmodule:: skcl.strategies", "",
             e["what"], "",
             f"**Paper.** {e['paper']}", "",
             f"**Scenarios.** {', '.join(e['scenarios'])}. {e['suits']}", "",
             f"**Plugins.** {_plugins(name)}", "",
             "Departures from the paper or from Avalanche", "-" * 43, ""]
    if e["departures"]:
        lines += [f"* {d}" for d in e["departures"]] + [""]
    else:
        lines += ["None.", ""]
    lines += _measured_section(name, tables)
    lines += ["Parameters and methods", "----------------------", "",
              "Every parameter with its default (the class's own documentation; the "
              "rest of the parameters and the methods are "
              ":class:`~skcl.strategies.BaseStrategy`'s).", "",
              f".. autoclass:: skcl.strategies.{name}", "   :no-index:", ""]
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def fidelity_pivot(tables) -> list[str]:
    """The fidelity table (every strategy on split digits, permuted digits and split
    Fashion-MNIST) as one row per strategy, for the "which strategy" guide."""
    fid = next((t for t in tables if t.section.startswith("Fidelity")
                and t.header[:2] == ["stream", "strategy"]), None)
    if fid is None:
        raise RuntimeError("benchmarks/README.md has no fidelity table (stream | strategy | ...)")
    streams = list(dict.fromkeys(r[0] for r in fid.rows))
    strategies = list(dict.fromkeys(r[1] for r in fid.rows))
    cell = {(r[0], r[1]): r for r in fid.rows}
    header = ["strategy"] + [f"{s}: {h}" for s in streams for h in ("accuracy", "CPU s")]
    rows = [[name] + [x for s in streams
                      for x in ((cell[(s, name)][2], cell[(s, name)][3])
                                if (s, name) in cell else ("-", "-"))]
            for name in strategies]
    t = _measured.Table(fid.section, "", header, rows, fid.commands)
    lines = _table(t, [[_rst_cell(c) for c in r] for r in rows])
    return lines + ["Produced by:", "", ".. code-block:: bash", ""] + \
        [f"   {c}" for c in fid.commands] + [""]


def generate(docs: Path, readme: Path) -> list[str]:
    """Write one page per strategy and the index; return the strategy names."""
    names = strategy_names()
    missing = sorted(set(names) - set(STRATEGIES))
    if missing:
        raise RuntimeError(f"docs/_strategies.py has no entry for {missing}: add one.")
    tables = _measured.parse(readme.read_text(encoding="utf-8"))
    out = docs / "strategies"
    out.mkdir(exist_ok=True)
    for name in names:
        _write(out / f"{name}.rst", page(name, tables))
    index = ["Strategies", "==========", "",
             "One page per strategy of :mod:`skcl.strategies`: what it does, the paper, the "
             "scenarios it suits, its plugins, its departures from the paper or from "
             "Avalanche, its measured numbers and every parameter. :doc:`../guide/choosing` "
             "compares them.", ""]
    for fam, title in FAMILIES:
        members = [n for n in names if STRATEGIES[n]["family"] == fam]
        if not members:
            continue
        lines = [f"* :doc:`{n}`: {', '.join(STRATEGIES[n]['scenarios'])}" for n in members]
        index += [title, "-" * len(title), "", *lines, ""]
    index += [".. toctree::", "   :hidden:", "", *[f"   {n}" for n in names], ""]
    _write(out / "index.rst", "\n".join(index))
    (docs / "guide").mkdir(exist_ok=True)
    _write(docs / "guide" / "fidelity_generated.inc", "\n".join(fidelity_pivot(tables)))
    return names
