"""Speed on images: skcl with augmentation against a hand-written PyTorch loop.

Run: ``python benchmarks/image_speed.py`` (one thread; ``--quick`` for a smoke run).

Split Fashion-MNIST as 1x28x28 images (5 class-incremental experiences, the
training set subsampled to ``--n-train``), :class:`~skcl.models.SmallCNN`,
random crop (padding 2) + horizontal flip on every minibatch, SGD, batch 64:

- ``Naive`` (augmentation by :class:`~skcl.plugins.TransformPlugin`) against a
  raw loop doing the same work (target <= 1.15);
- ``Replay(mem_size=500, batch_size_mem=64)`` against a raw loop with an
  experience-balanced memory of 500 and 64 replayed samples per minibatch,
  replayed samples augmented too (target <= 1.3).

Both sides use the same model, initialization, data, epochs, batch size and
per-epoch shuffling; the raw loop's augmentation is written inline
(vectorised, as a careful user would). Times are CPU time of this process
(``time.process_time``), the four runs alternate in lockstep, and the minimum
over ``--repeats`` is reported. Accuracies (on the whole test set after the
stream) are printed as a sanity check, not as the accuracy benchmark.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.nn import functional as F

from skcl.benchmarks import class_incremental_split, load_fashion_mnist
from skcl.models import SmallCNN, adapt_module
from skcl.plugins import TransformPlugin
from skcl.strategies import Naive, Replay
from skcl.transforms import Compose, RandomCrop, RandomHorizontalFlip

CLOCK = time.process_time
BATCH = 64
LR = 0.05
PAD = 2
MEM = 500


def augmentation():
    return Compose([RandomCrop(28, padding=PAD), RandomHorizontalFlip(0.5)])


def raw_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random crop with zero padding and horizontal flip, written by hand."""
    n, _, h, w = x.shape
    xp = F.pad(x, (PAD, PAD, PAD, PAD))
    i = torch.randint(0, 2 * PAD + 1, (n,), generator=gen)
    j = torch.randint(0, 2 * PAD + 1, (n,), generator=gen)
    rows = (i[:, None] + torch.arange(h))[:, :, None]
    cols = (j[:, None] + torch.arange(w))[:, None, :]
    out = xp[torch.arange(n)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    flip = torch.rand(n, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


class RawLoop:
    """Plain PyTorch, one experience at a time; with ``mem`` > 0, experience replay."""

    def __init__(self, epochs: int, seed: int, mem: int = 0):
        self.epochs, self.seed, self.mem, self.model = epochs, seed, mem, None

    def train(self, exp) -> None:
        if self.model is None:
            torch.manual_seed(self.seed)
            self.model = SmallCNN()
            self.opt = torch.optim.SGD(self.model.parameters(), lr=LR)
            self.gen = torch.Generator().manual_seed(self.seed)
            self.order: list = []
            self.mem_parts: list = []  # one (X, y) per past experience
        model = self.model
        y_np = np.asarray(exp.y)
        for c in np.unique(y_np):
            if c not in self.order:
                self.order.append(c)
        if adapt_module(model, len(self.order), {}):
            self.opt = torch.optim.SGD(model.parameters(), lr=LR)
        opt = self.opt
        X = torch.as_tensor(exp.X)
        lookup = np.zeros(max(self.order) + 1, dtype=np.int64)
        lookup[self.order] = np.arange(len(self.order))
        y = torch.as_tensor(lookup[y_np])
        mem_X = torch.cat([p[0] for p in self.mem_parts]) if self.mem_parts else None
        mem_y = torch.cat([p[1] for p in self.mem_parts]) if self.mem_parts else None
        model.train()
        for _ in range(self.epochs):
            perm = torch.randperm(len(X), generator=self.gen)
            for s in range(0, len(X), BATCH):
                idx = perm[s:s + BATCH]
                xb, yb = X[idx], y[idx]
                if mem_X is not None:
                    r = torch.randint(0, len(mem_X), (BATCH,), generator=self.gen)
                    xb, yb = torch.cat([xb, mem_X[r]]), torch.cat([yb, mem_y[r]])
                xb = raw_augment(xb, self.gen)
                opt.zero_grad()
                F.cross_entropy(model(xb), yb).backward()
                opt.step()
        if self.mem:
            # experience-balanced memory: an equal share per experience seen
            self.mem_parts.append((X, y))
            share = self.mem // len(self.mem_parts)
            self.mem_parts = [
                (px[keep], py[keep]) for px, py in self.mem_parts
                for keep in [torch.randperm(len(px), generator=self.gen)[:share]]]

    def score(self, X, y) -> float:
        self.model.eval()
        with torch.no_grad():
            out = torch.cat([self.model(torch.as_tensor(X[s:s + 1000]))
                             for s in range(0, len(X), 1000)])
        return float((np.asarray(self.order)[out.argmax(1).numpy()] == y).mean())


def skcl_strategy(kind: str, epochs: int, seed: int):
    common = dict(module=SmallCNN, lr=LR, batch_size=BATCH, max_epochs=epochs,
                  plugins=[TransformPlugin(augmentation())], random_state=seed)
    if kind == "naive":
        return Naive(**common)
    return Replay(mem_size=MEM, batch_size_mem=BATCH, **common)


def run_stream(learner, stream) -> float:
    start = CLOCK()
    for exp in stream:
        if isinstance(learner, RawLoop):
            learner.train(exp)
        else:
            learner.partial_fit(exp)
    return CLOCK() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.repeats = 500, 1
    torch.set_num_threads(1)
    X_train, X_test, y_train, y_test = load_fashion_mnist()
    idx = np.random.RandomState(0).permutation(len(X_train))[:args.n_train]
    X_train = X_train[idx].reshape(-1, 1, 28, 28)
    y_train = y_train[idx]
    n_test = 1000 if args.quick else len(X_test)
    X_test, y_test = X_test[:n_test].reshape(-1, 1, 28, 28), y_test[:n_test]
    train, _ = class_incremental_split(X_train, y_train, X_test, y_test, n_experiences=5,
                                       random_state=0)
    print(f"split Fashion-MNIST images: {len(X_train)} training images, 5 experiences, "
          f"SmallCNN, crop(pad {PAD})+flip, batch {BATCH}, {args.epochs} epoch(s), "
          f"min of {args.repeats} (CPU seconds, 1 thread)")
    times: dict[str, list[float]] = {k: [] for k in ("raw", "naive", "raw_replay", "replay")}
    # warm-up (torch's first convolutions and allocations), not timed
    for key in times:
        warm = (RawLoop(1, 0, MEM if key == "raw_replay" else 0) if key.startswith("raw")
                else skcl_strategy(key, 1, 0))
        run_stream(warm, [train[0]])
    acc: dict[str, float] = {}
    for rep in range(args.repeats):
        for key in times:  # lockstep: the four runs alternate
            if key.startswith("raw"):
                learner = RawLoop(args.epochs, seed=rep, mem=MEM if key == "raw_replay" else 0)
            else:
                learner = skcl_strategy(key, args.epochs, seed=rep)
            times[key].append(run_stream(learner, train))
            acc[key] = learner.score(X_test, y_test)
    best = {k: min(v) for k, v in times.items()}
    ratio_naive = best["naive"] / best["raw"]
    ratio_replay = best["replay"] / best["raw_replay"]
    print(f"  raw loop        {best['raw']:7.2f} s   acc {acc['raw']:.3f}")
    print(f"  skcl Naive      {best['naive']:7.2f} s   acc {acc['naive']:.3f}   "
          f"ratio {ratio_naive:.3f} (target <= 1.15)")
    print(f"  raw replay loop {best['raw_replay']:7.2f} s   acc {acc['raw_replay']:.3f}")
    print(f"  skcl Replay     {best['replay']:7.2f} s   acc {acc['replay']:.3f}   "
          f"ratio {ratio_replay:.3f} (target <= 1.3)")
    print("  all repeats: " + ", ".join(f"{k}={[round(t, 2) for t in v]}"
                                        for k, v in times.items()))
    return {"times": times, "ratio_naive": ratio_naive, "ratio_replay": ratio_replay, "acc": acc}


if __name__ == "__main__":
    main()
