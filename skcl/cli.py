"""The `skcl` command line.

``skcl run`` trains the default strategies on split-digits and writes a report;
``skcl run experiment.toml`` runs a declared experiment (see :mod:`skcl.experiment`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _default_experiment(args):
    from skcl.default_run import default_strategies
    from skcl.experiment import Experiment, StrategySpec

    specs = [StrategySpec(label=name, class_name=type(est).__name__, template=est)
             for name, est in default_strategies(random_state=args.seed)]
    return Experiment(
        name="skcl run (split-digits)", builder="split_digits",
        stream_args={"n_experiences": 5, "random_state": args.seed}, strategies=specs,
        seeds=[args.seed], metrics=["accuracy", "forgetting", "bwt"], loggers=[],
        output=args.output or "skcl-report",
    )


def _run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from skcl.experiment import (
        ExperimentError,
        format_table,
        load_experiment,
        run_experiment,
        write_report,
    )
    from skcl.experiment import summarize as _summarize

    if args.experiment is None:
        exp = _default_experiment(args)
    else:
        try:
            exp = load_experiment(args.experiment)
        except ExperimentError as exc:
            print(f"skcl run: error: {exc}", file=sys.stderr)
            return 2
        if args.output:
            exp.output = args.output
        if args.seed_given:
            exp.seeds = [args.seed]
    out = Path(exp.output)
    if not out.is_absolute():
        out = Path.cwd() / out
    exp.output = str(out)
    n_runs = len(exp.strategies) * len(exp.seeds)
    stream_args = ", ".join(f"{k}={v}" for k, v in exp.stream_args.items())
    print(f"skcl run: {exp.name}: {exp.builder}({stream_args}), "
          f"{len(exp.strategies)} strategies x {len(exp.seeds)} seed(s) = {n_runs} runs")
    start = time.perf_counter()
    interactive = args.n_jobs in (None, 1) and args.scheduler is None and sys.stderr.isatty()
    try:
        results = run_experiment(exp, n_jobs=args.n_jobs, scheduler=args.scheduler,
                                 progress=None if args.quiet else print,
                                 interactive=interactive)
    except ImportError as exc:
        print(f"skcl run: error: {exc}", file=sys.stderr)
        return 2
    summary = _summarize(results)
    print()
    print(format_table(summary))
    folder = write_report(exp, results, out)
    print()
    print(f"total time {time.perf_counter() - start:.1f} s")
    print(f"report written to {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skcl`` command."""
    parser = argparse.ArgumentParser(prog="skcl", description="Continual learning, sklearn-style.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="train strategies on a stream and report",
        description="Without EXPERIMENT: train the default strategies on split-digits "
                    "(5 experiences). With EXPERIMENT (a TOML file): run that experiment.")
    run.add_argument("experiment", nargs="?", default=None, help="experiment TOML file")
    run.add_argument("--seed", type=int, default=None,
                     help="seed (default 0; overrides the file's seeds)")
    run.add_argument("--output", "-o", default=None,
                     help="report folder (default ./skcl-report or the file's output)")
    run.add_argument("--n-jobs", type=int, default=None,
                     help="parallel runs through joblib (default: the file's n_jobs or 1)")
    run.add_argument("--scheduler", default=None,
                     help="Dask distributed scheduler address (joblib's Dask backend)")
    run.add_argument("--quiet", "-q", action="store_true", help="no per-run progress lines")
    args = parser.parse_args(argv)
    args.seed_given = args.seed is not None
    if args.seed is None:
        args.seed = 0
    if args.command == "run":
        return _run(args)
    return 1  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
