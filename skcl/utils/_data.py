"""Training data as compact tensors, and a fast minibatch iterator over them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch.utils.data import Dataset

__all__ = ["TrainData", "BatchIterator", "make_batch", "extend_batch"]


def make_batch(x: torch.Tensor, y: torch.Tensor | None, task_labels: torch.Tensor):
    """The minibatch format every hook sees: ``({"x": x, "task_labels": t}, y)``."""
    return {"x": x, "task_labels": task_labels}, y


def extend_batch(batch, x: torch.Tensor, y: torch.Tensor, task_labels: torch.Tensor):
    """Append samples (replayed exemplars) to a minibatch, on the batch's device.

    Examples
    --------
    >>> import torch
    >>> from skcl.utils import extend_batch, make_batch
    >>> batch = make_batch(torch.zeros(2, 3), torch.tensor([0, 1]), torch.tensor([0, 0]))
    >>> inputs, y = extend_batch(batch, torch.ones(1, 3), torch.tensor([5]), torch.tensor([2]))
    >>> inputs["x"].shape, y.tolist(), inputs["task_labels"].tolist()
    (torch.Size([3, 3]), [0, 1, 5], [0, 0, 2])
    """
    inputs, y0 = batch
    x0, t0 = inputs["x"], inputs["task_labels"]
    return make_batch(
        torch.cat([x0, x.to(x0.device, x0.dtype)]),
        torch.cat([y0, y.to(y0.device)]),
        torch.cat([t0, task_labels.to(t0.device)]),
    )


class TrainData(Dataset):
    """Samples of one (possibly adapted) experience as three aligned tensors.

    Parameters
    ----------
    X : Tensor of shape (n_samples, ...), float32
    y : Tensor of shape (n_samples,), int64 or None
        Output-unit indices (the strategy's encoding of the labels).
    task_labels : Tensor of shape (n_samples,), int64

    Plugins that store exemplars keep them in this form, so replaying them
    is a tensor concatenation and never a per-sample Python loop.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None, task_labels: torch.Tensor):
        if y is not None and len(y) != len(X):
            raise ValueError(f"TrainData: X has {len(X)} samples but y has {len(y)}.")
        if len(task_labels) != len(X):
            raise ValueError(
                f"TrainData: X has {len(X)} samples but task_labels has {len(task_labels)}.")
        self.X = X
        self.y = y
        self.task_labels = task_labels

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        return make_batch(self.X[i], None if self.y is None else self.y[i], self.task_labels[i])

    def subset(self, idx) -> TrainData:
        idx = torch.as_tensor(idx, dtype=torch.long)
        return TrainData(self.X[idx], None if self.y is None else self.y[idx],
                         self.task_labels[idx])

    def concat(self, *others: TrainData) -> TrainData:
        parts = [self, *others]
        return TrainData(
            torch.cat([p.X for p in parts]),
            torch.cat([p.y for p in parts]),
            torch.cat([p.task_labels for p in parts]),
        )

    @classmethod
    def empty_like(cls, other: TrainData) -> TrainData:
        return other.subset(torch.zeros(0, dtype=torch.long))


class BatchIterator:
    """Minibatches by tensor indexing: no per-sample ``__getitem__``/collate.

    Shuffling draws a permutation from ``generator`` each epoch; ``should_stop``
    lets a plugin end an epoch early (``strategy.stop_training()``). With a CUDA
    ``device``, each gathered chunk of minibatches is pinned and copied to the
    device asynchronously (``non_blocking``), once per chunk rather than per
    minibatch.
    """

    #: Minibatches gathered at once when shuffling: one index_select per chunk, then
    #: each minibatch is a slice (a view), cheaper than an index_select per minibatch.
    chunk_batches = 32

    def __init__(self, data: TrainData, batch_size: int, shuffle: bool,
                 generator: torch.Generator | None = None, drop_last: bool = False,
                 should_stop: Callable[[], bool] | None = None,
                 device: str | torch.device | None = None):
        self.data = data
        self.device = device
        self.batch_size = len(data) if batch_size == -1 else batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last
        self.should_stop = should_stop

    def __len__(self) -> int:
        n, b = len(self.data), max(self.batch_size, 1)
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator:
        d, n, b = self.data, len(self.data), max(self.batch_size, 1)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        stop = n - n % b if self.drop_last else n
        from skcl.utils._lazy import LazyX  # (a cycle at import time otherwise)

        if isinstance(d.X, LazyX):
            yield from self._iter_lazy(d, order, stop, b)
            return
        step = b * self.chunk_batches
        for c0 in range(0, stop, step):
            c1 = min(c0 + step, stop)
            if order is None:
                X, T = d.X[c0:c1], d.task_labels[c0:c1]
                Y = None if d.y is None else d.y[c0:c1]
            else:
                idx = order[c0:c1]
                X, T = d.X.index_select(0, idx), d.task_labels.index_select(0, idx)
                Y = None if d.y is None else d.y.index_select(0, idx)
            X, Y, T = self._to_device(X, Y, T)
            for start in range(0, c1 - c0, b):
                if self.should_stop is not None and self.should_stop():
                    return
                end = start + b
                yield make_batch(X[start:end], None if Y is None else Y[start:end],
                                 T[start:end])

    def _iter_lazy(self, d, order, stop: int, b: int) -> Iterator:
        # samples read per minibatch (bounded memory); labels index the in-memory tensors
        for start in range(0, stop, b):
            if self.should_stop is not None and self.should_stop():
                return
            end = min(start + b, stop)
            idx = torch.arange(start, end) if order is None else order[start:end]
            yield make_batch(*self._to_device(
                d.X.take(idx), None if d.y is None else d.y.index_select(0, idx),
                d.task_labels.index_select(0, idx)))

    def _to_device(self, *tensors):
        device = None if self.device is None else torch.device(self.device)
        if device is None or device.type != "cuda":
            return tensors  # the strategy moves CPU batches itself (skorch's to_tensor)
        return tuple(None if t is None else
                     (t.pin_memory() if t.device.type == "cpu" else t).to(device,
                                                                         non_blocking=True)
                     for t in tensors)
