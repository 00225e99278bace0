"""Hand-written PyTorch floors for issue 13's speed ratios (EWC, GEM, GSS_greedy).

Issue 13 asks for EWC <= 1.3x Naive, GEM <= 3x Naive (permuted digits) and
GSS_greedy <= 3x Replay (split digits). Each ratio is bounded below by the work
the algorithm prescribes, whoever implements it. This script measures that
bound with the least-work hand-written loops on the same streams, network
(MLP 64-256-256-10), optimizer (SGD 0.05, momentum 0.9), minibatch 32 and
epochs (5) as ``benchmarks/fidelity.py --speed``:

- ``EWC``: the penalty's closed-form gradient ``lambda F (theta - theta*)`` added
  to ``.grad`` after the backward pass, the value ``lambda/2 sum F (theta -
  theta*)^2`` from the same difference vector (one merged Fisher and anchor for
  all past experiences), and the Fisher of each experience from the squared
  gradients of 256-sample chunks (one forward/backward pass over the
  experience: the fewest passes, though not the paper's per-sample Fisher
  skcl computes); also the usual autograd form (the penalty added to the
  loss, one term per parameter and past experience).
- ``GEM``: before each step, the gradient of the loss on each past
  experience's 250 stored patterns (one forward/backward per memory, as the
  authors and Avalanche do), then the projection
  (skcl's `gem_project`, a K x K dual) when a constraint is violated.
- ``GSS_greedy``: a Replay step (32 incoming + 32 replayed samples) plus the
  minimum of GSS's scoring: one forward and backward pass over the scored batch
  and ``mem_strength`` (5) memory subsets of its size (384 samples), without
  even the per-sample statistics or the memory update.

Run::

    python benchmarks/hand_written_floors.py [--repeats 3]

CPU time (``time.process_time``), torch and BLAS on one thread, the two loops
of each ratio alternating, minimum over repeats.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from skcl.benchmarks import permuted_digits, split_digits
from skcl.plugins._gem import gem_project

EPOCHS, BATCH, LR, MOMENTUM = 5, 32, 0.05, 0.9


def _arrays(experience):
    return (torch.as_tensor(np.asarray(experience.X), dtype=torch.float32),
            torch.as_tensor(np.asarray(experience.y), dtype=torch.long))


def _net(seed: int):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 10))
    return net, torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)


def _flat(tensors) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _minibatches(n: int):
    for _ in range(EPOCHS):
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            yield perm[i:i + BATCH]


def naive(stream, seed: int = 0, ewc: str | None = None, gem: bool = False,
          replay: int = 0, gss_subsets: int = 0, ewc_lambda: float = 10.0) -> float:
    """One hand-written run over ``stream``; returns its CPU time."""
    net, opt = _net(seed)
    params = list(net.parameters())
    sizes = [p.numel() for p in params]
    fisher_sum = mean = None  # EWC: sum_k F_k and its weighted anchor m
    anchor_sum = None
    anchors = []  # EWC autograd form: (F_k, theta*_k) per parameter
    memories = []  # GEM memories, or the replay memory
    t0 = time.process_time()
    for experience in stream:
        X, y = _arrays(experience)
        for idx in _minibatches(len(X)):
            xb, yb = X[idx], y[idx]
            if gem and memories:
                rows = []
                for mx, my in memories:
                    opt.zero_grad()
                    F.cross_entropy(net(mx), my).backward()
                    rows.append(_flat(p.grad for p in params))
                G = torch.stack(rows)
            if replay and memories:
                mx, my = memories[0]
                pick = torch.randperm(len(mx))[:BATCH]
                xb, yb = torch.cat([xb, mx[pick]]), torch.cat([yb, my[pick]])
                if gss_subsets:  # GSS's scoring pass, in eval mode (no dropout/BN here)
                    sub = torch.randint(len(mx), (gss_subsets * len(xb),))
                    xs = torch.cat([mx[sub], xb])
                    torch.autograd.grad(F.cross_entropy(net(xs), torch.cat([my[sub], yb])),
                                        params)
            opt.zero_grad()
            loss = F.cross_entropy(net(xb), yb)
            if ewc == "autograd" and anchors:
                for fk, ak in anchors:
                    loss = loss + 0.5 * ewc_lambda * sum(
                        (f * (p - a) ** 2).sum() for f, a, p in zip(fk, ak, params, strict=True))
            loss.backward()
            if ewc == "closed_form" and fisher_sum is not None:
                diff = _flat(p.detach() for p in params).sub_(mean)
                weighted = fisher_sum * diff
                value = 0.5 * ewc_lambda * torch.dot(diff, weighted)
                for p, g in zip(params, weighted.split(sizes), strict=True):
                    p.grad.add_(g.view_as(p), alpha=ewc_lambda)
                loss = loss.detach() + value
            if gem and memories:
                g = _flat(p.grad for p in params)
                if bool((G @ g < 0).any()):
                    g = gem_project(g, G, 0.5)
                    for p, new in zip(params, g.split(sizes), strict=True):
                        p.grad.copy_(new.view_as(p))
            opt.step()
            loss.item()
        if ewc:  # Fisher from squared gradients of 256-sample chunks (the fewest passes)
            fisher = [torch.zeros_like(p) for p in params]
            for i in range(0, len(X), 256):
                opt.zero_grad()
                F.cross_entropy(net(X[i:i + 256]), y[i:i + 256]).backward()
                for f, p in zip(fisher, params, strict=True):
                    f += p.grad ** 2
            anchor = [p.detach().clone() for p in params]
            anchors.append((fisher, anchor))
            f_flat, a_flat = _flat(fisher), _flat(anchor)
            fisher_sum = f_flat if fisher_sum is None else fisher_sum + f_flat
            anchor_sum = f_flat * a_flat if anchor_sum is None else anchor_sum + f_flat * a_flat
            # sum_k F_k (theta - a_k)^2 = A (theta - m)^2 + const with m = sum_k F_k a_k / A
            mean = torch.where(fisher_sum > 0, anchor_sum / fisher_sum.clamp_min(1e-30), 0)
        if gem:
            keep = torch.randperm(len(X))[:250]
            memories.append((X[keep], y[keep]))
        if replay:  # a class-balanced-enough memory: the latest samples of every experience
            old = memories[0] if memories else (X[:0], y[:0])
            mx, my = torch.cat([old[0], X]), torch.cat([old[1], y])
            keep = torch.randperm(len(mx))[:replay]
            memories = [(mx[keep], my[keep])]
    return time.process_time() - t0


def ratio(a, b, repeats: int) -> tuple[float, float, float]:
    """Minimum time of each side and the median ratio of the paired (alternating) runs."""
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(a())
        times_b.append(b())
    return min(times_a), min(times_b), float(np.median(np.divide(times_a, times_b)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    perm, _ = permuted_digits(5, random_state=0)
    split, _ = split_digits(5, random_state=0)
    with threadpool_limits(1):
        naive(split[:1])  # warm-up
        for form in ("closed_form", "autograd"):
            a, b, med = ratio(lambda form=form: naive(perm, ewc=form), lambda: naive(perm),
                              args.repeats)
            print(f"hand-written EWC ({form}) / Naive, permuted digits: {a:.2f} s / "
                  f"{b:.2f} s = {a / b:.2f}x (median of pairs {med:.2f}x)", flush=True)
        a, b, med = ratio(lambda: naive(perm, gem=True), lambda: naive(perm), args.repeats)
        print(f"hand-written GEM / Naive, permuted digits, 250 patterns: {a:.2f} s / "
              f"{b:.2f} s = {a / b:.2f}x (median of pairs {med:.2f}x)", flush=True)
        a, b, med = ratio(lambda: naive(split, replay=200, gss_subsets=5),
                          lambda: naive(split, replay=200), args.repeats)
        print(f"hand-written Replay + GSS's scoring pass / Replay, split digits, memory 200: "
              f"{a:.2f} s / {b:.2f} s = {a / b:.2f}x (median of pairs {med:.2f}x)", flush=True)


if __name__ == "__main__":
    main()
