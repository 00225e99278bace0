"""Bounded memory: train on a stream stored on disk (a memmap) larger than the RAM budget.

Run: ``python benchmarks/memmap_rss.py`` (one thread; ``--size-gb 0.05`` for a smoke run).

Writes a uint8 ``.npy`` file of ``--size-gb`` GB of 3x32x32 images (10 classes,
a class-dependent pattern plus noise) in ``--dir`` (default ``/tmp``), in
chunks, then trains :class:`~skcl.strategies.Naive` with a small
:class:`~skcl.models.SmallCNN` over it as a 5-experience class-incremental
stream (each experience a slice of the memmap, read per minibatch by
:class:`~skcl.utils.LazyX`, shuffled), and reports the process's peak resident
memory (``resource.getrusage(...).ru_maxrss``). Target: below 1 GB for a
stream of at least 4 GB. The file is deleted at the end.

The strategy reads lazy input (a memmap) per minibatch by itself.
``--no-release`` turns off LazyX's page release to show what a plain memmap
read costs in resident memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from skcl.benchmarks import Experience
from skcl.models import SmallCNN
from skcl.strategies import Naive
from skcl.utils import LazyX

SHAPE = (3, 32, 32)
ROW = int(np.prod(SHAPE))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_stream(path: Path, n: int, seed: int = 0, chunk: int = 20000) -> np.ndarray:
    """Write ``n`` uint8 images sorted by class (10 classes) with bounded memory; return y."""
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, *SHAPE))
    offset = mm.offset
    del mm
    y = np.repeat(np.arange(10), -(-n // 10))[:n]
    rng = np.random.default_rng(seed)
    patterns = rng.integers(0, 256, (10, ROW), dtype=np.uint8)
    noise = rng.integers(0, 96, (chunk, ROW), dtype=np.uint8)
    with open(path, "r+b") as f:
        f.seek(offset)
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            block = (patterns[y[s:e]] // 2 + noise[rng.integers(0, chunk, e - s)]).astype(np.uint8)
            f.write(block.tobytes())
            if hasattr(os, "posix_fadvise"):  # keep the writer's page cache from piling up
                f.flush()
    return y


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=4.2)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--no-release", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    n = int(args.size_gb * 1e9 // ROW)
    need = n * ROW + 2**30
    free = shutil.disk_usage(args.dir).free
    if free < need:
        raise SystemExit(f"{args.dir} has {free / 1e9:.1f} GB free; {need / 1e9:.1f} GB needed.")
    if args.no_release:
        LazyX.release_every = 2**62
    path = Path(args.dir) / f"skcl_memmap_rss_{os.getpid()}.npy"
    try:
        t0 = time.time()
        y = write_stream(path, n)
        write_s = time.time() - t0
        X = np.load(path, mmap_mode="r")
        base_rss = current_rss_mb()
        print(f"memmap stream: {n} uint8 images {SHAPE}, {X.nbytes / 1e9:.2f} GB on disk "
              f"(written in {write_s:.0f} s); RSS before training {base_rss:.0f} MB")
        net = Naive(module=SmallCNN, module__input_shape=SHAPE, module__channels=(4, 8),
                        module__hidden_size=32, lr=0.05, batch_size=args.batch_size,
                        max_epochs=1, random_state=0)
        bounds = np.linspace(0, n, 6).astype(int)
        t0 = time.time()
        for k in range(5):
            s, e = bounds[k], bounds[k + 1]
            net.partial_fit(Experience(X[s:e], y[s:e], index=k))
            print(f"  experience {k}: {e - s} images, RSS now {current_rss_mb():.0f} MB, "
                  f"peak {peak_rss_mb():.0f} MB")
        train_s = time.time() - t0
        # the last experience's classes (a class-incremental Naive forgets the others)
        pick = np.random.default_rng(1).choice(np.arange(bounds[4], n), 2000, replace=False)
        acc = net.score(LazyX(X)[pick].numpy(), y[pick])
        peak = peak_rss_mb()
        print(f"  trained {X.nbytes / 1e9:.2f} GB in {train_s:.0f} s; accuracy on 2000 "
              f"images of the last experience {acc:.3f}")
        print(f"  peak RSS {peak:.0f} MB (target < 1024 MB; page release "
              f"{'off' if args.no_release else 'on'})")
        return {"peak_rss_mb": peak, "gb": X.nbytes / 1e9, "acc": acc}
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
