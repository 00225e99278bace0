"""Architectural and streaming family (issue 6): CWR*, AR1, PNN, StreamingLDA vs Naive.

Run: ``python benchmarks/architectural_family.py [--fashion-samples N] [--seeds K]``.

Prints, per stream and strategy: final average accuracy, forgetting (accuracy
on experience k right after training it minus the final one, averaged over
all but the last experience), training time; and the checks of issue 6:

- class-incremental: StreamingLDA beats Naive and trains >= 10x faster.
  Two protocols are timed. (a) Each with its default-run model: Naive trains
  the MLP(100), StreamingLDA runs on raw pixels (identity extractor) or on a
  frozen random projection. (b) The Deep SLDA paper's protocol, "same
  network": Naive trains a small CNN end to end (5 epochs per experience, the
  default-run setting), StreamingLDA uses the body of that same CNN, frozen,
  as its feature extractor and makes its single pass (the paper's backbone is
  pretrained; nothing is downloaded here, so the body keeps its random
  initialization);
  CWR* and AR1 never change the consolidated output weights of old classes
  while training on a new experience (an observer plugin compares them after
  every optimizer step);
- task-incremental split-digits: PNN >= Naive with a multi-head MLP, and zero
  forgetting (predictions on old tasks identical after every later task).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from skcl.benchmarks import FASHION_MNIST_DEBIAN_PATH, split_digits, split_fashion_mnist
from skcl.models import IncrementalClassifier
from skcl.plugins import StrategyPlugin
from skcl.strategies import AR1, CWRStar, Naive, PNNStrategy, StreamingLDA

COMMON = {"module__hidden_sizes": (100,), "lr": 0.1, "max_epochs": 5, "batch_size": 32}


class ConsolidationWatcher(StrategyPlugin):
    """Counts optimizer steps after which an old class's consolidated weights changed."""

    def before_training_exp(self, strategy, experience):
        cwr = strategy.named_plugins_["cwr"]
        self.start_ = cwr.consolidated_weights_.copy()
        self.old_ = np.flatnonzero(cwr.past_counts_[: len(self.start_)])
        self.violations_ = getattr(self, "violations_", 0)
        self.checked_ = getattr(self, "checked_", 0)

    def after_training_iteration(self, strategy, batch):
        cwr = strategy.named_plugins_["cwr"]
        self.checked_ += 1
        if not np.array_equal(cwr.consolidated_weights_[self.old_], self.start_[self.old_]):
            self.violations_ += 1


def random_feature_extractor(n_in: int, n_out: int = 256, seed: int = 0) -> torch.nn.Module:
    """A frozen, randomly initialized ReLU projection: StreamingLDA's extractor here.

    Deep SLDA runs on a frozen pretrained network; nothing is downloaded in
    skcl, so this stands in for it (random features, not learned ones).
    """
    g = torch.Generator().manual_seed(seed)
    proj = torch.nn.Linear(n_in, n_out)
    with torch.no_grad():
        proj.weight.normal_(0.0, n_in ** -0.5, generator=g)
        proj.bias.zero_()
    return torch.nn.Sequential(proj, torch.nn.ReLU())


def cnn_body(image_side: int = 28, embedding: int = 128, pooling: str = "max",
             seed: int = 0) -> torch.nn.Module:
    """Two 3x3 convolutions (16 and 32 channels) that halve the resolution twice, then a
    128-unit embedding. ``pooling="max"``: stride-1 convolutions each followed by 2x2
    max-pooling; ``"stride"``: stride-2 convolutions (ResNet-style downsampling)."""
    torch.manual_seed(seed)
    side = image_side // 4
    layers: list[torch.nn.Module] = [torch.nn.Unflatten(1, (1, image_side, image_side))]
    for c_in, c_out in ((1, 16), (16, 32)):
        if pooling == "max":
            layers += [torch.nn.Conv2d(c_in, c_out, 3, padding=1), torch.nn.ReLU(),
                       torch.nn.MaxPool2d(2)]
        else:
            layers += [torch.nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), torch.nn.ReLU()]
    layers += [torch.nn.Flatten(), torch.nn.Linear(32 * side * side, embedding),
               torch.nn.ReLU()]
    return torch.nn.Sequential(*layers)


def same_network_models(side: int, pooling: str, seed: int) -> list:
    """(label, factory) pairs: Naive on the whole CNN, StreamingLDA on its frozen body."""
    fit = {k: v for k, v in COMMON.items() if k not in ("module__hidden_sizes", "max_epochs")}

    def naive(epochs):
        module = torch.nn.Sequential(cnn_body(side, pooling=pooling, seed=seed),
                                     IncrementalClassifier(128))
        return Naive(module, **fit, max_epochs=epochs, random_state=seed)

    return [
        ("Naive (CNN trained end to end, 5 epochs)", lambda: naive(5)),
        ("Naive (CNN trained end to end, 1 epoch)", lambda: naive(1)),
        ("StreamingLDA (the same CNN body, frozen)", lambda: StreamingLDA(
            cnn_body(side, pooling=pooling, seed=seed), shrinkage_param=1e-2, batch_size=256,
            random_state=seed)),
    ]


def same_network(train, test, seed: int = 0) -> None:
    """Deep SLDA's protocol: Naive fine-tunes a CNN; StreamingLDA uses its body, frozen."""
    side = int(round(train[0].X.shape[1] ** 0.5))
    for pooling, name in (("max", "max-pooling CNN"), ("stride", "strided CNN")):
        print(f"\n### same network: {name} (conv16-conv32-128), seed {seed}\n")
        print("| strategy | final avg acc | forgetting | train time (s) |")
        print("| --- | --- | --- | --- |")
        rows = {}
        for label, make in same_network_models(side, pooling, seed):
            final, forgetting, seconds, _ = run_stream(make(), train, test)
            rows[label] = (final, seconds)
            print(f"| {label} | {final:.3f} | {forgetting:.3f} | {seconds:.2f} |")
        slda = rows["StreamingLDA (the same CNN body, frozen)"]
        for label in list(rows)[:2]:
            print(f"\nStreamingLDA vs {label}: accuracy {slda[0]:.3f} vs "
                  f"{rows[label][0]:.3f}; {rows[label][1] / slda[1]:.1f}x faster")


def run_stream(est, train, test, seen_only=False):
    R = np.zeros((len(train), len(test)))
    preds_after = {}
    elapsed = 0.0
    for i, exp in enumerate(train):
        start = time.process_time()  # CPU time: robust to other tenants' load
        est.partial_fit(exp)
        elapsed += time.process_time() - start
        for j, te in enumerate(test[: i + 1] if seen_only else test):
            R[i, j] = est.score(te)
        if seen_only:
            preds_after[i] = [est.predict(te) for te in test[: i + 1]]
    final = R[-1].mean()
    forgetting = np.mean([R[k, k] - R[-1, k] for k in range(len(train) - 1)])
    identical = None
    if preds_after:
        last = preds_after[len(train) - 1]
        identical = all(np.array_equal(preds_after[k][k], last[k]) for k in range(len(train)))
    return final, forgetting, elapsed, identical


def class_incremental(name, train, test, ar1_kwargs, seeds):
    print(f"\n## {name}: class-incremental, {len(train)} experiences, "
          f"{sum(len(e) for e in train)} training samples, seeds {list(seeds)}\n")
    print("| strategy | final avg acc | forgetting | train time (s) | check |")
    print("| --- | --- | --- | --- | --- |")
    rows = {}
    for label, make in [
        ("Naive", lambda s: Naive(**COMMON, random_state=s)),
        ("CWRStar", lambda s: CWRStar(**COMMON, plugins=[("watch", ConsolidationWatcher())],
                                      random_state=s)),
        ("AR1", lambda s: AR1(**ar1_kwargs, plugins=[("watch", ConsolidationWatcher())],
                              random_state=s)),
        ("StreamingLDA", lambda s: StreamingLDA(shrinkage_param=1e-2, batch_size=256,
                                                random_state=s)),
        ("StreamingLDA (frozen random features, 256)", lambda s: StreamingLDA(
            random_feature_extractor(train[0].X.shape[1], 256, seed=s), shrinkage_param=1e-2,
            batch_size=256, random_state=s)),
    ]:
        res, check = [], ""
        for s in seeds:
            est = make(s)
            res.append(run_stream(est, train, test)[:3])
            if "watch" in est.named_plugins_:
                w = est.named_plugins_["watch"]
                check = f"old consolidated rows changed in {w.violations_}/{w.checked_} steps"
        res = np.array(res)
        rows[label] = res.mean(0)
        m, sd = res.mean(0), res.std(0)
        print(f"| {label} | {m[0]:.3f} ± {sd[0]:.3f} | {m[1]:.3f} | {m[2]:.2f} | {check} |")
    for label in ("StreamingLDA", "StreamingLDA (frozen random features, 256)"):
        speedup = rows["Naive"][2] / rows[label][2]
        print(f"\n{label} vs Naive: accuracy {rows[label][0]:.3f} vs "
              f"{rows['Naive'][0]:.3f}; {speedup:.1f}x faster")
    return rows


def task_incremental(seeds):
    train, test = split_digits(n_experiences=5, task_labels=True, random_state=0)
    print(f"\n## split-digits: task-incremental, 5 experiences (task label = experience), "
          f"seeds {list(seeds)}\n")
    print("| strategy | final avg acc | forgetting | train time (s) | predictions on old tasks "
          "identical |")
    print("| --- | --- | --- | --- | --- |")
    for label, make in [
        ("Naive (multi-head MLP)",
         lambda s: Naive(**dict(COMMON, module__multi_head=True), random_state=s)),
        ("PNNStrategy", lambda s: PNNStrategy(module__hidden_features_per_column=100, lr=0.1,
                                              max_epochs=5, batch_size=32, random_state=s)),
    ]:
        res, same = [], []
        for s in seeds:
            f, fg, t, ident = run_stream(make(s), train, test, seen_only=True)
            res.append((f, fg, t))
            same.append(ident)
        m = np.array(res).mean(0)
        flag = str(all(same))
        print(f"| {label} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.2f} | {flag} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--fashion-samples", type=int, default=10000)
    parser.add_argument("--same-network-only", action="store_true",
                        help="only the split Fashion-MNIST same-network comparison")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = range(args.seeds)
    if not args.same_network_only:
        train, test = split_digits(n_experiences=5, random_state=0)
        class_incremental("split-digits", train, test,
                          dict(lr=0.05, inc_lr=0.01, max_epochs=5, batch_size=32, rm_sz=300),
                          seeds)
        task_incremental(range(max(args.seeds, 5)))
    if os.path.isdir(FASHION_MNIST_DEBIAN_PATH):
        train, test = split_fashion_mnist(n_experiences=5, random_state=0, dtype="float32",
                                          flatten=True, max_train_samples=args.fashion_samples)
        if not args.same_network_only:
            class_incremental(
                f"split Fashion-MNIST (train subsampled to {args.fashion_samples})", train, test,
                dict(lr=0.05, inc_lr=0.01, max_epochs=2, batch_size=32, rm_sz=1500), range(1))
        same_network(train, test)
    else:
        print(f"\n(split Fashion-MNIST skipped: {FASHION_MNIST_DEBIAN_PATH} not found)")


if __name__ == "__main__":
    main()
