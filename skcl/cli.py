"""The `skcl` command line.

``skcl run`` trains the default strategies on a class-incremental stream
(split digits) and a domain-incremental one (permuted digits) and writes a
report; ``skcl run experiment.toml`` runs a declared experiment (see
:mod:`skcl.experiment`). Exit codes: 0 done, 2 a bad experiment, stream or
output folder (nothing trained), 130 interrupted (no report written).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _default_experiment(args):
    from skcl.default_run import DEFAULT_STREAMS, default_strategies
    from skcl.experiment import Experiment, StrategySpec, StreamSpec

    specs = [StrategySpec(label=name, class_name=type(est).__name__, template=est)
             for name, est in default_strategies(random_state=args.seed)]
    streams = [StreamSpec(builder, dict(kwargs)) for builder, kwargs in DEFAULT_STREAMS]
    return Experiment(
        name="skcl run (default)", streams=streams, strategies=specs, seeds=[args.seed],
        metrics=["accuracy", "forgetting", "bwt"], loggers=[],
        output=args.output or "skcl-report",
    )


def _load(args):
    from skcl.experiment import load_experiment

    if args.experiment is None:
        return _default_experiment(args)
    exp = load_experiment(args.experiment, trust=args.trust)
    if args.output:
        exp.output = args.output
    if args.seed_given:
        exp.seeds = [args.seed]
    return exp


def _header(exp, scenarios: dict[str, str]) -> str:
    n_runs = len(exp.strategies) * len(exp.seeds) * len(exp.streams)
    lines = [f"skcl run: {exp.name}: {len(exp.strategies)} strategies x {len(exp.seeds)} "
             f"seed(s) {exp.seeds} x {len(exp.streams)} stream(s) = {n_runs} runs"]
    lines += [f"  stream {s.label}: {s.describe()} [{scenarios.get(s.label, '?')}]"
              for s in exp.streams]
    return "\n".join(lines)


def _run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from skcl.experiment import (
        ExperimentError,
        check_streams,
        format_table,
        prepare_output,
        run_experiment,
        summarize,
        write_report,
    )

    try:
        exp = _load(args)
        out = Path(exp.output)
        if not out.is_absolute():
            out = Path.cwd() / out
        exp.output = str(out)
        prepare_output(out)
        scenarios = check_streams(exp)
    except ExperimentError as exc:
        print(f"skcl run: error: {exc}", file=sys.stderr)
        return 2
    print(_header(exp, scenarios), flush=True)
    start = time.perf_counter()
    interactive = args.n_jobs in (None, 1) and args.scheduler is None and sys.stderr.isatty()
    try:
        results = run_experiment(exp, n_jobs=args.n_jobs, scheduler=args.scheduler,
                                 progress=None if args.quiet else _print,
                                 interactive=interactive)
    except ImportError as exc:
        print(f"skcl run: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nskcl run: interrupted; no report written.", file=sys.stderr)
        return 130
    print()
    print(format_table(summarize(results)))
    folder = write_report(exp, results, out)
    print()
    print(f"total time {time.perf_counter() - start:.1f} s")
    print(f"report written to {folder} (report.html, report.json, metrics.csv, PNG plots)")
    return 0


def _print(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skcl`` command."""
    import skcl

    parser = argparse.ArgumentParser(prog="skcl", description="Continual learning, sklearn-style.")
    parser.add_argument("--version", action="version", version=f"skcl {skcl.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="train strategies on a stream and report",
        description="Without EXPERIMENT: train the default strategies on split digits "
                    "(class-incremental) and permuted digits (domain-incremental), 5 "
                    "experiences each. With EXPERIMENT (a TOML file): run that experiment.")
    run.add_argument("experiment", nargs="?", default=None, help="experiment TOML file")
    run.add_argument("--seed", type=int, default=None,
                     help="seed (default 0; overrides the file's seeds)")
    run.add_argument("--output", "-o", default=None,
                     help="report folder (default ./skcl-report or the file's output); an "
                          "earlier report in it is replaced")
    run.add_argument("--n-jobs", type=int, default=None,
                     help="parallel runs through joblib (default: the file's n_jobs or 1)")
    run.add_argument("--scheduler", default=None,
                     help="Dask distributed scheduler address (joblib's Dask backend)")
    run.add_argument("--trust", action="append", default=[], metavar="PREFIX",
                     help="let the file name classes under this importable prefix (e.g. "
                          "'mypackage.'); repeatable. Trust such a file as you trust code.")
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
