"""Modern rehearsal benchmark: DER, DER++, ER-ACE, MIR, SCR, BiC against Replay.

Offline table: class-incremental split Fashion-MNIST (5 experiences of 2 classes, class
order drawn per seed), the shared MLP and settings of benchmarks/replay_family.py
(``skcl.default_run.COMMON``: MLP(100), SGD lr 0.1, 5 epochs, batch 32), replay
minibatch 32, buffers 200 and 500. Every method gets ``classes=`` (all ten) at its
first call, so the head has all ten units from the start (the DER paper's setting).
Replay's memory is a reservoir (ReservoirSamplingBuffer), like the others', updated
after each experience (its plugin's rule); online each 10-sample experience is one.

Online table: the same stream cut into 10-sample experiences, one pass, batch 10,
replay minibatch 10 (the MIR / ER-ACE protocol).

Reported: final average accuracy over the five test experiences (mean ± std over
seeds), training time (the minimum over seeds: the same amount of work each time) and
each method's minimum time over Replay's (runs alternate method by method within a
seed, so machine load hits all alike; the target check takes the largest ratio over
the buffers). Then the issue's targets, each marked held or not.

    python benchmarks/modern_rehearsal.py [--seeds 3] [--buffers 200 500]
        [--train-per-class 1000] [--test-per-class 500] [--methods ...] [--skip-online]
    python benchmarks/modern_rehearsal.py --cost-only --repeats 3 --methods Replay DER DER++ \
        ER-ACE MIR     # timing only: lockstep repeats on seed 0, min of repeats
        [--clock cpu]  # process time instead of wall time (a shared machine)
        # method "ER": the online-rehearsal base with plain cross-entropy, its memory
        # updated during training like DER's (ratios are printed over Replay and over ER)
    python benchmarks/modern_rehearsal.py --cifar10 PATH [--seeds 10] [--nf 64]
        # Seq-CIFAR-10 with ResNet-18: Replay, DER, DER++ beside the DER paper's Table 2
    python benchmarks/modern_rehearsal.py --protocol der-paper --seeds 5 [--buffers 200 500]
        # the DER paper's Seq-MNIST protocol on split Fashion-MNIST (see der_paper)
        [--select validation --jobs 2]   # arguments by grid search on a validation split
    python benchmarks/modern_rehearsal.py --floor   # hand-written DER++ / ER step ratio

``--train-per-class`` subsamples the 6000 training images of each class (the full set
is ``--train-per-class 6000``).
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import torch

from skcl.buffers import ReservoirSamplingBuffer
from skcl.default_run import COMMON
from skcl.exceptions import DivergenceError
from skcl.plugins import OnlineRehearsalPlugin
from skcl.strategies import DER, ERACE, MIR, SCR, BiC, DERPlusPlus, Naive, Replay

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    shape = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(int)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion(folder: Path = FASHION):
    X = _idx(folder / "train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    y = _idx(folder / "train-labels-idx1-ubyte.gz").astype(np.int64)
    Xt = _idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    yt = _idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return X, y, Xt, yt


def split(data, seed: int, train_per_class: int, test_per_class: int, n_experiences: int = 5):
    """Class-incremental experiences ``[(X, y)]`` for training and testing."""
    X, y, Xt, yt = data
    rng = np.random.default_rng(seed)
    order = rng.permutation(10)
    train, test = [], []
    for classes in np.array_split(order, n_experiences):
        idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:train_per_class]
                              for c in classes])
        idx = rng.permutation(idx)
        tidx = np.concatenate([np.flatnonzero(yt == c)[:test_per_class] for c in classes])
        train.append((X[idx], y[idx]))
        test.append((Xt[tidx], yt[tidx]))
    return train, test


ALPHA, BETA = 0.5, 0.5  # the DER paper: alpha = beta = 0.5 "yields stable performance"


def make(name: str, mem: int, seed: int, online: bool):
    common = dict(COMMON, random_state=seed)
    if online:
        common.update(max_epochs=1, batch_size=10)
    bs_mem = common["batch_size"]
    return {
        "Replay": lambda: Replay(mem_size=mem, batch_size_mem=bs_mem,
                                 storage_policy=ReservoirSamplingBuffer(mem), **common),
        # ER: the online-rehearsal base with plain cross-entropy (memory updated during
        # training every 8 steps, like DER's): the same schedule as DER / ER-ACE / MIR
        "ER": lambda: Naive(plugins=[ERPlugin(mem_size=mem, batch_size_mem=bs_mem)], **common),
        "DER": lambda: DER(mem_size=mem, batch_size_mem=bs_mem, alpha=ALPHA, **common),
        "DER++": lambda: DERPlusPlus(mem_size=mem, batch_size_mem=bs_mem, alpha=ALPHA,
                                     beta=BETA, **common),
        "ER-ACE": lambda: ERACE(mem_size=mem, batch_size_mem=bs_mem, **common),
        "MIR": lambda: MIR(mem_size=mem, batch_size_mem=bs_mem, subsample=50, **common),
        "SCR": lambda: SCR(mem_size=mem, batch_size_mem=100 if online else bs_mem, **common),
        "BiC": lambda: BiC(mem_size=mem, **common),
    }[name]()


CLOCK = time.perf_counter  # --clock cpu: time.process_time (one thread: CPU time, which
# other jobs on a shared machine disturb less than wall time)


def run(net, train, test, online: bool):
    classes = np.arange(10)
    elapsed, first = 0.0, True
    for X, y in train:
        pieces = [(X[i:i + 10], y[i:i + 10]) for i in range(0, len(X), 10)] if online else [
            (X, y)]
        for Xp, yp in pieces:
            t0 = CLOCK()
            net.partial_fit(Xp, yp, classes=classes if first else None)
            elapsed += CLOCK() - t0
            first = False
    return float(np.mean([net.score(Xt, yt) for Xt, yt in test])), elapsed


def table(data, args, online: bool) -> dict:
    res: dict = {}
    for seed in range(args.seeds):
        train, test = split(data, seed, args.train_per_class, args.test_per_class)
        for mem in args.buffers:
            for name in args.methods:  # lockstep: every method once per (seed, buffer)
                acc, t = run(make(name, mem, seed, online), train, test, online)
                res.setdefault((name, mem), []).append((acc, t))
                print(f"  {'online' if online else 'offline'} seed {seed} mem {mem} {name:7s} "
                      f"acc {acc:.4f} time {t:.1f}s", flush=True)
    kind = "online (10-sample experiences, one pass)" if online else "offline (5 epochs)"
    print(f"\n{kind}: final average accuracy (mean ± std over {args.seeds} seeds), time")
    print("| method | " + " | ".join(f"buffer {m}: accuracy | time (s) | time / Replay"
                                    for m in args.buffers) + " |")
    print("| --- |" + " --- | --- | --- |" * len(args.buffers))
    for name in args.methods:
        cells = []
        for mem in args.buffers:
            r = np.array(res[(name, mem)])
            ratio = ""
            if ("Replay", mem) in res:
                rep = np.array(res[("Replay", mem)])
                ratio = f"{r[:, 1].min() / rep[:, 1].min():.2f}"
            cells.append(f"{r[:, 0].mean():.4f} ± {r[:, 0].std():.4f} | {r[:, 1].min():.1f} | "
                         f"{ratio}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return res


def cost(data, args, online: bool) -> dict:
    """Training time only: seed 0, every method ``--repeats`` times in lockstep."""
    train, test = split(data, 0, args.train_per_class, args.test_per_class)
    res: dict = {}
    for _ in range(args.repeats):
        for mem in args.buffers:
            for name in args.methods:
                _, t = run(make(name, mem, 0, online), train, test, online)
                res.setdefault((name, mem), []).append((np.nan, t))
    kind = "online" if online else "offline"
    base = [b for b in ("Replay", "ER") if b in args.methods]
    print(f"\n{kind} cost: min of {args.repeats} lockstep repeats (seed 0)")
    print("| method | " + " | ".join(f"buffer {m}: time (s) | " + " | ".join(
        f"/ {b}" for b in base) for m in args.buffers) + " |")
    print("| --- |" + (" --- |" * (1 + len(base))) * len(args.buffers))
    for name in args.methods:
        cells = []
        for mem in args.buffers:
            t = np.array(res[(name, mem)])[:, 1].min()
            cells.append(f"{t:.2f} | " + " | ".join(
                f"{t / np.array(res[(b, mem)])[:, 1].min():.2f}" for b in base))
        print(f"| {name} | " + " | ".join(cells) + " |")
    return res


def _acc(res, name, mem):
    return np.array(res[(name, mem)])[:, 0].mean() if (name, mem) in res else None


def _ratio(res, name):
    """Largest, over buffers, of min-over-seeds time / Replay's min-over-seeds time."""
    ratios = []
    for (n, mem), r in res.items():
        if n == name and ("Replay", mem) in res:
            rep = np.array(res[("Replay", mem)])
            ratios.append(np.array(r)[:, 1].min() / rep[:, 1].min())
    return float(np.max(ratios)) if ratios else None


def targets(off: dict, on: dict, buffers) -> None:
    print("\nTargets:")

    def check(label, ok):
        if ok is None:
            print(f"  [not run] {label}")
        else:
            print(f"  [{'holds' if ok else 'FAILS'}] {label}")

    for mem in buffers:
        a = {n: _acc(off, n, mem) for n in ("Replay", "DER", "DER++", "ER-ACE")}
        have = all(v is not None for v in a.values())
        check(f"offline buffer {mem}: DER++ >= DER >= Replay "
              f"({a['DER++']}, {a['DER']}, {a['Replay']})",
              have and a["DER++"] >= a["DER"] >= a["Replay"] if have else None)
        check(f"offline buffer {mem}: ER-ACE >= Replay",
              a["ER-ACE"] >= a["Replay"] if have else None)
        if mem == 200:
            check("offline buffer 200: DER++ >= Replay + 3 points",
                  a["DER++"] >= a["Replay"] + 0.03 if have else None)
    for mem in buffers:
        for n in ("ER-ACE", "MIR"):
            x, r = _acc(on, n, mem), _acc(on, "Replay", mem)
            check(f"online buffer {mem}: {n} >= Replay ({x}, {r})",
                  None if x is None or r is None else x >= r)
    for n, bound in (("DER", 1.5), ("DER++", 1.5), ("ER-ACE", 1.5), ("MIR", 3.0)):
        r = _ratio(off, n)
        check(f"offline cost: {n} <= {bound}x Replay (ratio of minimum times {r})",
              None if r is None else r <= bound)
        r = _ratio(on, n)
        check(f"online cost: {n} <= {bound}x Replay (ratio of minimum times {r})",
              None if r is None else r <= bound)


# -- the DER paper's Seq-MNIST protocol (--protocol der-paper) ----------------------------

# Mammoth's best arguments for Seq-MNIST (utils/best_args.py at the NeurIPS 2020 commit,
# as in shared/reference/modern-rehearsal.md section 1): buffer -> method -> (lr, replay
# minibatch, alpha, beta). Published values, not tuned here. ER-ACE is not in the DER
# paper: it gets ER's arguments.
MAMMOTH_SEQ_MNIST = {
    200: {"ER": (0.01, 10, None, None), "DER": (0.03, 10, 0.2, None),
          "DER++": (0.03, 128, 0.2, 1.0)},
    500: {"ER": (0.1, 10, None, None), "DER": (0.03, 128, 1.0, None),
          "DER++": (0.03, 10, 1.0, 0.5)},
}
# DER paper Table 2, Seq-MNIST class-IL (on MNIST, not Fashion-MNIST): for the order only
PUBLISHED_SEQ_MNIST = {200: {"ER": 80.43, "DER": 84.55, "DER++": 85.61},
                       500: {"ER": 86.12, "DER": 90.54, "DER++": 91.00}}


class ERPlugin(OnlineRehearsalPlugin):
    """Mammoth's ER from skcl's online-rehearsal base: a reservoir memory updated after
    every step (``update_every``), one draw of ``batch_size_mem`` exemplars appended to
    the incoming minibatch, and the strategy's own criterion (cross-entropy, mean over
    the concatenated minibatch, as Mammoth's ``er.py``; no ``compute_loss`` here)."""

    def _replay_parts(self, strategy, n: int) -> list:
        return [("labels", self._draw_index(self._n_mem(n)))]


def mammoth_args(name: str, mem: int) -> tuple:
    """``(lr, replay minibatch, alpha, beta)``: Mammoth's best Seq-MNIST arguments (ER's
    for the methods outside the DER paper)."""
    return MAMMOTH_SEQ_MNIST[mem]["ER" if name in ("ER", "ER-ACE", "Replay", "MIR") else name]


def make_der_paper(name: str, mem: int, seed: int, hp: tuple | None = None):
    """One method with the DER paper's Seq-MNIST settings: MLP 784-100-100-10, one epoch,
    batch 10, SGD without momentum, memory updated after every step; ``hp`` =
    ``(lr, replay minibatch, alpha, beta)``, by default Mammoth's best arguments."""
    lr, mb, alpha, beta = hp if hp is not None else mammoth_args(name, mem)
    common = dict(module__hidden_sizes=(100, 100), lr=lr, max_epochs=1, batch_size=10,
                  random_state=seed)
    if name == "ER":
        return Naive(plugins=[ERPlugin(mem_size=mem, batch_size_mem=mb, update_every=1)],
                     **common)
    if name == "Replay":  # skcl's Replay: memory updated at the end of each experience
        return Replay(mem_size=mem, batch_size_mem=mb,
                      storage_policy=ReservoirSamplingBuffer(mem), **common)
    if name == "DER":
        return DER(mem_size=mem, batch_size_mem=mb, alpha=alpha, mem_update_every=1, **common)
    if name == "DER++":
        return DERPlusPlus(mem_size=mem, batch_size_mem=mb, alpha=alpha, beta=beta,
                           mem_update_every=1, **common)
    if name == "ER-ACE":
        return ERACE(mem_size=mem, batch_size_mem=mb, mem_update_every=1, **common)
    if name == "MIR":
        return MIR(mem_size=mem, batch_size_mem=mb, subsample=50, mem_update_every=1,
                   **common)
    raise ValueError(name)


# (train, test) experiences by name, set before a pool forks: jobs name them rather
# than carry them (a pickled training set per job would cost more than the run)
_SPLITS: dict = {}


def _der_paper_run(job) -> tuple:
    """One ``(name, mem, seed, hp, split)`` run: ``(accuracy, time)`` (a pool job)."""
    name, mem, seed, hp, split_name = job
    torch.set_num_threads(1)
    train, test = _SPLITS[split_name]
    try:
        acc, t = run(make_der_paper(name, mem, seed, hp), train, test, online=False)
    except DivergenceError:  # a grid point whose learning rate is too high: never chosen
        acc, t = float("nan"), float("nan")
    if split_name == "validation":
        print(f"  validation mem {mem} {name:7s} {hp} acc {acc:.4f}", flush=True)
    return acc, t


def _map(jobs: list, n_jobs: int) -> list:
    """The jobs' results, in order; ``n_jobs`` worker processes (one torch thread each)."""
    if n_jobs <= 1:
        return [_der_paper_run(j) for j in jobs]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(n_jobs) as pool:
        return pool.map(_der_paper_run, jobs, chunksize=1)


# The grid searched with --select validation: the values Mammoth's best Seq-MNIST
# arguments are drawn from (the DER paper's appendix grid for Seq-MNIST)
GRID = {"lr": (0.01, 0.03, 0.1, 0.2), "mb": (10, 128), "alpha": (0.1, 0.2, 0.5, 1.0),
        "beta": (0.5, 1.0)}


def grid(name: str) -> list[tuple]:
    """Every ``(lr, mb, alpha, beta)`` of :data:`GRID` that ``name`` uses."""
    alphas = GRID["alpha"] if name in ("DER", "DER++") else (None,)
    betas = GRID["beta"] if name == "DER++" else (None,)
    return [(lr, mb, a, b) for lr in GRID["lr"] for mb in GRID["mb"] for a in alphas
            for b in betas]


def split_validation(train, frac: float = 0.1, seed: int = 0):
    """``(train without validation, validation)``: ``frac`` of each class's training
    images held out (the DER paper's 10% validation split), drawn once with ``seed``."""
    rng = np.random.default_rng(seed)
    fit, val = [], []
    for X, y in train:
        held = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:int(frac * (y == c).sum())]
                               for c in np.unique(y)])
        mask = np.zeros(len(y), dtype=bool)
        mask[held] = True
        fit.append((X[~mask], y[~mask]))
        val.append((X[mask], y[mask]))
    return fit, val


def select_on_validation(train, args) -> dict:
    """``{(name, mem): (hp, accuracy)}``: per method and buffer, the grid point with the
    best final average accuracy on the validation split (seed 0, trained on the rest; a
    point whose training diverged is skipped)."""
    _SPLITS["validation"] = split_validation(train)
    keys = [(name, mem, hp) for mem in args.buffers for name in args.methods
            for hp in grid(name)]
    print(f"grid search on a 10% validation split: {len(keys)} runs, {args.jobs} processes",
          flush=True)
    accs = _map([(name, mem, 0, hp, "validation") for name, mem, hp in keys], args.jobs)
    best: dict = {}
    for (name, mem, hp), (acc, _) in zip(keys, accs, strict=True):
        if np.isnan(acc):  # diverged
            continue
        if (name, mem) not in best or acc > best[(name, mem)][1]:
            best[(name, mem)] = (hp, acc)
    return best


def der_paper(data, args) -> dict:
    """Split Fashion-MNIST with the DER paper's Seq-MNIST protocol: the full training set
    (6000 images per class) and test set (1000 per class), classes in the order
    (0, 1), (2, 3), ... as Seq-MNIST (fixed; the seed draws the initialisation, the
    shuffling and the memory's sampling), every method in lockstep per seed.

    ``--select mammoth``: Mammoth's best Seq-MNIST arguments; ``--select validation``:
    each method's arguments chosen by the same grid search on a validation split of
    the training set (:func:`select_on_validation`), then trained on the full training
    set and tested."""
    train, test = split_ordered(data)
    _SPLITS["test"] = train, test
    if args.select == "validation":
        chosen = {k: hp for k, (hp, _) in select_on_validation(train, args).items()}
        how = "arguments chosen on a 10% validation split (grid search, seed 0)"
    else:
        chosen = {(n, m): mammoth_args(n, m) for m in args.buffers for n in args.methods}
        how = "Mammoth's best Seq-MNIST arguments"
    keys = [(name, mem, seed) for seed in range(args.seeds) for mem in args.buffers
            for name in args.methods]
    results = _map([(name, mem, seed, chosen[(name, mem)], "test")
                    for name, mem, seed in keys], args.jobs)
    res: dict = {}
    for (name, mem, seed), (acc, t) in zip(keys, results, strict=True):
        res.setdefault((name, mem), []).append((acc, t))
        print(f"  der-paper seed {seed} mem {mem} {name:7s} acc {acc:.4f} time {t:.1f}s",
              flush=True)
    print(f"\nDER paper protocol on split Fashion-MNIST: final average class-IL accuracy (%), "
          f"mean ± std over {args.seeds} seeds; {how}")
    print("| method | buffer | lr | replay minibatch | alpha | beta | accuracy (%) | "
          "time (s, min) | DER paper Seq-MNIST (%) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for mem in args.buffers:
        for name in args.methods:
            r = np.array(res[(name, mem)])
            lr, mb, alpha, beta = chosen[(name, mem)]
            pub = PUBLISHED_SEQ_MNIST[mem].get(name)
            print(f"| {name} | {mem} | {lr} | {mb} | {alpha if alpha is not None else '-'} | "
                  f"{beta if beta is not None else '-'} | {100 * r[:, 0].mean():.2f} ± "
                  f"{100 * r[:, 0].std():.2f} | {r[:, 1].min():.1f} | "
                  f"{pub if pub is not None else '-'} |")
    print("\nOrder (issue 14 targets, ER in Replay's place):")
    for mem in args.buffers:
        a = {n: 100 * np.array(res[(n, mem)])[:, 0].mean() for n in args.methods}
        if {"ER", "DER", "DER++"} <= a.keys():
            ok = a["DER++"] >= a["DER"] >= a["ER"]
            print(f"  [{'holds' if ok else 'FAILS'}] buffer {mem}: DER++ >= DER >= ER "
                  f"({a['DER++']:.2f}, {a['DER']:.2f}, {a['ER']:.2f})")
        if {"ER", "ER-ACE"} <= a.keys():
            ok = a["ER-ACE"] >= a["ER"]
            print(f"  [{'holds' if ok else 'FAILS'}] buffer {mem}: ER-ACE >= ER "
                  f"({a['ER-ACE']:.2f}, {a['ER']:.2f})")
        if mem == 200 and {"ER", "DER++"} <= a.keys():
            ok = a["DER++"] >= a["ER"] + 3
            print(f"  [{'holds' if ok else 'FAILS'}] buffer 200: DER++ >= ER + 3 points "
                  f"({a['DER++'] - a['ER']:+.2f})")
    print("Order (issue 14 targets, skcl's Replay):")
    for mem in args.buffers:
        a = {n: 100 * np.array(res[(n, mem)])[:, 0].mean() for n in args.methods}
        if {"Replay", "DER", "DER++"} <= a.keys():
            ok = a["DER++"] >= a["DER"] >= a["Replay"]
            print(f"  [{'holds' if ok else 'FAILS'}] buffer {mem}: DER++ >= DER >= Replay "
                  f"({a['DER++']:.2f}, {a['DER']:.2f}, {a['Replay']:.2f})")
        if {"Replay", "ER-ACE"} <= a.keys():
            ok = a["ER-ACE"] >= a["Replay"]
            print(f"  [{'holds' if ok else 'FAILS'}] buffer {mem}: ER-ACE >= Replay "
                  f"({a['ER-ACE']:.2f}, {a['Replay']:.2f})")
        if mem == 200 and {"Replay", "DER++"} <= a.keys():
            ok = a["DER++"] >= a["Replay"] + 3
            print(f"  [{'holds' if ok else 'FAILS'}] buffer 200: DER++ >= Replay + 3 points "
                  f"({a['DER++'] - a['Replay']:+.2f})")
    return res


def split_ordered(data, n_experiences: int = 5):
    """Every training and test image, experiences of classes (0, 1), (2, 3), ..."""
    X, y, Xt, yt = data
    train, test = [], []
    for classes in np.array_split(np.arange(10), n_experiences):
        idx, tidx = np.flatnonzero(np.isin(y, classes)), np.flatnonzero(np.isin(yt, classes))
        train.append((X[idx], y[idx]))
        test.append((Xt[tidx], yt[tidx]))
    return train, test


# -- the arithmetic floor of DER++'s cost over ER's (--floor) -----------------------------

def floor(args) -> None:
    """Hand-written PyTorch steps on the same MLP and minibatch sizes, no skcl: ER (the
    incoming minibatch and one replay draw, one forward/backward over both) against
    DER++ (the incoming minibatch and two independent draws, one over all three: the
    replayed logits' MSE and the replayed labels' cross-entropy), and DER++ with
    Mammoth's three separate forward passes. The memory is full and fixed (no updates,
    which cost both alike), draws are ``torch.randperm`` rows. Per-step process time,
    ``--repeats`` rounds alternating the variants, minimum over rounds."""
    torch.manual_seed(0)
    hidden, b, m = tuple(args.floor_hidden), args.floor_batch, args.floor_mem_batch
    layers, width = [], 784
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    ce, mse = torch.nn.functional.cross_entropy, torch.nn.functional.mse_loss
    mem = 200
    X_mem, y_mem = torch.rand(mem, 784), torch.randint(0, 10, (mem,))
    z_mem = torch.randn(mem, 10)
    x_in, y_in = torch.rand(b, 784), torch.randint(0, 10, (b,))

    def draw():
        return torch.randperm(mem)[:m]

    def naive():  # Replay's steps before its memory fills (its whole first experience)
        loss = ce(model(x_in), y_in)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def er():
        i = draw()
        out = model(torch.cat([x_in, X_mem[i]]))
        loss = ce(out, torch.cat([y_in, y_mem[i]]))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def derpp():
        i, j = draw(), draw()
        out = model(torch.cat([x_in, X_mem[i], X_mem[j]]))
        loss = (ce(out[:b], y_in) + 0.5 * mse(out[b:b + m], z_mem[i])
                + 0.5 * ce(out[b + m:], y_mem[j]))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def derpp_3pass():  # Mammoth: three forward passes, one backward
        i, j = draw(), draw()
        loss = (ce(model(x_in), y_in) + 0.5 * mse(model(X_mem[i]), z_mem[i])
                + 0.5 * ce(model(X_mem[j]), y_mem[j]))
        opt.zero_grad()
        loss.backward()
        opt.step()

    steps = {"no replay": naive, "ER": er, "DER++ (one pass)": derpp,
             "DER++ (3 passes)": derpp_3pass}
    times: dict = {k: [] for k in steps}
    for _ in range(args.repeats):
        for name, fn in steps.items():
            for _ in range(50):
                fn()
            t0 = time.process_time()
            for _ in range(args.floor_steps):
                fn()
            times[name].append((time.process_time() - t0) / args.floor_steps)
    print(f"\nfloor: hand-written steps, MLP 784-{'-'.join(map(str, hidden))}-10, "
          f"batch {b}, replay minibatch {m}, min of {args.repeats} rounds of "
          f"{args.floor_steps} steps (process time)")
    # skcl's Replay fills its memory at the end of an experience: its first experience
    # (of 5) trains without replay, while DER++ replays from its second step on
    er_t = min(times["ER"])
    replay_t = 0.2 * min(times["no replay"]) + 0.8 * er_t
    print("| step | time per step (µs) | / ER | / Replay's schedule (1/5 no replay) |")
    print("| --- | --- | --- | --- |")
    for name, ts in times.items():
        print(f"| {name} | {1e6 * min(ts):.0f} | {min(ts) / er_t:.2f} | "
              f"{min(ts) / replay_t:.2f} |")


# DER paper, Table 2, Seq-CIFAR-10 class-IL (mean of 10 runs): buffer -> method -> accuracy
PUBLISHED_CIFAR10 = {200: {"Replay": 44.79, "DER": 61.93, "DER++": 64.88},
                     500: {"Replay": 57.74, "DER": 70.51, "DER++": 72.70}}
# Mammoth's best arguments for Seq-CIFAR-10 (lr, replay minibatch, alpha, beta)
MAMMOTH_CIFAR10 = {200: {"Replay": (0.1, 32, None, None), "DER": (0.03, 32, 0.3, None),
                         "DER++": (0.03, 32, 0.1, 0.5)},
                   500: {"Replay": (0.1, 32, None, None), "DER": (0.03, 32, 0.3, None),
                         "DER++": (0.03, 32, 0.2, 0.5)}}


def cifar10(args) -> None:
    """Seq-CIFAR-10 (5 x 2 classes), ResNet-18, 50 epochs, batch 32, crop + flip on the
    stream and the replayed samples, Mammoth's best arguments; printed beside the paper."""
    from skcl.benchmarks import split_cifar10
    from skcl.models import SlimResNet18
    from skcl.plugins import TransformPlugin
    from skcl.transforms import Compose, RandomCrop, RandomHorizontalFlip

    def augment():
        return Compose([RandomCrop(32, padding=4), RandomHorizontalFlip()])

    res: dict = {}
    for seed in range(args.seeds):
        train, test = split_cifar10(n_experiences=5, root=args.cifar10, random_state=seed)
        train = [(e.X, e.y) for e in train]
        test = [(e.X, e.y) for e in test]
        for mem in args.buffers:
            for name in ("Replay", "DER", "DER++"):
                lr, mb, alpha, beta = MAMMOTH_CIFAR10[mem][name]
                common = dict(module=SlimResNet18, module__nf=args.nf, lr=lr, batch_size=32,
                              max_epochs=args.cifar_epochs, random_state=seed,
                              plugins=[TransformPlugin(augment())])
                if name == "Replay":
                    net = Replay(mem_size=mem, batch_size_mem=mb,
                                 storage_policy=ReservoirSamplingBuffer(mem), **common)
                elif name == "DER":
                    net = DER(mem_size=mem, batch_size_mem=mb, alpha=alpha,
                              replay_transform=augment(), **common)
                else:
                    net = DERPlusPlus(mem_size=mem, batch_size_mem=mb, alpha=alpha, beta=beta,
                                      replay_transform=augment(), **common)
                acc, t = run(net, train, test, online=False)
                res.setdefault((name, mem), []).append(acc)
                print(f"  cifar10 seed {seed} mem {mem} {name:6s} acc {acc:.4f} time {t:.0f}s",
                      flush=True)
    print("\n| method | buffer | skcl class-IL accuracy (%) | DER paper (%) |")
    print("| --- | --- | --- | --- |")
    for (name, mem), accs in res.items():
        a = 100 * np.array(accs)
        print(f"| {name} | {mem} | {a.mean():.2f} ± {a.std():.2f} | "
              f"{PUBLISHED_CIFAR10[mem][name]:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--buffers", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=500)
    parser.add_argument("--methods", nargs="+",
                        default=["Replay", "DER", "DER++", "ER-ACE", "MIR", "SCR", "BiC"])
    parser.add_argument("--online-methods", nargs="+",
                        default=["Replay", "DER", "DER++", "ER-ACE", "MIR"])
    parser.add_argument("--online-train-per-class", type=int, default=500)
    parser.add_argument("--skip-online", action="store_true")
    parser.add_argument("--skip-offline", action="store_true")
    parser.add_argument("--cifar10", default=None,
                        help="folder of the CIFAR-10 files: run the Seq-CIFAR-10 table instead")
    parser.add_argument("--nf", type=int, default=64,
                        help="ResNet-18 width for CIFAR-10 (64: the DER paper's; 20: slim)")
    parser.add_argument("--cifar-epochs", type=int, default=50)
    parser.add_argument("--cost-only", action="store_true",
                        help="only time the methods: seed 0, --repeats lockstep rounds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=ALPHA, help="DER and DER++ alpha")
    parser.add_argument("--beta", type=float, default=BETA, help="DER++ beta")
    parser.add_argument("--protocol", choices=["ours", "der-paper"], default="ours",
                        help="der-paper: the DER paper's Seq-MNIST protocol (see der_paper)")
    parser.add_argument("--select", choices=["mammoth", "validation"], default="mammoth",
                        help="der-paper arguments: Mammoth's best Seq-MNIST ones, or each "
                             "method's chosen by a grid search on a 10%% validation split")
    parser.add_argument("--jobs", type=int, default=1,
                        help="der-paper: worker processes (one torch thread each)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="training time as wall time or as process (CPU) time")
    parser.add_argument("--floor", action="store_true",
                        help="hand-written ER and DER++ steps: the arithmetic floor of the ratio")
    parser.add_argument("--floor-hidden", type=int, nargs="+", default=[100])
    parser.add_argument("--floor-batch", type=int, default=32)
    parser.add_argument("--floor-mem-batch", type=int, default=32)
    parser.add_argument("--floor-steps", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.floor:
        floor(args)
        raise SystemExit(0)
    ALPHA, BETA = args.alpha, args.beta
    if args.cifar10 is not None:
        cifar10(args)
        raise SystemExit(0)
    data = load_fashion()
    if args.protocol == "der-paper":
        if args.methods == parser.get_default("methods"):
            args.methods = ["ER", "DER", "DER++", "ER-ACE"]
        der_paper(data, args)
        raise SystemExit(0)
    print(f"split Fashion-MNIST, 5 experiences, seeds={args.seeds}, buffers={args.buffers}, "
          f"train/class={args.train_per_class}, test/class={args.test_per_class}, "
          f"settings={COMMON}, DER alpha={ALPHA}, DER++ beta={BETA}, torch threads=1")
    online_args = argparse.Namespace(**{**vars(args), "methods": args.online_methods,
                                        "train_per_class": args.online_train_per_class})
    step = cost if args.cost_only else table
    off = {} if args.skip_offline else step(data, args, online=False)
    on = {} if args.skip_online else step(data, online_args, online=True)
    if args.cost_only:
        for n, bound in (("DER", 1.5), ("DER++", 1.5), ("ER-ACE", 1.5), ("MIR", 3.0)):
            for kind, res in (("offline", off), ("online", on)):
                r = _ratio(res, n)
                if r is not None:
                    print(f"  [{'holds' if r <= bound else 'FAILS'}] {kind} cost: {n} <= "
                          f"{bound}x Replay (largest ratio over buffers {r:.2f})")
    else:
        targets(off, on, args.buffers)
