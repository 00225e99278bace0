"""Run an experiment: every (stream, strategy, seed), serially, with joblib or on Dask.

Timing is fair: each process first does one untimed warm-up (a small model
trained and evaluated once, so torch's and skorch's start-up costs fall on no
strategy), and a run's ``train_time_s`` is the wall-clock time of its
``partial_fit``/``fit`` calls over the whole stream, one torch thread, without
the evaluation after each experience and without building the stream.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skcl.experiment import registry as R
from skcl.experiment.spec import Experiment, ExperimentError, StrategySpec, StreamSpec, safe_name

__all__ = ["run_one", "run_experiment", "prepare_output", "check_streams", "scenario_of",
           "TIME_COVERS", "REPORT_FILES"]

#: What ``train_time_s`` measures (written into the report).
TIME_COVERS = ("train time: wall-clock seconds of partial_fit/fit over the whole stream, one "
               "torch thread per run, after one untimed warm-up per process; it excludes "
               "building the stream and the evaluation on the test stream after each experience.")
#: Files and folders a report consists of (removed from the output folder before a new run).
REPORT_FILES = ("report.json", "report.html", "metrics.csv", "accuracy_matrix_*.png",
                "average_accuracy*.png", "runs")

_STREAMS: dict[tuple, tuple] = {}  # a few built streams, reused within a process
_WARM = False


def _build_stream(stream: StreamSpec, seed: int):
    args = stream.arguments(seed)
    key = (stream.builder, repr(sorted(args.items())))
    if key not in _STREAMS:
        if len(_STREAMS) >= 4:
            _STREAMS.pop(next(iter(_STREAMS)))
        _STREAMS[key] = R.builders()[stream.builder](**args)
    return _STREAMS[key]


def check_streams(exp: Experiment) -> dict[str, str]:
    """Build every stream once (first seed) so that a bad argument fails before any training.

    Returns
    -------
    dict
        Stream label -> its scenario (:func:`scenario_of`).

    Raises
    ------
    ExperimentError
        Naming the stream and the builder's own message.
    """
    scenarios = {}
    for stream in exp.streams:
        try:
            train, _ = _build_stream(stream, exp.seeds[0])
        except (ValueError, TypeError, OSError) as exc:
            raise ExperimentError(f"stream {stream.label!r}: {stream.describe()} cannot be "
                                  f"built: {exc}") from None
        if not len(train):
            raise ExperimentError(f"stream {stream.label!r}: {stream.describe()} is empty.")
        scenarios[stream.label] = scenario_of(train)
    return scenarios


def prepare_output(folder: str | Path) -> Path:
    """Create ``folder``, check that it is writable and remove an earlier report from it.

    Only the report's own files (:data:`REPORT_FILES`) are removed; other files stay.

    Raises
    ------
    ExperimentError
        When the folder cannot be created or written (a file in the way, no permission).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".skcl-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ExperimentError(f"The output folder {folder} cannot be used: {exc}. Choose "
                              "another with --output (or output = \"...\" in [experiment]).") \
            from None
    for pattern in REPORT_FILES:
        for path in folder.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return folder


def scenario_of(train: Sequence) -> str:
    """``"class-incremental"``, ``"domain-incremental"``, ``"task-incremental"`` or ``"mixed"``.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits, split_digits
    >>> from skcl.experiment import scenario_of
    >>> scenario_of(split_digits(5)[0]), scenario_of(permuted_digits(3)[0])
    ('class-incremental', 'domain-incremental')
    """
    classes = [frozenset(np.asarray(e.classes).tolist()) for e in train]
    tasks = [frozenset(np.unique(np.asarray(e.task_labels)).tolist()) for e in train]
    if len(train) > 1 and len(set().union(*tasks)) == len(train) and all(
            len(t) == 1 for t in tasks):
        return "task-incremental"
    if len(set().union(*tasks)) > 1:
        return "mixed"
    if all(c == classes[0] for c in classes):
        return "domain-incremental"
    if sum(len(c) for c in classes) == len(frozenset().union(*classes)):
        return "class-incremental"
    return "mixed"


def _warm_up(train: Sequence, test: Sequence) -> None:
    """Once per process, untimed: train and evaluate a small model so that torch's and
    skorch's one-off start-up costs fall on no timed run."""
    global _WARM
    if _WARM:
        return
    from skcl.evaluation import EvaluationPlugin, accuracy_metrics
    from skcl.strategies import Naive

    exp, ev = train[0], test[0]
    n = min(64, len(exp.y))
    net = Naive(module__hidden_sizes=(8,), max_epochs=1, batch_size=16, random_state=0,
                plugins=[("evaluation", EvaluationPlugin(accuracy_metrics(experience=True)))])
    net.partial_fit(exp.X[:n], exp.y[:n], eval_streams={"test": [ev]})
    net.predict(ev.X[:n])
    _WARM = True


def _train(est, train, test, metrics, log_objs) -> tuple[list, dict, float, bool]:
    from skcl.evaluation import EvaluationPlugin, evaluate

    if hasattr(est, "partial_fit"):
        plugin = EvaluationPlugin(R.metric_objects(metrics), loggers=log_objs)
        est.set_params(plugins=[*(est.plugins or []), ("evaluation", plugin)])
        start = time.perf_counter()
        for exp in train:
            est.partial_fit(exp, eval_streams={"test": test})
        live = est.named_plugins_["evaluation"]
        elapsed = time.perf_counter() - start - live.eval_seconds_
        last = {k: float(v) for k, v in live.last_metrics_.items() if np.ndim(v) == 0}
        return live.rows_["test"], last, elapsed, True
    start = time.perf_counter()
    est.fit(train)
    elapsed = time.perf_counter() - start
    res = evaluate(est, test)
    last = {"Top1_Acc_Stream/eval_phase/test_stream": res["stream"]["accuracy"]}
    return [[e["accuracy"] for e in res["experiences"]]], last, elapsed, False


def run_one(spec: StrategySpec, stream: StreamSpec, seed: int,
            metrics: Sequence[str] = ("accuracy",), loggers: Sequence[str] = (),
            output: str | None = None, interactive: bool = False,
            run_folder: str | None = None) -> dict[str, Any]:
    """Train one strategy with one seed on one stream; return a JSON-friendly dict.

    Strategies with ``partial_fit`` learn one experience at a time and are
    evaluated on the test stream after each (one accuracy-matrix row per
    experience); the others (JointTraining) are fit on the whole stream and
    evaluated once (one row). Runs with one torch thread; the caller's thread
    setting is restored afterwards.
    """
    import torch

    from skcl.evaluation import AccuracyMatrix

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        train, test = _build_stream(stream, seed)
        _warm_up(train, test)
        est = spec.build(seed)
        run_folder = run_folder or f"{safe_name(spec.label)}_seed{seed}"
        folder = Path(output or ".") / "runs" / run_folder
        log_objs = R.logger_objects(list(loggers) + (["interactive"] if interactive else []),
                                    folder, len(train))
        try:
            rows, last, elapsed, incremental = _train(est, train, test, metrics, log_objs)
        finally:
            for logger in log_objs:
                logger.close()
    finally:
        torch.set_num_threads(threads)
    M = AccuracyMatrix(rows)
    return {
        "stream": stream.label,
        "scenario": scenario_of(train),
        "strategy": spec.label,
        "class": spec.class_name or type(est).__name__,
        "seed": int(seed),
        "incremental": incremental,
        "experience_classes": [sorted(np.asarray(e.classes).tolist()) for e in test],
        "accuracy_matrix": M.to_dict(),
        "final_average_accuracy": float(np.mean(M.matrix[-1])),
        "average_forgetting": M.average_forgetting() if incremental else float("nan"),
        "bwt": M.bwt() if incremental else float("nan"),
        "train_time_s": float(elapsed),
        "last_metrics": last,
    }


def _progress_line(i: int, n: int, res: dict, several_streams: bool) -> str:
    where = f" on {res['stream']}" if several_streams else ""
    return (f"[{i}/{n}] {res['strategy']} (seed {res['seed']}){where}: final average accuracy "
            f"{res['final_average_accuracy']:.3f}, train time {res['train_time_s']:.2f} s")


def run_experiment(exp: Experiment, *, n_jobs: int | None = None, scheduler: str | None = None,
                   progress: Callable[[str], None] | None = print,
                   interactive: bool = False) -> list[dict[str, Any]]:
    """Run every (stream, strategy, seed) of ``exp``; results come back in declaration order.

    ``n_jobs`` spreads the runs over joblib workers; ``scheduler`` (a Dask
    ``distributed`` scheduler address, e.g. ``"tcp://127.0.0.1:8786"``) sends
    them to a Dask cluster through joblib's Dask backend. Each run prints one
    progress line when it ends, in every mode. The streams are built once
    before any training, so a bad stream argument fails first.
    """
    import joblib

    check_streams(exp)
    several = len(exp.streams) > 1
    tasks = [(stream, spec, seed) for stream in exp.streams for spec in exp.strategies
             for seed in exp.seeds]
    n_jobs = exp.n_jobs if n_jobs is None else n_jobs

    def folder(stream, spec, seed):
        prefix = f"{safe_name(stream.label)}_" if several else ""
        return f"{prefix}{safe_name(spec.label)}_seed{seed}"

    def args(stream, spec, seed, inter=False):
        return (spec, stream, seed, exp.metrics, exp.loggers, exp.output, inter,
                folder(stream, spec, seed))

    def indexed(i, *a):
        return i, run_one(*a)

    results: list[Any] = [None] * len(tasks)
    if n_jobs == 1 and scheduler is None:
        for i, task in enumerate(tasks):
            results[i] = run_one(*args(*task, inter=interactive))
            if progress:
                progress(_progress_line(i + 1, len(tasks), results[i], several))
        return results
    parallel_kw: dict[str, Any] = {"return_as": "generator_unordered"}
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ImportError("--scheduler needs Dask's distributed package: "
                              "pip install 'skcl[dask]'") from exc
        client = Client(scheduler)
        config = joblib.parallel_config(backend="dask")
        intro = f"sending {len(tasks)} runs to {client.scheduler.address}"
    else:
        client, config = None, joblib.parallel_config(n_jobs=n_jobs)
        intro = f"running {len(tasks)} runs with n_jobs={n_jobs}"
    try:
        with config:
            if progress:
                progress(intro)
            calls = (joblib.delayed(indexed)(i, *args(*t)) for i, t in enumerate(tasks))
            for done, (i, res) in enumerate(joblib.Parallel(**parallel_kw)(calls), 1):
                results[i] = res
                if progress:
                    progress(_progress_line(done, len(tasks), res, several))
    finally:
        if client is not None:
            client.close()
    return results
