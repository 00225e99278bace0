"""Speed: skcl's Naive against a hand-written PyTorch loop doing the same work.

Run: ``python benchmarks/speed.py`` (one thread; add ``--quick`` for a smoke run).

Prints, for split-digits replicated to >= 5,000 training samples and for split
Fashion-MNIST (when its IDX files are installed):
- training time of Naive vs. a raw loop (same module, data, SGD, epochs, batch
  size, per-epoch shuffling), and their ratio (target <= 1.15);
- predict time vs. a raw ``torch.no_grad()`` forward loop with the same batch
  size (target <= 1.2);
- on a 20-experience stream, the mean time of the first and the last five
  experiences and their ratio (target <= 1.2: no cost growth).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from skcl.benchmarks import (
    FASHION_MNIST_DEBIAN_PATH,
    class_incremental_split,
    load_digits_arrays,
    load_fashion_mnist,
    permuted_stream,
)
from skcl.models import MLP, adapt_module
from skcl.strategies import Naive

# CPU time of this process, not wall time: on a shared (virtual) machine, time stolen by
# other tenants would otherwise swamp the differences measured here. One torch thread.
CLOCK = time.process_time
HIDDEN = (256, 256)
BATCH = 64
LR = 0.05


class RawLoop:
    """A plain PyTorch loop, trained one experience at a time.

    Building the model is timed too (it counts towards the first experience),
    as skcl builds its module in the first ``partial_fit``.
    """

    def __init__(self, epochs: int, seed: int):
        self.epochs, self.seed, self.model = epochs, seed, None

    def train(self, exp) -> float:
        start = CLOCK()
        if self.model is None:
            torch.manual_seed(self.seed)
            self.model = MLP(exp.X.shape[1], HIDDEN)
            self.opt = torch.optim.SGD(self.model.parameters(), lr=LR)
            self.loss_fn = torch.nn.CrossEntropyLoss()
            self.gen = torch.Generator().manual_seed(self.seed)
            self.order: list = []
        model, loss_fn = self.model, self.loss_fn
        y_np = np.asarray(exp.y)
        for c in np.unique(y_np):
            if c not in self.order:
                self.order.append(c)
        if adapt_module(model, len(self.order), {}):
            self.opt = torch.optim.SGD(model.parameters(), lr=LR)
        opt = self.opt
        X = torch.as_tensor(np.asarray(exp.X, dtype=np.float32))
        unit = {c: i for i, c in enumerate(self.order)}
        y = torch.as_tensor(np.array([unit[v] for v in y_np], dtype=np.int64))
        model.train()
        for _ in range(self.epochs):
            perm = torch.randperm(len(X), generator=self.gen)
            for i in range(0, len(X), BATCH):
                idx = perm[i:i + BATCH]
                opt.zero_grad()
                loss = loss_fn(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
                loss.item()  # skorch records every batch loss; do the same sync here
        return CLOCK() - start


class SkclLoop:
    """skcl's Naive with the same settings, one ``partial_fit`` per experience."""

    def __init__(self, epochs: int, seed: int):
        self.net = Naive(module__hidden_sizes=HIDDEN, lr=LR, batch_size=BATCH,
                         max_epochs=epochs, random_state=seed)

    def train(self, exp) -> float:
        start = CLOCK()
        self.net.partial_fit(exp)
        return CLOCK() - start


def raw_predict(model, X) -> float:
    X = torch.as_tensor(X)
    start = CLOCK()
    model.eval()
    with torch.no_grad():
        out = [model(X[i:i + BATCH]).argmax(1) for i in range(0, len(X), BATCH)]
    torch.cat(out).numpy()
    return CLOCK() - start


def skcl_train(stream, epochs: int, seed: int) -> tuple[list[float], Naive]:
    loop = SkclLoop(epochs, seed)
    return [loop.train(exp) for exp in stream], loop.net


def compare(name: str, train, X_test, epochs: int, repeats: int) -> dict:
    # The raw loop and skcl advance in lockstep, one experience each in turn (who goes
    # first alternates), so that load from other processes hits both sides alike. Each
    # side's time is the sum over experiences of its fastest run of that experience:
    # interference on a shared machine comes in bursts, and an experience (tens of ms)
    # is short enough for some runs to miss them. Medians of whole runs are printed too.
    RawLoop(epochs, 0).train(train[0])  # warm-up (torch's one-off lazy initialization)
    SkclLoop(epochs, 0).train(train[0])
    raw_fit, sk_fit, raw_pred, sk_pred = [], [], [], []
    for r in range(repeats):
        raw, sk = RawLoop(epochs, 0), SkclLoop(epochs, 0)
        raw_times, sk_times = [], []
        for exp in train:
            if r % 2:
                sk_times.append(sk.train(exp))
                raw_times.append(raw.train(exp))
            else:
                raw_times.append(raw.train(exp))
                sk_times.append(sk.train(exp))
        raw_fit.append(raw_times)
        sk_fit.append(sk_times)
        for _ in range(3):  # predicting is short: a few alternating tries per repeat
            raw_pred.append(raw_predict(raw.model, X_test))
            start = CLOCK()
            sk.net.predict(X_test)
            sk_pred.append(CLOCK() - start)
    raw_fit, sk_fit = np.array(raw_fit), np.array(sk_fit)
    raw_s, sk_s = raw_fit.min(0).sum(), sk_fit.min(0).sum()
    row = {
        "data": name, "n_train": sum(len(e) for e in train), "epochs": epochs,
        "raw_fit_s": raw_s, "skcl_fit_s": sk_s, "fit_ratio": sk_s / raw_s,
        "fit_ratio_medians": np.median(sk_fit.sum(1)) / np.median(raw_fit.sum(1)),
        "n_predict": len(X_test),
        "raw_predict_s": min(raw_pred), "skcl_predict_s": min(sk_pred),
        "predict_ratio": min(sk_pred) / min(raw_pred),
    }
    print(f"{name:<22} n={row['n_train']:>6} epochs={epochs}  fit: raw {raw_s:6.2f}s "
          f"skcl {sk_s:6.2f}s ratio {row['fit_ratio']:.3f} (medians of whole runs: "
          f"{row['fit_ratio_medians']:.3f})   predict (n={len(X_test)}): raw "
          f"{row['raw_predict_s']:.3f}s skcl {row['skcl_predict_s']:.3f}s "
          f"ratio {row['predict_ratio']:.3f}")
    return row


def flatness(n_experiences: int = 20, per_exp: int = 1000, epochs: int = 2) -> dict:
    X_train, _, y_train, _ = load_digits_arrays(test_size=0.3, random_state=0)
    # the same samples under a new permutation each time: equal work per experience
    stream = permuted_stream(X_train[:per_exp], y_train[:per_exp], n_experiences=n_experiences,
                             random_state=0)
    # per-experience minimum over five runs: robust to load spikes from other processes
    times = np.min([skcl_train(stream, epochs, 0)[0] for _ in range(5)], axis=0)
    first, last = np.mean(times[:5]), np.mean(times[-5:])
    print(f"20-experience stream: first five {first:.3f}s/exp, last five {last:.3f}s/exp, "
          f"ratio {last / first:.3f}")
    return {"first5_s": first, "last5_s": last, "ratio": last / first}


def rollback_cost(n_fill: int, n_calls: int, blocks: int) -> dict:
    """Online Replay(mem_size=5000) on 10-sample experiences of 784 features: time per
    ``partial_fit`` with the rollback record against the same loop without it."""
    from skcl.benchmarks import Experience
    from skcl.strategies import Replay

    if Path(FASHION_MNIST_DEBIAN_PATH).exists():
        X, _, y, _ = load_fashion_mnist()
    else:  # the same shape without the files
        rng = np.random.RandomState(0)
        X, y = rng.rand(60000, 784).astype(np.float32), rng.randint(0, 10, 60000)
    exps = [Experience(X[i:i + 10], y[i:i + 10], index=k)
            for k, i in enumerate(range(0, 10 * (n_fill + n_calls * blocks), 10))]
    nets = []
    for record in (True, False):
        net = Replay(mem_size=5000, batch_size=10, lr=0.05, random_state=0)
        vars(net)["_record_rollback"] = record
        nets.append(net)
    for exp in exps[:n_fill]:  # fill the memory (5000 exemplars) first
        for net in nets:
            net.partial_fit(exp)
    assert len(nets[0].named_plugins_["replay"].storage_) == min(5000, 10 * n_fill)
    on, off = [], []
    for b in range(blocks):
        t_on = t_off = 0.0
        for exp in exps[n_fill + b * n_calls:n_fill + (b + 1) * n_calls]:
            for net, is_on in ((nets[0], True), (nets[1], False)) if b % 2 == 0 else (
                    (nets[1], False), (nets[0], True)):
                start = CLOCK()
                net.partial_fit(exp)
                if is_on:
                    t_on += CLOCK() - start
                else:
                    t_off += CLOCK() - start
        on.append(t_on / n_calls)
        off.append(t_off / n_calls)
    best_on, best_off = min(on), min(off)
    print(f"online Replay(mem_size=5000), 10-sample experiences, 784 features: "
          f"partial_fit {best_on * 1e3:.2f} ms with the rollback record, "
          f"{best_off * 1e3:.2f} ms without; ratio {best_on / best_off:.3f} (target <= 1.1)")
    return {"with_ms": best_on * 1e3, "without_ms": best_off * 1e3,
            "ratio": best_on / best_off}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--rollback", action="store_true",
                        help="only the cost of the rollback record on an online Replay stream")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.rollback:
        rollback_cost(n_fill=60 if args.quick else 520, n_calls=20 if args.quick else 200,
                      blocks=2 if args.quick else 6)
        return
    X_train, X_test, y_train, y_test = load_digits_arrays()
    reps = 1 if args.quick else 4  # 4 x 1,257 = 5,028 training samples
    Xr, yr = np.tile(X_train, (reps, 1)), np.tile(y_train, reps)
    train = class_incremental_split(Xr, yr, n_experiences=5, random_state=0)
    epochs = 1 if args.quick else 5
    X_pred = np.tile(X_test, (1 if args.quick else 20, 1))  # ~10,000 samples to predict
    compare("split-digits x4", train, X_pred, epochs, 1 if args.quick else args.repeats)
    if not args.quick and Path(FASHION_MNIST_DEBIAN_PATH).exists():
        Xf, Xft, yf, yft = load_fashion_mnist()
        ftrain = class_incremental_split(Xf, yf, n_experiences=5, random_state=0)
        compare("split Fashion-MNIST", ftrain, Xft, 1, args.repeats)
    flatness(per_exp=100 if args.quick else 1000, epochs=1 if args.quick else 2)


if __name__ == "__main__":
    main()
