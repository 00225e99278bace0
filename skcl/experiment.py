"""Declared experiments: read a TOML file, validate it, run it (in parallel), write a report.

An experiment file::

    [experiment]
    name = "digits"
    seeds = [0, 1]
    output = "skcl-report"          # folder, relative to the current directory
    metrics = ["accuracy", "loss", "forgetting", "bwt", "timing"]
    loggers = ["csv"]               # text, csv, tensorboard (one folder per run)

    [stream]
    builder = "split_digits"        # a stream builder of skcl.benchmarks
    n_experiences = 5               # the other keys are its arguments

    [[strategies]]
    class = "Naive"                 # a class of skcl.strategies
    lr = 0.1                        # the same keys as set_params
    module__hidden_sizes = [100]

    [[strategies]]
    class = "EWC"
    name = "EWC-10"                 # optional label
    ewc_lambda = 10.0

Every name is checked before any training starts; a mistake raises
:class:`ExperimentError` naming the key (and its line) with close matches.
"""

from __future__ import annotations

import difflib
import inspect
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as tomllib
    except ImportError:  # pragma: no cover
        tomllib = None

__all__ = [
    "ExperimentError",
    "Experiment",
    "StrategySpec",
    "load_experiment",
    "parse_experiment",
    "run_experiment",
    "run_one",
    "write_report",
    "format_table",
    "METRIC_NAMES",
    "LOGGER_NAMES",
]

#: Metric names accepted in ``metrics = [...]``.
METRIC_NAMES = ("accuracy", "loss", "forgetting", "bwt", "fwt", "confusion_matrix", "timing",
                "ram", "exemplars")
#: Logger names accepted in ``loggers = [...]``.
LOGGER_NAMES = ("text", "csv", "tensorboard", "interactive")
_SECTIONS = ("experiment", "stream", "strategies")
_EXPERIMENT_KEYS = ("name", "seeds", "output", "metrics", "loggers", "n_jobs")
_CLASS_KEYS = ("module", "criterion", "optimizer")


class ExperimentError(ValueError):
    """A malformed or inconsistent experiment declaration."""


@dataclass
class StrategySpec:
    """One strategy of an experiment: a label and either a class name + params or a template."""

    label: str
    class_name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    template: Any = None  # an estimator; used as is (cloned) when given

    def build(self, seed: int):
        """A fresh estimator seeded with ``seed``."""
        if self.template is not None:
            est = clone(self.template)
        else:
            est = _strategy_classes()[self.class_name]()
            plugins = self.params.get("plugins")
            if plugins is not None:
                est.set_params(plugins=plugins)
            est.set_params(**{k: v for k, v in self.params.items() if k != "plugins"})
        return est.set_params(random_state=seed)


@dataclass
class Experiment:
    """A validated experiment."""

    name: str = "skcl-run"
    builder: str = "split_digits"
    stream_args: dict[str, Any] = field(default_factory=lambda: {"n_experiences": 5})
    strategies: list[StrategySpec] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    metrics: list[str] = field(default_factory=lambda: ["accuracy", "loss", "forgetting",
                                                        "bwt", "timing"])
    loggers: list[str] = field(default_factory=list)
    output: str = "skcl-report"
    n_jobs: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "stream": {"builder": self.builder, **_jsonable(self.stream_args)},
            "strategies": [{"name": s.label, "class": s.class_name or type(s.template).__name__,
                            "params": _jsonable(s.params if s.template is None
                                                else _explicit_params(s.template))}
                           for s in self.strategies],
            "seeds": list(self.seeds), "metrics": list(self.metrics),
            "loggers": list(self.loggers), "output": self.output,
        }


def _explicit_params(est) -> dict[str, Any]:
    defaults = type(est)().get_params(deep=False)
    return {k: v for k, v in est.get_params(deep=False).items()
            if k != "random_state" and repr(defaults.get(k, object())) != repr(v)}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    return repr(obj)


# ---------------------------------------------------------------------- #
# registries
# ---------------------------------------------------------------------- #
def _strategy_classes() -> dict[str, type]:
    import skcl.strategies as S
    from skcl.strategies import BaseStrategy

    out = {}
    for name in S.__all__:
        obj = getattr(S, name, None)
        if isinstance(obj, type) and issubclass(obj, BaseStrategy) and obj is not BaseStrategy:
            out[name] = obj
    return out


def _plugin_classes() -> dict[str, type]:
    import skcl.plugins as P
    from skcl.plugins import StrategyPlugin

    return {n: getattr(P, n) for n in P.__all__
            if isinstance(getattr(P, n, None), type) and issubclass(getattr(P, n), StrategyPlugin)}


def _builders() -> dict[str, Callable]:
    import skcl.benchmarks as B

    names = [n for n in B.__all__ if n.startswith(("split_", "permuted_"))]
    return {n: getattr(B, n) for n in names}


# ---------------------------------------------------------------------- #
# parsing and validation
# ---------------------------------------------------------------------- #
def _suggest(key: str, options: Sequence[str]) -> str:
    match = difflib.get_close_matches(str(key), list(options), n=3, cutoff=0.5)
    if match:
        return " Did you mean " + " or ".join(repr(m) for m in match) + "?"
    return f" Valid: {', '.join(sorted(options))}." if len(options) <= 12 else ""


def _line_of(text: str, key: str, start_line: int = 0) -> int | None:
    pattern = re.compile(r'^\s*["\']?' + re.escape(key) + r'["\']?\s*=')
    for i, line in enumerate(text.splitlines()[start_line:], start=start_line + 1):
        if pattern.match(line):
            return i
    return None


def _table_lines(text: str, header: str) -> list[int]:
    pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(header) + r"\s*\]\]?\s*(#.*)?$")
    return [i for i, line in enumerate(text.splitlines()) if pattern.match(line)]


def _where(source: str, text: str, key: str, start: int = 0) -> str:
    line = _line_of(text, key, start) if text else None
    if line is None and text:
        headers = _table_lines(text, key)
        line = headers[0] + 1 if headers else None
    return f"{source}, line {line}" if line else source


def _resolve_dotted(value: str, key: str, where: str):
    import importlib

    module_name, _, attr = value.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError):
        raise ExperimentError(f"{where}: '{key}' = {value!r} is not an importable "
                              "'module.Name' path.") from None


def _check_module_kwargs(est, params: dict[str, Any], where_fn) -> None:
    """Check module__/optimizer__/criterion__ keys against the classes' signatures."""
    from skcl.models import MLP

    targets = {"module": est.module if est.module is not None else MLP,
               "optimizer": est.optimizer, "criterion": est.criterion}
    for key in params:
        prefix, _, sub = key.partition("__")
        if prefix not in targets or not sub or "__" in sub:
            continue
        cls = targets[prefix]
        if not isinstance(cls, type):
            continue
        sig = inspect.signature(cls)
        if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            continue
        valid = [p for p in sig.parameters if p not in ("self", "params")]
        if sub not in valid:
            raise ExperimentError(
                f"{where_fn(key)}: unknown parameter '{key}' ({cls.__name__} takes no "
                f"'{sub}').{_suggest(sub, valid)}")


def _plain(value):
    return tuple(_plain(v) for v in value) if isinstance(value, list) else value


def parse_experiment(data: dict[str, Any], text: str = "", source: str = "<experiment>"
                     ) -> Experiment:
    """Validate a parsed experiment (a dict as read from TOML) into an :class:`Experiment`.

    ``text`` (the file's content) lets errors name lines.
    """
    for key in data:
        if key not in _SECTIONS:
            raise ExperimentError(f"{_where(source, text, key)}: unknown section or key "
                                  f"'{key}'.{_suggest(key, _SECTIONS)}")
    exp = Experiment()
    head = data.get("experiment", {})
    if not isinstance(head, dict):
        raise ExperimentError(f"{source}: 'experiment' must be a table ([experiment]).")
    for key in head:
        if key not in _EXPERIMENT_KEYS:
            raise ExperimentError(f"{_where(source, text, key)}: unknown key "
                                  f"'experiment.{key}'.{_suggest(key, _EXPERIMENT_KEYS)}")
    exp.name = str(head.get("name", exp.name))
    exp.output = str(head.get("output", exp.output))
    seeds = head.get("seeds", exp.seeds)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ExperimentError(f"{_where(source, text, 'seeds')}: 'experiment.seeds' must be an "
                              f"integer or a non-empty list of integers; got {seeds!r}.")
    exp.seeds = seeds
    n_jobs = head.get("n_jobs", 1)
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ExperimentError(f"{_where(source, text, 'n_jobs')}: 'experiment.n_jobs' must be a "
                              f"non-zero integer; got {n_jobs!r}.")
    exp.n_jobs = n_jobs
    for field_name, valid in (("metrics", METRIC_NAMES), ("loggers", LOGGER_NAMES)):
        values = head.get(field_name, getattr(exp, field_name))
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ExperimentError(f"{_where(source, text, field_name)}: 'experiment."
                                  f"{field_name}' must be a list of names.")
        for v in values:
            if v not in valid:
                raise ExperimentError(f"{_where(source, text, field_name)}: unknown "
                                      f"{field_name[:-1]} {v!r}.{_suggest(v, valid)}")
        setattr(exp, field_name, list(values))

    stream = dict(data.get("stream", {"builder": "split_digits", "n_experiences": 5}))
    builders = _builders()
    builder = stream.pop("builder", "split_digits")
    if builder not in builders:
        raise ExperimentError(f"{_where(source, text, 'builder')}: unknown stream builder "
                              f"{builder!r}.{_suggest(builder, builders)}")
    sig = inspect.signature(builders[builder])
    for key in stream:
        if key not in sig.parameters:
            raise ExperimentError(f"{_where(source, text, key)}: {builder}() has no argument "
                                  f"'{key}'.{_suggest(key, list(sig.parameters))}")
    exp.builder, exp.stream_args = builder, stream

    strategies = data.get("strategies")
    if not isinstance(strategies, list) or not strategies:
        raise ExperimentError(f"{source}: declare at least one strategy with a "
                              "[[strategies]] table holding class = \"Naive\" (or another).")
    classes = _strategy_classes()
    blocks = _table_lines(text, "strategies") if text else []
    labels: set[str] = set()
    for i, entry in enumerate(strategies):
        start = blocks[i] if i < len(blocks) else 0
        tag = f"strategies[{i}]"

        def where(key, _start=start, _tag=tag):
            return f"{_where(source, text, key, _start)} ({_tag})"

        entry = dict(entry)
        cls_name = entry.pop("class", None)
        if cls_name is None:
            raise ExperimentError(f"{source}, {tag}: missing 'class' (e.g. class = \"Naive\").")
        if cls_name not in classes:
            raise ExperimentError(f"{where('class')}: unknown strategy {cls_name!r}."
                                  f"{_suggest(cls_name, classes)}")
        label = str(entry.pop("name", cls_name))
        if label in labels:
            raise ExperimentError(f"{where('name')}: two strategies are named {label!r}; give "
                                  "each a distinct name = \"...\".")
        labels.add(label)
        params: dict[str, Any] = {}
        plugin_tables = entry.pop("plugins", None)
        if plugin_tables is not None:
            params["plugins"] = _parse_plugins(plugin_tables, where)
        for key, value in entry.items():
            if key in _CLASS_KEYS and isinstance(value, str):
                value = _resolve_dotted(value, key, where(key))
            params[key] = _plain(value)
        if "random_state" in params:
            raise ExperimentError(f"{where('random_state')}: set seeds in [experiment] seeds, "
                                  "not random_state per strategy.")
        try:
            est = classes[cls_name]()
            if "plugins" in params:
                est.set_params(plugins=params["plugins"])
            rest = {k: v for k, v in params.items() if k != "plugins"}
            valid = est.get_params(deep=True)
            for key in rest:
                if key not in valid and not any(key.startswith(p + "__") for p in _CLASS_KEYS):
                    raise ExperimentError(
                        f"{where(key)}: unknown parameter '{key}' for {cls_name}."
                        f"{_suggest(key, [k for k in valid if not k.startswith('_')])}")
            est.set_params(**rest)
            _check_module_kwargs(est, rest, where)
        except ExperimentError:
            raise
        except (ValueError, TypeError) as exc:
            raise ExperimentError(f"{source}, {tag} ({cls_name}): {exc}") from None
        exp.strategies.append(StrategySpec(label, cls_name, params))
    return exp


def _parse_plugins(tables, where) -> list:
    plugin_classes = _plugin_classes()
    if not isinstance(tables, list):
        raise ExperimentError(f"{where('plugins')}: 'plugins' must be a list of tables "
                              "({ class = \"EWCPlugin\", name = \"ewc\", ... }).")
    out = []
    for table in tables:
        table = dict(table)
        cls_name = table.pop("class", None)
        if cls_name not in plugin_classes:
            raise ExperimentError(f"{where('plugins')}: unknown plugin {cls_name!r}."
                                  f"{_suggest(str(cls_name), plugin_classes)}")
        name = table.pop("name", None)
        cls = plugin_classes[cls_name]
        valid = list(cls().get_params(deep=False))
        for key in table:
            if key not in valid:
                raise ExperimentError(f"{where('plugins')}: {cls_name} has no parameter "
                                      f"'{key}'.{_suggest(key, valid)}")
        plugin = cls(**{k: _plain(v) for k, v in table.items()})
        out.append(plugin if name is None else (str(name), plugin))
    return out


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file (see the module docstring)."""
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
    return parse_experiment(data, text, str(path))


# ---------------------------------------------------------------------- #
# running
# ---------------------------------------------------------------------- #
def _metric_objects(names: Sequence[str]) -> list:
    from skcl import evaluation as E

    table = {
        "accuracy": lambda: E.accuracy_metrics(epoch=True, experience=True, stream=True),
        "loss": lambda: E.loss_metrics(epoch=True, experience=True, stream=True),
        "forgetting": lambda: E.forgetting_metrics(experience=True, stream=True),
        "bwt": lambda: E.bwt_metrics(experience=True, stream=True),
        "fwt": lambda: E.forward_transfer_metrics(experience=True, stream=True),
        "confusion_matrix": lambda: E.confusion_matrix_metrics(stream=True),
        "timing": lambda: E.timing_metrics(epoch=True, experience=True),
        "ram": lambda: E.ram_usage_metrics(experience=True),
        "exemplars": lambda: E.exemplars_metrics(),
    }
    return [m for n in names for m in table[n]()]


def _logger_objects(names: Sequence[str], folder: Path, n_experiences: int) -> list:
    from skcl import evaluation as E

    out = []
    for n in names:
        if n == "text":
            out.append(E.TextLogger(folder / "log.txt"))
        elif n == "csv":
            out.append(E.CSVLogger(folder / "csv"))
        elif n == "tensorboard":
            out.append(E.TensorBoardLogger(folder / "tensorboard"))
        elif n == "interactive":
            out.append(E.InteractiveLogger(n_experiences=n_experiences))
    return out


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


def run_one(spec: StrategySpec, builder: str, stream_args: dict, seed: int,
            metrics: Sequence[str] = ("accuracy",), loggers: Sequence[str] = (),
            output: str | None = None, interactive: bool = False) -> dict[str, Any]:
    """Train one strategy with one seed on the declared stream; return a JSON-friendly dict.

    Strategies with ``partial_fit`` learn one experience at a time and are
    evaluated on the test stream after each (one accuracy-matrix row per
    experience); the others (JointTraining) are fit on the whole stream and
    evaluated once (one row).
    """
    import torch

    from skcl.evaluation import EvaluationPlugin, evaluate

    torch.set_num_threads(1)
    args = dict(stream_args)
    args.setdefault("random_state", seed)
    train, test = _builders()[builder](**args)
    est = spec.build(seed)
    folder = Path(output or ".") / "runs" / f"{_safe(spec.label)}_seed{seed}"
    names = list(loggers) + (["interactive"] if interactive else [])
    log_objs = _logger_objects(names, folder, len(train))
    incremental = hasattr(est, "partial_fit")
    eval_seconds = 0.0
    start = time.perf_counter()
    if incremental:
        plugin = EvaluationPlugin(_metric_objects(metrics), loggers=log_objs)
        est.set_params(plugins=[*(est.plugins or []), ("evaluation", plugin)])
        for exp in train:
            est.partial_fit(exp, eval_streams={"test": test})
        live = est.named_plugins_["evaluation"]
        eval_seconds = live.eval_seconds_
        elapsed = time.perf_counter() - start - eval_seconds
        rows = live.rows_["test"]
        last = {k: float(v) for k, v in live.last_metrics_.items() if np.ndim(v) == 0}
    else:
        est.fit(train)
        elapsed = time.perf_counter() - start
        res = evaluate(est, test)
        rows = [[e["accuracy"] for e in res["experiences"]]]
        last = {"Top1_Acc_Stream/eval_phase/test_stream": res["stream"]["accuracy"]}
    for logger in log_objs:
        logger.close()
    from skcl.evaluation import AccuracyMatrix

    R = AccuracyMatrix(rows)
    return {
        "strategy": spec.label,
        "class": spec.class_name or type(est).__name__,
        "seed": int(seed),
        "incremental": incremental,
        "accuracy_matrix": R.to_dict(),
        "final_average_accuracy": float(np.mean(R.matrix[-1])),
        "average_forgetting": R.average_forgetting() if incremental else float("nan"),
        "bwt": R.bwt() if incremental else float("nan"),
        "train_time_s": float(elapsed),
        "last_metrics": last,
    }


def run_experiment(exp: Experiment, *, n_jobs: int | None = None, scheduler: str | None = None,
                   progress: Callable[[str], None] | None = print,
                   interactive: bool = False) -> list[dict[str, Any]]:
    """Run every (strategy, seed) of ``exp``; results come back in declaration order.

    ``n_jobs`` spreads the runs over joblib workers; ``scheduler`` (a Dask
    ``distributed`` scheduler address, e.g. ``"tcp://127.0.0.1:8786"``) sends
    them to a Dask cluster through joblib's Dask backend.
    """
    import joblib

    tasks = [(spec, seed) for spec in exp.strategies for seed in exp.seeds]
    n_jobs = exp.n_jobs if n_jobs is None else n_jobs

    def call(spec, seed, inter=False):
        return joblib.delayed(run_one)(spec, exp.builder, exp.stream_args, seed, exp.metrics,
                                       exp.loggers, exp.output, inter)

    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ImportError("--scheduler needs Dask's distributed package: "
                              "pip install 'skcl[dask]'") from exc
        with Client(scheduler) as client, joblib.parallel_config(backend="dask"):
            if progress:
                progress(f"sending {len(tasks)} runs to {client.scheduler.address}")
            return list(joblib.Parallel()(call(s, k) for s, k in tasks))
    if n_jobs == 1:
        results = []
        for i, (spec, seed) in enumerate(tasks, 1):
            if progress:
                progress(f"[{i}/{len(tasks)}] {spec.label} (seed {seed}) ...")
            res = run_one(spec, exp.builder, exp.stream_args, seed, exp.metrics, exp.loggers,
                          exp.output, interactive)
            if progress:
                progress(f"    final average accuracy {res['final_average_accuracy']:.3f}, "
                         f"train time {res['train_time_s']:.2f} s")
            results.append(res)
        return results
    if progress:
        progress(f"running {len(tasks)} runs with n_jobs={n_jobs}")
    return list(joblib.Parallel(n_jobs=n_jobs)(call(s, k) for s, k in tasks))


# ---------------------------------------------------------------------- #
# reporting
# ---------------------------------------------------------------------- #
_SUMMARY = ("final_average_accuracy", "average_forgetting", "bwt", "train_time_s")


def summarize(results: Sequence[dict]) -> dict[str, dict[str, Any]]:
    """Per strategy: mean (and std over seeds) of the summary metrics, and the mean matrix."""
    from skcl.evaluation import AccuracyMatrix

    out: dict[str, dict[str, Any]] = {}
    for label in dict.fromkeys(r["strategy"] for r in results):
        runs = [r for r in results if r["strategy"] == label]
        entry: dict[str, Any] = {"class": runs[0]["class"], "n_seeds": len(runs),
                                 "incremental": runs[0]["incremental"]}
        for key in _SUMMARY:
            vals = np.array([np.nan if r[key] is None else r[key] for r in runs], dtype=float)
            finite = vals[np.isfinite(vals)]
            entry[key] = float(np.mean(finite)) if len(finite) else None
            entry[key + "_std"] = float(np.std(finite)) if len(finite) > 1 else None
        mats = [AccuracyMatrix.from_dict(r["accuracy_matrix"]).matrix for r in runs]
        entry["accuracy_matrix"] = AccuracyMatrix(np.mean(mats, axis=0)).to_dict()
        out[label] = entry
    return out


def format_table(summary: dict[str, dict[str, Any]]) -> str:
    """The terminal table: one line per strategy."""

    def f(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    lines = [f"{'strategy':<22} {'final avg acc':>13} {'avg forgetting':>15} {'BWT':>8} "
             f"{'train time (s)':>15}"]
    lines.append("-" * len(lines[0]))
    for label, s in summary.items():
        acc = f(s["final_average_accuracy"], ".3f")
        if s.get("final_average_accuracy_std") is not None:
            acc += f"±{s['final_average_accuracy_std']:.3f}"
        lines.append(f"{label:<22} {acc:>13} {f(s['average_forgetting'], '.3f'):>15} "
                     f"{f(s['bwt'], '.3f'):>8} {f(s['train_time_s'], '.2f'):>15}")
    return "\n".join(lines)


def write_report(exp: Experiment, results: Sequence[dict], folder: str | Path) -> Path:
    """Write report.json, metrics.csv and the PNG plots into ``folder``; return it."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skcl.evaluation import AccuracyMatrix

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    report = {"experiment": exp.to_dict(), "summary": summary, "runs": _jsonable(list(results))}
    (folder / "report.json").write_text(json.dumps(_jsonable(report), indent=2))
    with open(folder / "metrics.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["strategy", "class", "seed", *_SUMMARY])
        for r in results:
            writer.writerow([r["strategy"], r["class"], r["seed"],
                             *["" if r[k] is None or not np.isfinite(r[k]) else f"{r[k]:.6g}"
                               for k in _SUMMARY]])
    curves = {}
    for label, s in summary.items():
        R = AccuracyMatrix.from_dict(s["accuracy_matrix"])
        seeds = "" if s["n_seeds"] == 1 else f", mean of {s['n_seeds']} seeds"
        ax = R.plot(title=f"{label}: accuracy matrix{seeds}")
        if not s["incremental"]:
            ax.set_yticks([0])
            ax.set_yticklabels(["all (joint)"])
            ax.set_ylabel("after training")
        ax.figure.tight_layout()
        ax.figure.savefig(folder / f"accuracy_matrix_{_safe(label)}.png", dpi=110)
        plt.close(ax.figure)
        curves[label] = (R, s["incremental"])
    fig, ax = plt.subplots(figsize=(8, 5))
    n_test = max(R.n_test for R, _ in curves.values()) if curves else 1
    colors = plt.get_cmap("tab20").colors
    markers = "osD^v<>ph*"
    for i, (label, (R, incremental)) in enumerate(curves.items()):
        if incremental:
            ax.plot(range(R.n_trained), R.average_accuracies(), marker=markers[i % 9],
                    color=colors[(2 * i) % 20 + (i // 10) % 2], label=label)
        else:
            ax.axhline(float(np.mean(R.matrix[-1])), linestyle="--", color="gray", alpha=0.7)
            ax.plot([n_test - 1], [float(np.mean(R.matrix[-1]))], marker="*", markersize=12,
                    linestyle="none", label=f"{label} (whole stream)")
    ax.set_xticks(range(n_test))
    ax.set_xlabel("after training experience")
    ax.set_ylabel("average accuracy on experiences seen")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{exp.name}: average accuracy after each experience")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / "average_accuracy.png", dpi=110)
    plt.close(fig)
    return folder
