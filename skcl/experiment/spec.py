"""What an experiment is: its streams, strategies, seeds, metrics, loggers and output folder.

Plain data (dataclasses); :mod:`skcl.experiment.parse` builds them from a TOML
file, :mod:`skcl.experiment.run` runs them, :mod:`skcl.experiment.report`
writes what they produced.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone

__all__ = ["ExperimentError", "StreamSpec", "StrategySpec", "Experiment", "METRIC_NAMES",
           "LOGGER_NAMES", "SEED"]

#: Metric names accepted in ``metrics = [...]``.
METRIC_NAMES = ("accuracy", "loss", "forgetting", "bwt", "fwt", "confusion_matrix", "timing",
                "ram", "exemplars")
#: Logger names accepted in ``loggers = [...]``.
LOGGER_NAMES = ("text", "csv", "tensorboard", "interactive")
#: ``random_state = "seed"`` in a ``[stream]`` table: the stream follows each run's seed.
SEED = "seed"


class ExperimentError(ValueError):
    """A malformed, inconsistent or unsafe experiment declaration (``skcl run`` exits with 2)."""


@dataclass
class StreamSpec:
    """One stream of an experiment: a label, a builder of :mod:`skcl.benchmarks` and its arguments.

    The stream's ``random_state`` (its class order, split and permutations) is
    fixed across the experiment's seeds (``0`` unless given), so that column
    ``j`` of every seed's accuracy matrix holds the same classes; with
    ``random_state = "seed"`` it follows each run's seed instead.
    """

    builder: str = "split_digits"
    args: dict[str, Any] = field(default_factory=lambda: {"n_experiences": 5})
    label: str = ""

    def __post_init__(self):
        if not self.label:
            self.label = self.builder

    def arguments(self, seed: int) -> dict[str, Any]:
        """The builder's keyword arguments for a run with ``seed``."""
        args = dict(self.args)
        if args.get("random_state", 0) == SEED:
            args["random_state"] = seed
        args.setdefault("random_state", 0)
        return args

    def describe(self) -> str:
        """``split_digits(n_experiences=5, random_state=0)``: the header's line for this stream."""
        args = dict(self.args)
        args.setdefault("random_state", 0)
        shown = ", ".join(f"{k}={v!r}" if isinstance(v, str) and v != SEED else f"{k}={v}"
                          for k, v in args.items())
        return f"{self.builder}({shown})"


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
            from skcl.experiment.registry import strategy_classes

            est = strategy_classes()[self.class_name]()
            plugins = self.params.get("plugins")
            if plugins is not None:
                est.set_params(plugins=clone(plugins, safe=False))
            est.set_params(**{k: v for k, v in self.params.items() if k != "plugins"})
        return est.set_params(random_state=seed)


@dataclass
class Experiment:
    """A validated experiment (see :func:`skcl.experiment.load_experiment`)."""

    name: str = "skcl-run"
    streams: list[StreamSpec] = field(default_factory=lambda: [StreamSpec()])
    strategies: list[StrategySpec] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    metrics: list[str] = field(default_factory=lambda: ["accuracy", "loss", "forgetting",
                                                        "bwt", "timing"])
    loggers: list[str] = field(default_factory=list)
    output: str = "skcl-report"
    n_jobs: int = 1
    trust: list[str] = field(default_factory=list)

    # The first stream, for code written when an experiment had exactly one.
    @property
    def builder(self) -> str:
        return self.streams[0].builder

    @property
    def stream_args(self) -> dict[str, Any]:
        return self.streams[0].args

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-friendly data (written into report.json and report.html)."""
        return {
            "name": self.name,
            "streams": [{"label": s.label, "builder": s.builder,
                         **jsonable({"random_state": 0, **s.args})} for s in self.streams],
            "strategies": [{"name": s.label, "class": s.class_name or type(s.template).__name__,
                            "params": jsonable(s.params if s.template is None
                                               else explicit_params(s.template))}
                           for s in self.strategies],
            "seeds": list(self.seeds), "metrics": list(self.metrics),
            "loggers": list(self.loggers), "output": self.output,
            "trust": list(self.trust),
        }


def explicit_params(est) -> dict[str, Any]:
    """The parameters of ``est`` that differ from its class's defaults (``random_state`` aside)."""
    defaults = type(est)().get_params(deep=False)
    return {k: v for k, v in est.get_params(deep=False).items()
            if k != "random_state" and repr(defaults.get(k, object())) != repr(v)}


def jsonable(obj):
    """``obj`` with numpy scalars, tuples, classes and non-finite floats made JSON-friendly."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    return repr(obj)


def safe_name(label: str) -> str:
    """``label`` usable as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
