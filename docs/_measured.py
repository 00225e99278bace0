"""Read the measured tables of ``benchmarks/README.md`` for the strategy pages.

The numbers are never copied by hand: each strategy page shows, for every table
of the benchmarks README that has a row for the strategy, the table's header,
the strategy's rows (and Naive's rows of the same table, for reference), the
section it comes from and the commands that section says produced it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CMD_INLINE = re.compile(r"`((?:python|torchrun)\s[^`]+)`")
_CMD_BLOCK = re.compile(r"^\s{4}((?:python|torchrun)\s.*?)\\?$")


@dataclass
class Table:
    section: str
    subsection: str
    header: list[str]
    rows: list[list[str]]
    commands: list[str] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text: str) -> list[Table]:
    """Every Markdown table of ``text`` with its section, subsection and commands."""
    tables: list[Table] = []
    section = subsection = ""
    commands: dict[tuple[str, str], list[str]] = {}
    lines = text.splitlines()
    i = 0
    pending_block = None
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section, subsection = line[3:].strip(), ""
        elif line.startswith("### "):
            subsection = line[4:].strip()
        found = _CMD_INLINE.findall(line)
        block = _CMD_BLOCK.match(line)
        if block:
            cmd = block.group(1).strip()
            if pending_block is not None:
                pending_block.append(cmd)
            else:
                pending_block = [cmd]
            if not line.rstrip().endswith("\\"):
                found.append(" ".join(pending_block))
                pending_block = None
        elif pending_block is not None and line.startswith("        "):
            pending_block.append(line.strip().rstrip("\\").strip())
            if not line.rstrip().endswith("\\"):
                found.append(" ".join(pending_block))
                pending_block = None
        for key in ((section, ""), (section, subsection)):
            commands.setdefault(key, [])
        for cmd in found:
            for key in {(section, ""), (section, subsection)}:
                if cmd not in commands[key]:
                    commands[key].append(cmd)
        if line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|$",
                                                                    lines[i + 1].strip()):
            header = _cells(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            tables.append(Table(section, subsection, header, rows))
            tables[-1].commands = (section, subsection)  # resolved below
            continue
        i += 1
    for t in tables:
        sec, sub = t.commands
        # a subsection that names its own command was produced by it alone
        cmds = list(commands.get((sec, sub), [])) if sub else []
        if not cmds:
            cmds = list(commands.get((sec, ""), []))
        # a placeholder path marks a command the README gives but did not run
        t.commands = [c for c in cmds if "/path/to" not in c]
    return tables


def _matches(cell: str, names: list[str]) -> bool:
    cell = cell.replace("**", "").strip()
    return any(re.match(re.escape(n) + r"(?![\w+-])", cell) for n in names)


def rows_for(tables: list[Table], names: list[str], reference: list[str] | None = None):
    """``[(table, rows)]`` for every table with a row whose first or second cell is the
    strategy (``names``: the spellings used in the README); ``reference`` rows (Naive's)
    of the same table come first."""
    out = []
    for t in tables:
        mine = [r for r in t.rows if any(_matches(c, names) for c in r[:2])]
        if not mine:
            continue
        ref = []
        if reference:
            ref = [r for r in t.rows if r not in mine
                   and any(_matches(c, reference) for c in r[:2])]
            # in tables with a stream column, only the reference rows of the same streams
            if "stream" in t.header[:2]:
                col = t.header.index("stream")
                streams = {r[col] for r in mine}
                ref = [r for r in ref if r[col] in streams]
        out.append((t, ref + mine))
    return out
