"""Split CIFAR-10 with the slim ResNet-18 (nf=20) and random-crop+flip augmentation.

Class-incremental, 5 experiences of 2 classes in the natural order (DER's and
CLB's protocol); Naive fine-tuning against Replay. Reads
``cifar-10-python.tar.gz`` (or the extracted ``cifar-10-batches-py/``) from
``--root``, ``$SKCL_CIFAR10``, ``$SKCL_DATA/cifar10`` or the cache folder;
``--download`` fetches it from https://www.cs.toronto.edu/~kriz/. Without the
files it says so and runs on generated CIFAR-shaped data (3x32x32 images whose
class is a colour and a stripe orientation), so the script always runs.

    python examples/split_cifar10_resnet.py                  # a few minutes on a CPU
    python examples/split_cifar10_resnet.py --train-samples 50000 --epochs 30 --device cuda
"""

import argparse
import time

import numpy as np
import torch

from skcl.benchmarks import class_incremental_split, split_cifar10
from skcl.models import SlimResNet18
from skcl.strategies import Naive, Replay
from skcl.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip

# CIFAR-10 per-channel mean and (true) std, on pixels in [0, 1] (Mammoth's values)
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2615)


def cifar_shaped(n_train, n_test, seed=0):
    """Generated uint8 (n, 3, 32, 32) images of 10 learnable classes, as float32 in [0, 1]."""
    rng = np.random.RandomState(seed)
    palette = rng.randint(40, 216, size=(10, 3))
    rows = np.arange(32)

    def make(n):
        y = np.arange(n) % 10
        rng.shuffle(y)
        X = rng.normal(0, 30, size=(n, 3, 32, 32))
        X += palette[y][:, :, None, None]
        stripes = np.where(y[:, None, None] % 2 == 0, rows[None, :, None] % 8 < 4,
                           rows[None, None, :] % 8 < 4)  # horizontal or vertical
        X += 50 * stripes[:, None]
        return (np.clip(X, 0, 255).astype(np.uint8).astype(np.float32) / 255), y

    (X, y), (Xt, yt) = make(n_train), make(n_test)
    return class_incremental_split(X, y, Xt, yt, n_experiences=5, shuffle=False)


def run(strategy, train, test):
    R = np.zeros((len(train), len(test)))
    for i, exp in enumerate(train):
        strategy.partial_fit(exp)
        R[i] = [strategy.score(e.X, e.y) for e in test]
    return R


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=None)
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=2000,
                        help="seeded subset of the 50,000 training images")
    parser.add_argument("--test-samples", type=int, default=200,
                        help="test images kept per experience (all when 0)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--mem-size", type=int, default=200)
    parser.add_argument("--nf", type=int, default=20, help="ResNet width (64: full ResNet-18)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    try:
        train, test = split_cifar10(5, root=args.root, shuffle=False, dtype="float32",
                                    max_train_samples=args.train_samples,
                                    download=args.download)
        source = "CIFAR-10"
    except FileNotFoundError as err:
        print(f"CIFAR-10 files not found, so this run uses GENERATED CIFAR-shaped data "
              f"(not CIFAR-10).\n  ({str(err).split('. ')[0]}; see --root / --download)")
        train, test = cifar_shaped(args.train_samples, max(args.test_samples, 10) * 5)
        source = "generated CIFAR-shaped data"
    if args.test_samples:
        test = [type(e)(e.X[:args.test_samples], e.y[:args.test_samples], e.task_label,
                        e.classes, e.index) for e in test]
    print(f"split {source}: classes {[e.classes.tolist() for e in train]}, "
          f"{sum(map(len, train))} train images of shape {train[0].X.shape[1:]}")

    augment = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), Normalize(MEAN, STD)])
    common = dict(module=SlimResNet18, module__nf=args.nf, lr=0.05, optimizer__momentum=0.9,
                  max_epochs=args.epochs, batch_size=args.batch_size, device=args.device,
                  train_transform=augment, eval_transform=Normalize(MEAN, STD), random_state=0)
    strategies = {"Naive": Naive(**common), "Replay": Replay(mem_size=args.mem_size, **common)}
    for name, strategy in strategies.items():
        start = time.perf_counter()
        R = run(strategy, train, test)
        print(f"{name:7s} final average accuracy {R[-1].mean():.3f} "
              f"(per experience {np.round(R[-1], 2).tolist()}), "
              f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
