"""The `skcl` command line."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _run_default(args) -> int:
    from skcl.benchmarks import split_digits
    from skcl.default_run import default_strategies

    train, test = split_digits(n_experiences=5, random_state=args.seed)
    print(f"skcl run: split-digits, {len(train)} experiences, seed {args.seed}")
    print(f"{'strategy':<16} {'final avg acc':>14} {'train time (s)':>15}")
    for name, est in default_strategies(random_state=args.seed):
        start = time.perf_counter()
        if hasattr(est, "partial_fit"):
            for exp in train:
                est.partial_fit(exp)
        else:
            est.fit(train)
        elapsed = time.perf_counter() - start
        acc = float(np.mean([est.score(exp) for exp in test]))
        print(f"{name:<16} {acc:>14.3f} {elapsed:>15.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="skcl", description="Continual learning, sklearn-style.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train strategies on a stream and report")
    run.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run_default(args)
    return 1  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
