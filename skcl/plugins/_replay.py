"""`ReplayPlugin`: experience replay from a bounded exemplar buffer, batch by batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from sklearn.base import clone

from skcl.buffers import ExemplarsBuffer, ExperienceBalancedBuffer
from skcl.plugins._base import StrategyPlugin
from skcl.utils import Interval
from skcl.utils._data import extend_batch

if TYPE_CHECKING:  # pragma: no cover
    from skcl.utils._data import TrainData

__all__ = ["ReplayPlugin"]


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(np.iinfo(np.int32).max))


class ReplayPlugin(StrategyPlugin):
    """Experience replay (ER): every minibatch is extended with exemplars from memory.

    After each experience, its training samples (inputs, encoded labels,
    task labels) are offered to ``storage_policy``. From the next experience
    on, every current minibatch gets ``batch_size_mem`` exemplars drawn from
    the buffer's tensors appended to it (Avalanche's ``ReplayDataLoader``,
    done by tensor indexing in ``adapt_batch``): the cost of an experience
    does not grow with the number of past experiences, and the memory is
    never concatenated to the dataset. Replayed samples keep their own task
    labels, so multi-head models route them to their own heads.

    Parameters
    ----------
    mem_size : int, default=200
        Memory size; the storage policy's ``max_size`` must equal it.
    batch_size : int or None, default=None
        Current samples per minibatch; ``None`` keeps the strategy's
        ``batch_size``.
    batch_size_mem : int or None, default=None
        Replayed samples per minibatch; ``None`` uses the current batch size.
    task_balanced_dataloader : bool, default=False
        Draw the memory batch evenly over the task labels in memory.
    storage_policy : ExemplarsBuffer or None, default=None
        ``None`` means ``ExperienceBalancedBuffer(mem_size, adaptive_size=True)``.
        It is cloned (and seeded from the strategy) when training starts.

    Attributes
    ----------
    storage_ : ExemplarsBuffer
        The live memory (labels are output-unit indices).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import ReplayPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[ReplayPlugin(mem_size=100)], lr=0.1, max_epochs=2, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["replay"].storage_)
    100
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "mem_size": [Interval("int", 0, None)],
        "batch_size": [None, Interval("int", 1, None)],
        "batch_size_mem": [None, Interval("int", 1, None)],
        "task_balanced_dataloader": ["boolean"],
        "storage_policy": [None, ExemplarsBuffer],
    }

    def __init__(self, mem_size: int = 200, batch_size: int | None = None,
                 batch_size_mem: int | None = None, task_balanced_dataloader: bool = False,
                 storage_policy: ExemplarsBuffer | None = None):
        self.mem_size = mem_size
        self.batch_size = batch_size
        self.batch_size_mem = batch_size_mem
        self.task_balanced_dataloader = task_balanced_dataloader
        self.storage_policy = storage_policy

    def validate_parameters(self, display: Callable[[str], str] | None = None,
                            owner: str | None = None) -> None:
        """The declared constraints, then: a ``storage_policy`` holds ``mem_size`` samples."""
        super().validate_parameters(display, owner)
        if self.storage_policy is not None and self.storage_policy.max_size != self.mem_size:
            raise self._relation_error(
                "{0}.max_size ({self.storage_policy.max_size}) must equal {1} "
                "({self.mem_size}).", ("storage_policy", "mem_size"), display, owner)

    def before_training_exp(self, strategy, experience) -> None:
        if not hasattr(self, "storage_"):
            storage = (ExperienceBalancedBuffer(self.mem_size) if self.storage_policy is None
                       else clone(self.storage_policy))
            if storage.get_params().get("random_state", 0) is None:
                storage.set_params(random_state=_seed(self.rng_))
            self.storage_ = storage
        elif self.storage_.max_size != self.mem_size:  # mem_size changed by set_params
            self.storage_.resize(self.mem_size)
        if self.batch_size is not None:  # the current data's minibatch size, this experience
            strategy.train_batch_size_ = int(self.batch_size)

    def adapt_train_data(self, strategy, data: TrainData) -> TrainData:
        self.current_data_ = data
        return data

    def _memory_batch(self, n: int):
        storage = self.storage_
        size = len(storage)
        if size == 0 or n == 0:
            return None
        if self.task_balanced_dataloader:
            t = storage.task_labels_.numpy()
            tasks = np.unique(t)
            share = np.full(len(tasks), n // len(tasks))
            share[: n % len(tasks)] += 1
            parts = []
            for task, k in zip(tasks, share, strict=True):
                pool = np.flatnonzero(t == task)
                parts.append(self.rng_.choice(pool, size=k, replace=len(pool) < k))
            idx = np.concatenate(parts)
        else:
            idx = self.rng_.choice(size, size=min(n, size), replace=False)
        idx = torch.as_tensor(idx, dtype=torch.long)
        return storage.X_[idx], storage.y_[idx], storage.task_labels_[idx]

    def adapt_batch(self, strategy, batch):
        inputs, y = batch
        n_mem = self.batch_size_mem or len(y)
        mem = self._memory_batch(n_mem)
        if mem is None:
            return batch
        return extend_batch(batch, *mem)

    def after_training_exp(self, strategy, experience) -> None:
        data = self.current_data_
        self.storage_.partial_fit(data.X, data.y, task_labels=data.task_labels,
                                  experience=strategy.n_experiences_)
        self.current_data_ = None
