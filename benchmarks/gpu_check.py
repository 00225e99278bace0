"""The GPU check: every strategy on one experience of Split CIFAR-10-shaped data, on a GPU.

Run on a machine with a GPU: ``python benchmarks/gpu_check.py`` (about a minute on one
GPU). ``--device cpu --quick`` runs the same code on the CPU as a smoke test (the test
suite does that).

For each strategy of ``skcl.strategies.__all__`` (default parameters, the slim
ResNet-18, random crop + flip as ``train_transform``):

1. trains two experiences (2 classes each, 3x32x32 uint8 images, generated with a
   fixed seed) on the CPU and on ``--device``, in ``--precision``;
2. checks that the device run's predictions agree with the CPU run's on the test
   images (fp32: >= 90% agreement; GPU kernels are not bit-identical to the CPU's);
3. reports the time per experience on the device.

Then it times Naive against a hand-written PyTorch loop with the same model,
augmentation, batch size and precision on the device (the ratio target is <= 1.15),
and prints the GPU utilisation from ``torch.cuda.utilization()`` when available.

The output is a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.nn import functional as F

import skcl.strategies as strategies
from skcl.models import SlimResNet18, adapt_module
from skcl.strategies import BaseStrategy
from skcl.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToFloat

SKIP = {"JointTraining": "trains at the end of the stream (fit), not per experience",
        "StreamingLDA": "no backbone training (features only)",
        "PNNStrategy": "one column per task: needs task labels",
        "BaseStrategy": "not a strategy"}


def cifar_like(n_per_class: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), n_per_class)
    X = rng.integers(0, 256, (len(y), 3, 32, 32), dtype=np.uint8)
    X[:, 0] = (X[:, 0] // 2 + 32 * y[:, None, None]).astype(np.uint8)  # learnable colour cue
    return X, y


def augmentation():
    return Compose([ToFloat(), RandomCrop(32, padding=4), RandomHorizontalFlip(),
                    Normalize(mean=0.5, std=0.25)])


def make(name: str, device: str, precision: str, epochs: int) -> BaseStrategy:
    cls = getattr(strategies, name)
    return cls(module=SlimResNet18, module__input_shape=(3, 32, 32), max_epochs=epochs,
               lr=0.05, batch_size=64, random_state=0, device=device, precision=precision,
               train_transform=augmentation(), eval_transform=Compose(
                   [ToFloat(), Normalize(mean=0.5, std=0.25)]))


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_strategy(name, X, y, device, precision, epochs):
    net = make(name, device, precision, epochs)
    times = []
    for classes in ((0, 1), (2, 3)):
        mask = np.isin(y, classes)
        sync(device)
        start = time.perf_counter()
        net.partial_fit(X[mask], y[mask])
        sync(device)
        times.append(time.perf_counter() - start)
    return net, times


def raw_loop(X, y, device, precision, epochs, seed=0):
    torch.manual_seed(seed)
    model = SlimResNet18(input_shape=(3, 32, 32), n_classes=2).to(device)
    aug = augmentation()
    gen = torch.Generator(device=device).manual_seed(seed)
    dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler(torch.device(device).type) if precision == "16-mixed" else None
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    sync(device)
    start = time.perf_counter()
    for n_units, classes in ((2, (0, 1)), (4, (2, 3))):
        adapt_module(model, n_units, {0: np.arange(n_units)})
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        idx = torch.nonzero(torch.isin(yt, torch.tensor(classes))).ravel()
        for _ in range(epochs):
            for b in idx[torch.randperm(len(idx))].split(64):
                xb = aug(Xt[b].to(device, non_blocking=True), generator=gen)
                yb = yt[b].to(device, non_blocking=True)
                opt.zero_grad()
                with torch.autocast(torch.device(device).type, dtype=dtype,
                                    enabled=dtype is not None):
                    loss = F.cross_entropy(model(xb), yb)
                if scaler is None:
                    loss.backward()
                    opt.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
    sync(device)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--precision", default="32", choices=["32", "16-mixed", "bf16-mixed"])
    parser.add_argument("--quick", action="store_true", help="tiny data, 3 strategies")
    parser.add_argument("--strategies", nargs="*")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("No CUDA GPU visible to torch: nothing measured. Run with --device cpu --quick "
              "for a smoke test.")
        return 2
    n, epochs = (16, 1) if args.quick else (500, 2)
    X, y = cifar_like(n)
    test = cifar_like(max(n // 5, 4), seed=1)
    names = args.strategies or (["Naive", "Replay", "EWC"] if args.quick else [
        s for s in strategies.__all__ if s not in SKIP
        and isinstance(getattr(strategies, s), type)
        and issubclass(getattr(strategies, s), BaseStrategy)])
    print("| strategy | device s/exp | agreement with CPU | note |\n|---|---|---|---|")
    for name in names:
        try:
            dev, times = run_strategy(name, X, y, args.device, args.precision, epochs)
            cpu, _ = run_strategy(name, X, y, "cpu", "32", epochs) if args.device != "cpu" \
                else (dev, None)
            agree = float((dev.predict(test[0]) == cpu.predict(test[0])).mean())
            print(f"| {name} | {np.mean(times):.3f} | {agree:.2f} | |")
        except Exception as exc:  # report and go on: the table shows what failed
            print(f"| {name} | - | - | {type(exc).__name__}: {str(exc)[:80]} |")
    raw = raw_loop(X, y, args.device, args.precision, epochs)
    _, times = run_strategy("Naive", X, y, args.device, args.precision, epochs)
    print(f"\nNaive {sum(times):.3f} s vs raw loop {raw:.3f} s: ratio {sum(times) / raw:.2f} "
          f"(target <= 1.15) on {args.device}, precision {args.precision}")
    if args.device.startswith("cuda"):
        try:
            print(f"GPU utilisation now: {torch.cuda.utilization()}%")
        except Exception:  # pynvml missing
            print("GPU utilisation: unavailable (pynvml not installed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
