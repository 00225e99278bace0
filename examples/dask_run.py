"""Run a declared experiment on a Dask cluster (here a LocalCluster on loopback).

On a real cluster, start ``dask scheduler`` and workers, then run
``skcl run experiment.toml --scheduler tcp://HOST:8786``. Needs
``pip install "skcl[dask]"``.

    python examples/dask_run.py
"""

import argparse
from pathlib import Path

from distributed import LocalCluster

from skcl.experiment import format_table, load_experiment, run_experiment, summarize


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", default=str(Path(__file__).with_name("experiment.toml")))
    parser.add_argument("--n-experiences", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    exp = load_experiment(args.experiment)
    exp.loggers = []
    if args.n_experiences:
        exp.stream_args["n_experiences"] = args.n_experiences
    if args.epochs:
        for spec in exp.strategies:
            spec.params["max_epochs"] = args.epochs
    if args.output:
        exp.output = args.output
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      protocol="tcp", host="127.0.0.1", dashboard_address=None) as cluster:
        results = run_experiment(exp, scheduler=cluster.scheduler_address)
    print(format_table(summarize(results)))


if __name__ == "__main__":
    main()
