"""Regularization and gradient-projection family (issue 5): accuracy, forgetting and time.

Run: ``python benchmarks/regularization_family.py`` (one torch thread, CPU). Prints a
Markdown table: final average accuracy over the test experiences, average
forgetting (accuracy on experience k right after training it minus the final
accuracy on it, averaged over all but the last experience) and training time.
Then the A-GEM vs GEM timing on a 10-experience permuted stream.

Settings (same network and optimizer for every strategy of a stream; hyper-
parameters picked by a small sweep on seed 0, reported here as they are):

* permuted-digits, 5 experiences, domain-incremental: MLP(100), SGD lr 0.1,
  3 epochs, batch 32. EWC lambda=30, SI c=1 eps=0.1, A-GEM 250 patterns/exp with
  sample 64, GEM 100 patterns/exp with margin 0.5, LwF alpha=1, LFL lambda_e=1.
* task-incremental split-digits (multi-head), 5 experiences: MLP(8), lr 0.1,
  12 epochs (a small network, so that Naive forgets at all). LwF alpha=1,
  EWC lambda=3, SI c=0.3, LFL lambda_e=1.
* class-incremental split-digits, 5 experiences: MLP(100), lr 0.1, 3 epochs.
  GEM/A-GEM as on permuted-digits, LwF alpha=1, EWC lambda=30.
* online class-incremental split-digits (pieces of 10 samples): MLP(64), lr 0.01,
  1 epoch. CoPE p_size=64, mem_size=200, defaults otherwise.
* timing: 10-experience permuted-digits, the A-GEM paper's MLP(256, 256), one epoch,
  250 patterns per experience for both, A-GEM sample 64, GEM margin 0.5. (With the
  tiny MLP(100) of the table above the per-step cost is Python/launch overhead, not
  arithmetic, and the ratio measured 2.7x.)
"""

from __future__ import annotations

import time

import numpy as np
import torch

from skcl.benchmarks import online_stream, permuted_digits, split_digits
from skcl.strategies import AGEM, EWC, GEM, LFL, CoPE, LwF, Naive, SynapticIntelligence


def evaluate(net, train, test):
    n = len(test)
    acc = np.full((len(train), n), np.nan)
    origin = [getattr(e, "origin_index", e.index) for e in train]
    elapsed = 0.0
    for i, exp in enumerate(train):
        t0 = time.perf_counter()
        net.partial_fit(exp)
        elapsed += time.perf_counter() - t0
        last_piece = i == len(train) - 1 or origin[i + 1] != origin[i]
        if last_piece:
            for k in range(origin[i] + 1):  # multi-head models know only seen tasks
                acc[i, k] = net.score(test[k])
    final = acc[-1]
    done = [max(j for j in range(len(train)) if origin[j] == k) for k in range(n)]
    forgetting = np.mean([acc[done[k], k] - final[k] for k in range(n - 1)])
    return float(final.mean()), float(forgetting), elapsed


def main(seed: int = 0) -> None:
    torch.set_num_threads(1)
    rows = []
    perm = dict(module__hidden_sizes=(100,), lr=0.1, max_epochs=3, random_state=seed)
    ptrain, ptest = permuted_digits(5, random_state=seed)
    for name, net in [
        ("Naive", Naive(**perm)),
        ("EWC(lambda=30)", EWC(ewc_lambda=30.0, **perm)),
        ("SynapticIntelligence(c=1, eps=0.1)", SynapticIntelligence(si_lambda=1.0, eps=0.1,
                                                                     **perm)),
        ("AGEM(250/exp, sample 64)", AGEM(patterns_per_experience=250, sample_size=64, **perm)),
        ("GEM(100/exp, margin 0.5)", GEM(patterns_per_experience=100, memory_strength=0.5,
                                         **perm)),
        ("LwF(alpha=1)", LwF(alpha=1.0, **perm)),
        ("LFL(lambda_e=1)", LFL(lambda_e=1.0, **perm)),
    ]:
        rows.append((name, "permuted-digits (5)", *evaluate(net, ptrain, ptest)))

    ti = dict(module__multi_head=True, module__hidden_sizes=(8,), lr=0.1, max_epochs=12,
              random_state=seed)
    ttrain, ttest = split_digits(5, task_labels=True, random_state=seed)
    for name, net in [
        ("Naive", Naive(**ti)),
        ("LwF(alpha=1)", LwF(alpha=1.0, **ti)),
        ("EWC(lambda=3)", EWC(ewc_lambda=3.0, **ti)),
        ("SynapticIntelligence(c=0.3)", SynapticIntelligence(si_lambda=0.3, **ti)),
        ("LFL(lambda_e=1)", LFL(lambda_e=1.0, **ti)),
    ]:
        rows.append((name, "task-incr. split-digits, multi-head (5)",
                     *evaluate(net, ttrain, ttest)))

    ci = dict(module__hidden_sizes=(100,), lr=0.1, max_epochs=3, random_state=seed)
    ctrain, ctest = split_digits(5, random_state=seed)
    for name, net in [
        ("Naive", Naive(**ci)),
        ("GEM(100/exp, margin 0.5)", GEM(patterns_per_experience=100, **ci)),
        ("AGEM(250/exp, sample 64)", AGEM(patterns_per_experience=250, **ci)),
        ("LwF(alpha=1)", LwF(alpha=1.0, **ci)),
        ("EWC(lambda=30)", EWC(ewc_lambda=30.0, **ci)),
    ]:
        rows.append((name, "class-incr. split-digits (5)", *evaluate(net, ctrain, ctest)))

    on = dict(module__hidden_sizes=(64,), lr=0.01, random_state=seed)
    otrain = online_stream(ctrain, 10, random_state=seed)
    for name, net in [("Naive", Naive(**on)), ("CoPE(p_size=64)", CoPE(p_size=64, **on))]:
        rows.append((name, f"online class-incr. split-digits ({len(otrain)} x 10)",
                     *evaluate(net, otrain, ctest)))

    print("| strategy | stream | final avg acc | forgetting | train time (s) |")
    print("|---|---|---|---|---|")
    for name, stream, acc, forg, t in rows:
        print(f"| {name} | {stream} | {acc:.3f} | {forg:.3f} | {t:.1f} |")

    # A-GEM vs GEM: 10 permuted experiences, 250 patterns per experience for both, the
    # A-GEM paper's network (MLP 256-256) and single pass over each experience.
    train10, _ = permuted_digits(10, random_state=seed)
    paper = dict(module__hidden_sizes=(256, 256), lr=0.1, max_epochs=1, random_state=seed)
    times = {}
    for name, net in [
        ("AGEM", AGEM(patterns_per_experience=250, sample_size=64, **paper)),
        ("GEM", GEM(patterns_per_experience=250, memory_strength=0.5, **paper)),
    ]:
        t0 = time.perf_counter()
        for exp in train10:
            net.partial_fit(exp)
        times[name] = time.perf_counter() - t0
    print()
    print("10-exp permuted-digits, MLP(256, 256), 1 epoch, 250 patterns/exp: "
          f"AGEM {times['AGEM']:.1f} s, GEM {times['GEM']:.1f} s, "
          f"GEM/AGEM = {times['GEM'] / times['AGEM']:.1f}x")


if __name__ == "__main__":
    main()
