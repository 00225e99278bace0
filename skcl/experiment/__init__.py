"""Declared experiments: read a TOML file, validate it, run it (in parallel), write a report.

An experiment file::

    [experiment]
    name = "digits"
    seeds = [0, 1]                  # vary the model's initialisation and minibatch order
    output = "skcl-report"          # folder, relative to the current directory
    metrics = ["accuracy", "loss", "forgetting", "bwt", "timing"]
    loggers = ["csv"]               # text, csv, tensorboard (one folder per run)

    [stream]                        # or several [[streams]] tables, each with a name
    builder = "split_digits"        # a stream builder of skcl.benchmarks
    n_experiences = 5               # the other keys are its arguments
    random_state = 0                # fixed across seeds (default 0); "seed" follows them

    [[strategies]]
    class = "Naive"                 # a class of skcl.strategies
    lr = 0.1                        # the same keys as set_params
    module__hidden_sizes = [100]
    optimizer = "torch.optim.Adam"  # class references: allow-listed namespaces only

    [[strategies]]
    class = "EWC"
    name = "EWC-10"                 # optional label
    ewc_lambda = 10.0
    train_transform = [{ class = "RandomCrop", size = 8, padding = 1 }]
    plugins = [{ class = "LRSchedulerPlugin", name = "sched" }]

The file is data, not code: class references resolve only from
:data:`~skcl.experiment.registry.ALLOWED_NAMESPACES` (skcl's models, ``torch.nn``
modules and losses, ``torch.optim`` optimizers) unless trusted explicitly
(``skcl run FILE --trust mypackage.`` or ``[trust] modules = ["mypackage."]``),
and nothing else is imported while it is read. Every key and value is checked
(the strategies' declared constraints, the builders' signatures) before any
training starts; a mistake raises :class:`ExperimentError` naming the key and
its line.

The package: :mod:`~skcl.experiment.spec` (the dataclasses),
:mod:`~skcl.experiment.parse` (TOML -> spec, checked),
:mod:`~skcl.experiment.registry` (what may be named),
:mod:`~skcl.experiment.run` (runs, serial/joblib/Dask) and
:mod:`~skcl.experiment.report` (table, JSON, CSV, PNG, HTML).
"""

from skcl.experiment.parse import load_experiment, parse_experiment
from skcl.experiment.registry import ALLOWED_NAMESPACES
from skcl.experiment.report import format_table, render_html, summarize, write_report
from skcl.experiment.run import (
    TIME_COVERS,
    check_streams,
    prepare_output,
    run_experiment,
    run_one,
    scenario_of,
)
from skcl.experiment.spec import (
    LOGGER_NAMES,
    METRIC_NAMES,
    Experiment,
    ExperimentError,
    StrategySpec,
    StreamSpec,
)

__all__ = [
    "ExperimentError",
    "Experiment",
    "StrategySpec",
    "StreamSpec",
    "load_experiment",
    "parse_experiment",
    "run_experiment",
    "run_one",
    "write_report",
    "render_html",
    "summarize",
    "format_table",
    "prepare_output",
    "check_streams",
    "scenario_of",
    "METRIC_NAMES",
    "LOGGER_NAMES",
    "ALLOWED_NAMESPACES",
    "TIME_COVERS",
]
