"""Split Fashion-MNIST as 1x28x28 images with a small CNN and crop+flip augmentation.

Class-incremental, 5 experiences of 2 classes; Naive fine-tuning against
Replay and iCaRL (500 exemplars each). Reads the official IDX files from ``--root``,
``$SKCL_FASHION_MNIST``, ``$SKCL_DATA/fashion_mnist``, the cache folder, or the
Debian package (``apt-get install dataset-fashion-mnist``); add ``--download``
to fetch them.

    python examples/split_fashion_mnist_cnn.py                       # ~ minutes on a CPU
    python examples/split_fashion_mnist_cnn.py --train-samples 60000 --epochs 5
    python examples/split_fashion_mnist_cnn.py --epochs 4 --seeds 3   # benchmarks/README
"""

import argparse
import time

import numpy as np
import torch

from skcl.benchmarks import split_fashion_mnist
from skcl.models import SmallCNN
from skcl.strategies import ICaRL, Naive, Replay
from skcl.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip

# Avalanche's Fashion-MNIST statistics, on pixels in [0, 1]
MEAN, STD = 0.2860, 0.3530


def run(strategy, train, test):
    """Train on each experience; return the accuracy matrix R[i, j]."""
    R = np.zeros((len(train), len(test)))
    for i, exp in enumerate(train):
        strategy.partial_fit(exp)
        R[i] = [strategy.score(e.X, e.y) for e in test]
    return R


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=None, help="folder with the four IDX files")
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--n-experiences", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-samples", type=int, default=10000,
                        help="seeded subset of the 60,000 training images")
    parser.add_argument("--test-samples", type=int, default=None,
                        help="test images kept per experience (all when omitted)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--mem-size", type=int, default=500)
    parser.add_argument("--icarl-lr", type=float, default=0.02,
                        help="iCaRL's lr: its BCE is summed over the 10 units (--lr / 10 is "
                             "Avalanche's scale; 0.02 measured better, see benchmarks/README)")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, default=1, help="class orders 0..seeds-1")
    parser.add_argument("--strategies", default="Naive,Replay,ICaRL",
                        help="comma-separated, from Naive, Replay, ICaRL")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    results: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        # dtype="float32": pixels in [0, 1], kept as (n, 1, 28, 28) images
        train, test = split_fashion_mnist(args.n_experiences, root=args.root, random_state=seed,
                                          dtype="float32", max_train_samples=args.train_samples,
                                          download=args.download)
        if args.test_samples is not None:
            test = [type(e)(e.X[:args.test_samples], e.y[:args.test_samples], e.task_label,
                            e.classes, e.index) for e in test]
        print(f"split Fashion-MNIST (seed {seed}): {len(train)} experiences, classes "
              f"{[e.classes.tolist() for e in train]}, {sum(map(len, train))} train images "
              f"of shape {train[0].X.shape[1:]}")

        augment = Compose([RandomCrop(28, padding=2), RandomHorizontalFlip(),
                           Normalize(MEAN, STD)])
        common = dict(module=SmallCNN, module__input_shape=(1, 28, 28), lr=args.lr,
                      optimizer__momentum=0.9, max_epochs=args.epochs,
                      batch_size=args.batch_size, train_transform=augment,
                      eval_transform=Normalize(MEAN, STD), random_state=seed)
        makers = {"Naive": lambda c=common: Naive(**c),
                  "Replay": lambda c=common: Replay(mem_size=args.mem_size, **c),
                  "ICaRL": lambda c=common: ICaRL(memory_size=args.mem_size,
                                                  **{**c, "lr": args.icarl_lr})}
        for name in args.strategies.split(","):
            strategy = makers[name]()
            start = time.perf_counter()
            R = run(strategy, train, test)
            results.setdefault(name, []).append(R[-1].mean())
            print(f"{name:7s} final average accuracy {R[-1].mean():.3f} "
                  f"(per experience {np.round(R[-1], 2).tolist()}), "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
    if args.seeds > 1:
        for name, accs in results.items():
            print(f"{name:7s} mean over {args.seeds} seeds {np.mean(accs):.3f} "
                  f"± {np.std(accs):.3f}")

if __name__ == "__main__":
    main()
