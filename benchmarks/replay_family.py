"""Replay family benchmark: accuracy table and Replay's per-experience cost.

Table: class-incremental split-digits (5 experiences; or split Fashion-MNIST
with ``--dataset fashion``), the default-run settings (``skcl.default_run.COMMON``:
MLP(100), SGD lr=0.1, 5 epochs, batch 32) for every strategy; final average
accuracy, forgetting (mean over all but the last experience of best-earlier
accuracy minus final accuracy) and training time, mean over seeds.

Cost: Replay (200 exemplars) on a 20-experience permuted-digits stream; time
of each experience; ratio of the last three experiences' mean time to that of
experiences 1-3 (experience 0 has no replay yet) and to experience 0.

    python benchmarks/replay_family.py [--dataset digits|fashion] [--seeds 3] [--skip-cost]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from skcl.benchmarks import permuted_digits, split_digits, split_fashion_mnist
from skcl.default_run import COMMON
from skcl.strategies import GDumb, GSS_greedy, ICaRL, Naive, Replay


def make(name: str, seed: int):
    common = dict(COMMON, random_state=seed)
    return {
        "Naive": lambda: Naive(**common),
        "Replay (200)": lambda: Replay(mem_size=200, **common),
        "GDumb (200)": lambda: GDumb(mem_size=200, **common),
        "GSS_greedy (200)": lambda: GSS_greedy(mem_size=200, **common),
        "ICaRL (200)": lambda: ICaRL(memory_size=200, **common),
    }[name]()


def run(net, train, test):
    R = np.zeros((len(train), len(test)))
    t0 = time.perf_counter()
    elapsed = 0.0
    for i, exp in enumerate(train):
        t0 = time.perf_counter()
        net.partial_fit(exp)
        elapsed += time.perf_counter() - t0
        R[i] = [net.score(e) for e in test]
    final = R[-1].mean()
    forgetting = np.mean([R[:-1, j].max() - R[-1, j] for j in range(len(test) - 1)])
    return final, forgetting, elapsed


def table(dataset: str, seeds: int, names) -> None:
    rows = []
    for name in names:
        res = []
        for seed in range(seeds):
            if dataset == "digits":
                train, test = split_digits(n_experiences=5, random_state=seed)
            else:
                train, test = split_fashion_mnist(n_experiences=5, random_state=seed,
                                                  dtype="float32", flatten=True)
            res.append(run(make(name, seed), train, test))
        res = np.array(res)
        rows.append((name, *res.mean(0), *res.std(0)))
        print(f"{name:18s} acc {res[:, 0].mean():.3f}±{res[:, 0].std():.3f}  "
              f"forgetting {res[:, 1].mean():.3f}  time {res[:, 2].mean():.2f}s", flush=True)
    print("\n| strategy | final avg accuracy | forgetting | time (s) |")
    print("| --- | --- | --- | --- |")
    for name, acc, fgt, t, sacc, _, _ in rows:
        print(f"| {name} | {acc:.3f} ± {sacc:.3f} | {fgt:.3f} | {t:.2f} |")


def cost(n_experiences: int = 20) -> None:
    train, _ = permuted_digits(n_experiences=n_experiences, random_state=0)
    net = Replay(mem_size=200, **dict(COMMON, random_state=0))
    times = []
    for exp in train:
        t0 = time.perf_counter()
        net.partial_fit(exp)
        times.append(time.perf_counter() - t0)
    times = np.array(times)
    print("\nReplay per-experience time (s):", np.round(times, 3).tolist())
    print(f"last-3 / experiences-1..3 ratio: {times[-3:].mean() / times[1:4].mean():.3f}")
    print(f"last-3 / experience-0 ratio:     {times[-3:].mean() / times[0]:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="digits", choices=["digits", "fashion"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--strategies", nargs="*", default=[
        "Naive", "Replay (200)", "GDumb (200)", "GSS_greedy (200)", "ICaRL (200)"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"dataset={args.dataset} seeds={args.seeds} settings={COMMON}, torch threads=1")
    table(args.dataset, args.seeds, args.strategies)
    if not args.skip_cost:
        cost()
