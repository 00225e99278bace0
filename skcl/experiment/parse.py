"""Read an experiment file into an :class:`~skcl.experiment.Experiment`, checking everything.

An experiment file is data, not code. Parsing it imports nothing beyond skcl's
and torch's own allow-listed namespaces (see
:data:`skcl.experiment.registry.ALLOWED_NAMESPACES`) unless the user trusts
more (``--trust PREFIX`` or a ``[trust]`` table), and every value is checked
against the strategies' and plugins' declared constraints
(``validate_parameters()``) and the stream builders' signatures, so a mistake
raises :class:`ExperimentError` naming the key and its line before any
training starts.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skcl.experiment import registry as R
from skcl.experiment.parse_strategies import parse_strategies
from skcl.experiment.spec import (
    LOGGER_NAMES,
    METRIC_NAMES,
    SEED,
    Experiment,
    ExperimentError,
    StreamSpec,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as tomllib
    except ImportError:  # pragma: no cover
        tomllib = None

__all__ = ["load_experiment", "parse_experiment"]

_SECTIONS = ("experiment", "stream", "streams", "strategies", "trust")
_EXPERIMENT_KEYS = ("name", "seeds", "output", "metrics", "loggers", "n_jobs")


class _Source:
    """The file's text, to say on which line a key is."""

    def __init__(self, text: str, name: str):
        self.lines = text.splitlines() if text else []
        self.name = name

    def _blocks(self, header: str) -> list[tuple[int, int]]:
        """(first, end) line indexes of each ``[header]``/``[[header]]`` block."""
        head = re.compile(r"^\s*\[\[?\s*" + re.escape(header) + r"\s*\]\]?\s*(#.*)?$")
        any_head = re.compile(r"^\s*\[")
        starts = [i for i, ln in enumerate(self.lines) if head.match(ln)]
        out = []
        for s in starts:
            end = next((j for j in range(s + 1, len(self.lines)) if any_head.match(self.lines[j])),
                       len(self.lines))
            out.append((s, end))
        return out

    def line(self, key: str, table: str | None = None, index: int = 0) -> int | None:
        """1-based line of ``key = ...`` (in the ``index``-th ``table`` block), or of the header."""
        if table is None:
            span = (0, len(self.lines))
        else:
            blocks = self._blocks(table)
            if index >= len(blocks):
                return None
            span = blocks[index]
        pattern = re.compile(r'^\s*["\']?' + re.escape(key) + r'["\']?\s*=')
        for i in range(*span):
            if pattern.match(self.lines[i]):
                return i + 1
        if table is None:
            blocks = self._blocks(key)
            return blocks[0][0] + 1 if blocks else None
        return span[0] + 1

    def where(self, key: str, table: str | None = None, index: int = 0) -> str:
        line = self.line(key, table, index) if self.lines else None
        return f"{self.name}, line {line}" if line else self.name


# ---------------------------------------------------------------------- #
# [experiment], [trust]
# ---------------------------------------------------------------------- #
def _check_sections(data: dict, src: _Source) -> None:
    for key in data:
        if key not in _SECTIONS:
            raise ExperimentError(f"{src.where(key)}: unknown section or key '{key}'."
                                  f"{R.suggest(key, _SECTIONS)}")
    if "stream" in data and "streams" in data:
        raise ExperimentError(f"{src.where('streams')}: declare either one [stream] table or "
                              "[[streams]] tables, not both.")


def _parse_trust(table: Any, src: _Source) -> list[str]:
    if table is None:
        return []
    if not isinstance(table, dict) or set(table) - {"modules"}:
        raise ExperimentError(f"{src.where('trust')}: [trust] takes one key, modules = "
                              "[\"mypackage.\"] (importable prefixes whose classes you trust).")
    modules = table.get("modules", [])
    if not isinstance(modules, list) or not all(isinstance(m, str) and m for m in modules):
        raise ExperimentError(f"{src.where('modules', 'trust')}: trust.modules must be a list "
                              "of package prefixes such as [\"mypackage.\"].")
    return list(modules)


def _int_list(value: Any, key: str, src: _Source) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
        raise ExperimentError(f"{src.where(key, 'experiment')}: 'experiment.{key}' must be a "
                              f"non-negative integer or a non-empty list of them; got {value!r}.")
    return value


def _names(value: Any, key: str, valid: Sequence[str], src: _Source) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ExperimentError(f"{src.where(key, 'experiment')}: 'experiment.{key}' must be a "
                              f"list of names; got {value!r}.")
    for v in value:
        if v not in valid:
            raise ExperimentError(f"{src.where(key, 'experiment')}: unknown {key[:-1]} {v!r}."
                                  f"{R.suggest(v, valid)}")
    return list(value)


def _parse_header(head: Any, exp: Experiment, src: _Source) -> None:
    if not isinstance(head, dict):
        raise ExperimentError(f"{src.name}: 'experiment' must be a table ([experiment]).")
    for key in head:
        if key not in _EXPERIMENT_KEYS:
            raise ExperimentError(f"{src.where(key, 'experiment')}: unknown key "
                                  f"'experiment.{key}'.{R.suggest(key, _EXPERIMENT_KEYS)}")
    for key in ("name", "output"):
        if key in head:
            if not isinstance(head[key], str) or not head[key]:
                raise ExperimentError(f"{src.where(key, 'experiment')}: 'experiment.{key}' must "
                                      f"be a non-empty string; got {head[key]!r}.")
            setattr(exp, key, head[key])
    exp.seeds = _int_list(head.get("seeds", exp.seeds), "seeds", src)
    n_jobs = head.get("n_jobs", 1)
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ExperimentError(f"{src.where('n_jobs', 'experiment')}: 'experiment.n_jobs' must "
                              f"be a non-zero integer; got {n_jobs!r}.")
    exp.n_jobs = n_jobs
    exp.metrics = _names(head.get("metrics", exp.metrics), "metrics", METRIC_NAMES, src)
    exp.loggers = _names(head.get("loggers", exp.loggers), "loggers", LOGGER_NAMES, src)


# ---------------------------------------------------------------------- #
# [stream] / [[streams]]
# ---------------------------------------------------------------------- #
def _kinds(param: inspect.Parameter) -> set[str]:
    ann = param.annotation
    if isinstance(ann, str) and ann:
        return {a.strip() for a in ann.split("|")}
    if param.annotation is not param.empty and isinstance(ann, type):
        return {ann.__name__}
    d = param.default
    for kind in (bool, int, float, str):
        if isinstance(d, kind):
            return {kind.__name__}
    return set()  # None or no default: anything


def _accepts(kinds: set[str], value: Any) -> bool:
    checks = {
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
    }
    known = kinds & set(checks)
    if not known or kinds - set(checks) - {"None"}:
        return True  # not a plain scalar type: the builder checks it
    return any(checks[k](value) for k in known)


def _check_stream_value(builder: str, param: inspect.Parameter, value: Any, where: str) -> None:
    if param.name == "random_state":
        if value == SEED or (isinstance(value, int) and not isinstance(value, bool)
                             and 0 <= value < 2**32):
            return
        raise ExperimentError(f"{where}: {builder}(random_state=...) must be an integer in "
                              f"[0, 2**32) or \"seed\" (follow each run's seed); got {value!r}.")
    kinds = _kinds(param)
    if not _accepts(kinds, value):
        allowed = " or ".join(sorted(kinds - {"None"}))
        raise ExperimentError(f"{where}: {builder}({param.name}=...) must be {allowed}; "
                              f"got {value!r}.")
    if param.name == "n_experiences" and value < 1:
        raise ExperimentError(f"{where}: {builder}(n_experiences=...) must be >= 1; got {value}.")


def _parse_stream(table: Any, table_name: str, index: int, src: _Source) -> StreamSpec:
    if not isinstance(table, dict):
        raise ExperimentError(f"{src.where(table_name)}: '{table_name}' must be a table.")
    stream = dict(table)
    builders = R.builders()
    builder = stream.pop("builder", "split_digits")
    label = stream.pop("name", None)
    if builder not in builders:
        raise ExperimentError(f"{src.where('builder', table_name, index)}: unknown stream "
                              f"builder {builder!r}.{R.suggest(str(builder), builders)}")
    params = inspect.signature(builders[builder]).parameters
    if "path" in stream and "root" in params:
        if "root" in stream:
            raise ExperimentError(f"{src.where('path', table_name, index)}: give 'path' or "
                                  "'root' (the same thing), not both.")
        stream["root"] = stream.pop("path")
    for key, value in stream.items():
        where = src.where(key, table_name, index)
        if key not in params:
            raise ExperimentError(f"{where}: {builder}() has no argument '{key}'."
                                  f"{R.suggest(key, list(params))}")
        _check_stream_value(builder, params[key], value, where)
    return StreamSpec(builder, stream, str(label) if label is not None else "")


def _parse_streams(data: dict, src: _Source) -> list[StreamSpec]:
    if "streams" in data:
        tables = data["streams"]
        if not isinstance(tables, list) or not tables:
            raise ExperimentError(f"{src.where('streams')}: [[streams]] must hold at least one "
                                  "table.")
        streams = [_parse_stream(t, "streams", i, src) for i, t in enumerate(tables)]
    else:
        streams = [_parse_stream(data.get("stream", {"n_experiences": 5}), "stream", 0, src)]
    labels = [s.label for s in streams]
    for s in streams:
        if labels.count(s.label) > 1:
            raise ExperimentError(f"{src.where('streams')}: two streams are named {s.label!r}; "
                                  "give each a distinct name = \"...\".")
    return streams


# ---------------------------------------------------------------------- #
# entry points
# ---------------------------------------------------------------------- #
def parse_experiment(data: dict[str, Any], text: str = "", source: str = "<experiment>",
                     trust: Sequence[str] = ()) -> Experiment:
    """Validate a parsed experiment (a dict as read from TOML) into an :class:`Experiment`.

    Parameters
    ----------
    data : dict
        The file's tables, as :mod:`tomllib` reads them.
    text : str, default=""
        The file's content, so that errors name lines.
    source : str, default="<experiment>"
        The file's name, for errors.
    trust : sequence of str, default=()
        Importable prefixes (``"mypackage."``) whose classes the file may name,
        on top of the allow-list and the file's own ``[trust]`` table.

    Returns
    -------
    Experiment

    Raises
    ------
    ExperimentError
        Naming the key, its line and what is allowed.

    Examples
    --------
    >>> from skcl.experiment import parse_experiment
    >>> exp = parse_experiment({"strategies": [{"class": "Naive", "lr": 0.05}]})
    >>> exp.streams[0].describe(), exp.strategies[0].params
    ('split_digits(n_experiences=5, random_state=0)', {'lr': 0.05})
    >>> parse_experiment({"strategies": [{"class": "Naive", "max_epochs": -1}]})
    Traceback (most recent call last):
    ...
    skcl.experiment.spec.ExperimentError: <experiment> (strategies[0]): Naive: parameter \
'max_epochs' must be an int in [1, inf); got -1.
    """
    src = _Source(text, source)
    _check_sections(data, src)
    exp = Experiment()
    exp.trust = list(trust) + _parse_trust(data.get("trust"), src)
    _parse_header(data.get("experiment", {}), exp, src)
    exp.streams = _parse_streams(data, src)
    exp.strategies = parse_strategies(data.get("strategies"), src, exp.trust)
    return exp


def load_experiment(path: str | Path, trust: Sequence[str] = ()) -> Experiment:
    """Read and validate an experiment TOML file (see :mod:`skcl.experiment`).

    ``trust``: importable prefixes whose classes the file may name (``--trust``).
    """
    path = Path(path)
    if tomllib is None:  # pragma: no cover
        raise ImportError("Reading experiment files on Python 3.10 needs tomli: pip install tomli")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExperimentError(f"Cannot read experiment file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: malformed TOML: {exc}") from None
    return parse_experiment(data, text, str(path), trust)
