"""Fidelity benchmark (issue 13): every strategy on the streams of the Avalanche comparison.

Run::

    python benchmarks/fidelity.py                      # everything: slow (hours on 2 cores)
    python benchmarks/fidelity.py --quick              # 1 seed, split/permuted digits only
    python benchmarks/fidelity.py --streams split_digits --strategies Naive GSS_greedy
    python benchmarks/fidelity.py --speed              # the speed targets of issue 13
    python benchmarks/fidelity.py --online-gss         # GSS scored batches, online stream

Settings (those of the side-by-side comparison with Avalanche 0.6.0): MLP
784-256-256-10 (Fashion-MNIST) or 64-256-256-10 (digits), SGD lr 0.05 momentum
0.9, minibatch 32, 5 epochs per experience on digits and 1 on Fashion-MNIST,
memories of 200 samples on digits and 500 on Fashion-MNIST, GEM/A-GEM 250
patterns per experience, 5 experiences, seeds 0, 1, 2. Each row gives the final
average accuracy over the test experiences (mean and standard deviation over
the seeds) and the CPU time of training (``time.process_time`` around the
``partial_fit`` calls; torch, numpy and scipy all pinned to one thread with
``torch.set_num_threads(1)`` and ``threadpoolctl``). Naive, Cumulative and
JointTraining are also run as hand-written PyTorch loops (same architecture,
optimizer, epochs and minibatch size, a fixed 10-unit head; their own
initialisation and shuffling), the "loop" columns.

PNN is task-incremental: it runs on the split streams with task labels (the
accuracy is then task-incremental, not comparable with the other rows).
StreamingLDA has no network: it fits the raw pixels (one pass). CoPE runs its
offline variant (``max_it_cnt`` unbounded, all epochs). AR1 uses its default
CNN (AR1Net) with the common optimizer settings, ``inc_lr=0.005``.

``--speed`` measures, on the same streams and seeds, with min-of-3 repeats
alternating the two sides: EWC vs Naive (permuted digits), GEM's per-step
projection time on the Fashion-MNIST MLP and GEM vs Naive (permuted digits,
250 patterns), herding's share of iCaRL's ``partial_fit`` (split Fashion-MNIST
subset), GSS_greedy vs Replay (split digits) and GDumb's per-experience
overhead (time of a ``partial_fit`` minus the time between the start and the
end of its training epochs, split Fashion-MNIST).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from skcl.benchmarks import (
    class_incremental_split,
    load_fashion_mnist,
    permuted_digits,
    split_digits,
)
from skcl.strategies import (
    AGEM,
    AR1,
    EWC,
    GEM,
    LFL,
    CoPE,
    Cumulative,
    CWRStar,
    GDumb,
    GSS_greedy,
    ICaRL,
    JointTraining,
    LwF,
    Naive,
    PNNStrategy,
    Replay,
    StreamingLDA,
    SynapticIntelligence,
)

STRATEGIES = ["Naive", "Cumulative", "JointTraining", "Replay", "EWC", "SI", "LwF", "LFL",
              "GEM", "AGEM", "GDumb", "ICaRL", "CWRStar", "AR1", "StreamingLDA", "PNN", "CoPE",
              "GSS_greedy"]
STREAMS = ["split_digits", "permuted_digits", "split_fmnist"]
LOOPS = {"Naive", "Cumulative", "JointTraining"}


# --------------------------------------------------------------------------- #
# streams
# --------------------------------------------------------------------------- #
_FMNIST = None


def make_stream(name: str, seed: int, task_labels: bool = False):
    global _FMNIST
    if name == "split_digits":
        return split_digits(5, task_labels=task_labels, random_state=seed)
    if name == "permuted_digits":
        return permuted_digits(5, random_state=seed)
    if name == "split_fmnist":
        if _FMNIST is None:
            _FMNIST = load_fashion_mnist()
        X_tr, X_te, y_tr, y_te = _FMNIST
        return class_incremental_split(X_tr, y_tr, X_te, y_te, n_experiences=5, shuffle=True,
                                       task_labels=task_labels, random_state=seed)
    raise ValueError(name)


def settings(stream: str) -> dict:
    fmnist = stream == "split_fmnist"
    return {"epochs": 1 if fmnist else 5, "mem": 500 if fmnist else 200}


def make_strategy(name: str, stream: str, seed: int):
    s = settings(stream)
    common = dict(module__hidden_sizes=(256, 256), lr=0.05, optimizer__momentum=0.9,
                  batch_size=32, max_epochs=s["epochs"], random_state=seed)
    mem = s["mem"]
    if name == "Naive":
        return Naive(**common)
    if name == "Cumulative":
        return Cumulative(**common)
    if name == "JointTraining":
        return JointTraining(**common)
    if name == "Replay":
        return Replay(mem_size=mem, **common)
    if name == "EWC":
        return EWC(ewc_lambda=10.0, **common)
    if name == "SI":
        return SynapticIntelligence(si_lambda=1.0, **common)
    if name == "LwF":
        return LwF(alpha=1.0, temperature=2.0, **common)
    if name == "LFL":
        return LFL(lambda_e=1.0, **common)
    if name == "GEM":
        return GEM(patterns_per_experience=250, memory_strength=0.5, **common)
    if name == "AGEM":
        return AGEM(patterns_per_experience=250, sample_size=64, **common)
    if name == "GDumb":
        return GDumb(mem_size=mem, **common)
    if name == "ICaRL":
        return ICaRL(memory_size=mem, **common)
    if name == "CWRStar":
        return CWRStar(**common)
    if name == "AR1":
        kw = {k: v for k, v in common.items() if k not in ("module__hidden_sizes",
                                                          "optimizer__momentum")}
        return AR1(rm_sz=mem, inc_lr=0.005, **kw)
    if name == "StreamingLDA":
        return StreamingLDA(random_state=seed)
    if name == "PNN":
        kw = {k: v for k, v in common.items() if k != "module__hidden_sizes"}
        return PNNStrategy(module__hidden_features_per_column=256, module__num_layers=2, **kw)
    if name == "CoPE":
        return CoPE(mem_size=mem, p_size=64, max_it_cnt=10**9, **common)
    if name == "GSS_greedy":
        return GSS_greedy(mem_size=mem, **common)
    raise ValueError(name)


# --------------------------------------------------------------------------- #
# hand-written PyTorch loops (Naive, Cumulative, JointTraining)
# --------------------------------------------------------------------------- #
class _Net(torch.nn.Module):
    def __init__(self, d, n_out=10):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(d, 256), torch.nn.ReLU(),
                                        torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                        torch.nn.Linear(256, n_out))

    def forward(self, x):
        return self.body(x)


def hand_loop(name: str, train, test, epochs: int, seed: int) -> tuple[float, float]:
    """Final average accuracy and train CPU time of a plain PyTorch loop (fixed 10-unit head)."""
    torch.manual_seed(seed)
    net = _Net(train[0].X.shape[1])
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    seen_X, seen_y = [], []
    t0 = time.process_time()
    stream = [[e for e in train]] if name == "JointTraining" else [[e] for e in train]
    for part in stream:
        if name == "Cumulative":
            seen_X.append(part[0].X)
            seen_y.append(part[0].y)
            X, y = np.concatenate(seen_X), np.concatenate(seen_y)
        else:
            X = np.concatenate([e.X for e in part])
            y = np.concatenate([e.y for e in part])
        X = torch.as_tensor(X, dtype=torch.float32)
        y = torch.as_tensor(y, dtype=torch.long)
        for _ in range(epochs):
            perm = torch.randperm(len(X), generator=gen)
            for s in range(0, len(X), 32):
                idx = perm[s:s + 32]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(X[idx]), y[idx]).backward()
                opt.step()
    cpu = time.process_time() - t0
    with torch.no_grad():
        acc = np.mean([float((net(torch.as_tensor(e.X, dtype=torch.float32)).argmax(1).numpy()
                              == e.y).mean()) for e in test])
    return float(acc), cpu


# --------------------------------------------------------------------------- #
# one run
# --------------------------------------------------------------------------- #
def run_one(name: str, stream: str, seed: int) -> tuple[float, float]:
    task = name == "PNN"
    train, test = make_stream(stream, seed, task_labels=task)
    if name == "PNN" and stream == "permuted_digits":
        train, test = permuted_digits(5, task_labels=True, random_state=seed)
    net = make_strategy(name, stream, seed)
    t0 = time.process_time()
    if name == "JointTraining":
        net.fit(train)
    else:
        for exp in train:
            net.partial_fit(exp)
    cpu = time.process_time() - t0
    acc = float(np.mean([net.score(e) for e in test]))
    return acc, cpu


def table(strategies, streams, seeds) -> None:
    print("| stream | strategy | final avg acc (mean ± std) | train CPU s (mean) "
          "| loop acc | loop CPU s |")
    print("|---|---|---|---|---|---|")
    for stream in streams:
        for name in strategies:
            accs, cpus, laccs, lcpus = [], [], [], []
            for seed in seeds:
                try:
                    acc, cpu = run_one(name, stream, seed)
                except Exception as exc:  # noqa: BLE001 - report and go on
                    print(f"| {stream} | {name} | failed: {type(exc).__name__}: {exc} | | | |",
                          flush=True)
                    break
                accs.append(acc)
                cpus.append(cpu)
                if name in LOOPS:
                    train, test = make_stream(stream, seed)
                    la, lc = hand_loop(name, train, test, settings(stream)["epochs"], seed)
                    laccs.append(la)
                    lcpus.append(lc)
            if not accs:
                continue
            loop = (f"{np.mean(laccs):.3f} ± {np.std(laccs):.3f} | {np.mean(lcpus):.2f}"
                    if laccs else "- | -")
            print(f"| {stream} | {name} | {np.mean(accs):.3f} ± {np.std(accs):.3f} | "
                  f"{np.mean(cpus):.2f} | {loop} |", flush=True)


# --------------------------------------------------------------------------- #
# speed targets
# --------------------------------------------------------------------------- #
def _train_cpu(make, train) -> float:
    net = make()
    t0 = time.process_time()
    for exp in train:
        net.partial_fit(exp)
    return time.process_time() - t0


def _ratio(make_a, make_b, train, repeats=3) -> tuple[float, float, float]:
    """Minimum CPU time of each side and the median ratio of the paired runs.

    The two sides alternate in lockstep; on a shared machine a burst of load hits
    one run of a pair, so the median of the pairs' ratios is the steadier figure.
    """
    a, b = [], []
    for _ in range(repeats):
        a.append(_train_cpu(make_a, train))
        b.append(_train_cpu(make_b, train))
    return min(a), min(b), float(np.median(np.divide(a, b)))


def speed(seed: int = 0) -> None:
    from skcl.plugins._gem import gem_project
    from skcl.selection import herding_order

    common = dict(module__hidden_sizes=(256, 256), lr=0.05, optimizer__momentum=0.9,
                  batch_size=32, max_epochs=5, random_state=seed)
    perm_train, _ = permuted_digits(5, random_state=seed)
    split_train, _ = split_digits(5, random_state=seed)
    # warm-up (imports, lazy initialisations)
    Naive(**{**common, "max_epochs": 1}).partial_fit(split_train[0])

    ewc, naive, paired = _ratio(lambda: EWC(ewc_lambda=10.0, **common),
                                lambda: Naive(**common), perm_train, repeats=9)
    print(f"EWC / Naive (permuted digits, 5 epochs): {ewc:.2f} s / {naive:.2f} s = "
          f"{ewc / naive:.2f}x, median of 9 paired runs {paired:.2f}x (target <= 1.3x)",
          flush=True)

    gem, naive, paired = _ratio(lambda: GEM(patterns_per_experience=250, **common),
                                lambda: Naive(**common), perm_train)
    print(f"GEM / Naive (permuted digits, 250 patterns): {gem:.2f} s / {naive:.2f} s = "
          f"{gem / naive:.2f}x, median of 3 paired runs {paired:.2f}x (target <= 3x)",
          flush=True)

    # GEM projection on the Fashion-MNIST MLP's parameter count, K = 4 past experiences
    n_params = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    gen = torch.Generator().manual_seed(seed)
    G = torch.randn(4, n_params, generator=gen)
    g = torch.randn(n_params, generator=gen) - 2 * G[0]
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        gem_project(g, G, 0.5)
        times.append(time.perf_counter() - t0)
    print(f"GEM projection, P={n_params}, K=4: median {1e3 * np.median(times):.3f} ms, "
          f"min {1e3 * min(times):.3f} ms (target < 1 ms)", flush=True)

    gss, rep, paired = _ratio(lambda: GSS_greedy(mem_size=200, **common),
                              lambda: Replay(mem_size=200, **common), split_train, repeats=5)
    print(f"GSS_greedy / Replay (split digits, mem 200): {gss:.2f} s / {rep:.2f} s = "
          f"{gss / rep:.2f}x, median of 5 paired runs {paired:.2f}x (target <= 3x)",
          flush=True)

    # Fashion-MNIST: iCaRL's herding share and GDumb's per-experience overhead
    fm_train, _ = make_stream("split_fmnist", seed)
    fm_common = {**common, "max_epochs": 1}
    import skcl.plugins._icarl as icarl_module

    spent = []
    original = icarl_module.herding_order

    def timed(*args, **kwargs):
        t0 = time.process_time()
        out = original(*args, **kwargs)
        spent.append(time.process_time() - t0)
        return out

    icarl_module.herding_order = timed
    try:
        net = ICaRL(memory_size=500, **fm_common)
        t0 = time.process_time()
        for exp in fm_train:
            net.partial_fit(exp)
        total = time.process_time() - t0
    finally:
        icarl_module.herding_order = original
    print(f"iCaRL herding: {sum(spent):.3f} s of {total:.2f} s partial_fit = "
          f"{100 * sum(spent) / total:.1f}% (target <= 10%)", flush=True)
    feats = torch.nn.functional.normalize(torch.randn(6000, 256, generator=gen), dim=1)
    t0 = time.process_time()
    herding_order(feats, n=250)
    print(f"herding 250 of 6000 x 256 features: {time.process_time() - t0:.3f} s", flush=True)

    # GDumb: per-experience time minus the time of its training epochs
    from skcl.plugins import StrategyPlugin

    class EpochTimer(StrategyPlugin):
        def before_training_epoch(self, strategy):
            self.t0_ = time.process_time()

        def after_training_epoch(self, strategy):
            self.spent_ = getattr(self, "spent_", 0.0) + time.process_time() - self.t0_

    overheads = []
    for _ in range(3):
        net = GDumb(mem_size=500, plugins=[EpochTimer()], **fm_common)
        row = []
        for exp in fm_train:
            t0 = time.process_time()
            net.partial_fit(exp)
            total = time.process_time() - t0
            timer = net.named_plugins_["epochtimer"]
            row.append(total - timer.spent_)
            timer.spent_ = 0.0
        overheads.append(row)
    per_exp = np.min(np.array(overheads), axis=0)
    print("GDumb per-experience overhead (partial_fit minus its training epochs), ms: "
          f"{np.round(1e3 * per_exp, 1).tolist()} (target <= 20 ms)", flush=True)


def online_gss() -> None:
    """GSS_greedy's two scored batches on an online, single-pass split-digits stream."""
    from skcl.benchmarks import online_stream

    kw = dict(module__hidden_sizes=(256, 256), lr=0.05, optimizer__momentum=0.9,
              batch_size=10, max_epochs=1)
    print("| stream | scored_batch | final avg acc | train CPU s |")
    print("|---|---|---|---|")
    for mode in ("incoming", "training"):
        accs, cpus = [], []
        for seed in (0, 1, 2):
            train, test = split_digits(5, random_state=seed)
            net = GSS_greedy(mem_size=200, scored_batch=mode, random_state=seed, **kw)
            t0 = time.process_time()
            for exp in online_stream(train, 10, random_state=seed):
                net.partial_fit(exp)
            cpus.append(time.process_time() - t0)
            accs.append(np.mean([net.score(e) for e in test]))
        print(f"| online split digits | {mode} | {np.mean(accs):.3f} ± {np.std(accs):.3f} | "
              f"{np.mean(cpus):.2f} |", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 seed, split and permuted digits only")
    parser.add_argument("--strategies", nargs="+", default=None, choices=STRATEGIES)
    parser.add_argument("--streams", nargs="+", default=None, choices=STREAMS)
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--speed", action="store_true", help="measure the speed targets")
    parser.add_argument("--online-gss", action="store_true",
                        help="GSS_greedy's scored batches on an online split-digits stream")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with threadpool_limits(1):
        if args.speed:
            speed()
            return
        if args.online_gss:
            online_gss()
            return
        streams = args.streams or (STREAMS[:2] if args.quick else STREAMS)
        seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
        table(args.strategies or STRATEGIES, streams, seeds)


if __name__ == "__main__":
    main()
