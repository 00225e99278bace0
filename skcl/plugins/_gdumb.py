"""`GDumbPlugin`: greedy class-balanced memory; retrain from scratch on it every experience."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from skcl.models import adapt_module
from skcl.plugins._base import StrategyPlugin
from skcl.utils import Interval

if TYPE_CHECKING:  # pragma: no cover
    from skcl.utils._data import TrainData

__all__ = ["GDumbPlugin", "greedy_class_balanced"]


def greedy_class_balanced(mem_y: np.ndarray, new_y: np.ndarray, mem_size: int,
                          rng: np.random.Generator, seen_classes=()) -> np.ndarray:
    """GDumb's greedy class-balanced sampler (Prabhu et al. 2020, Algorithm 1).

    Samples arrive one at a time (``new_y`` in order). While the memory has
    room a sample is stored; once full, a sample whose class holds fewer
    than ``mem_size / |classes seen|`` slots replaces a random sample of the
    largest class; otherwise it is dropped.

    Parameters
    ----------
    mem_y : ndarray of shape (n_mem,)
        Labels currently in memory (candidates ``0 .. n_mem-1``).
    new_y : ndarray of shape (n_new,)
        Labels of the new samples (candidates ``n_mem .. n_mem+n_new-1``).
    mem_size : int
    rng : numpy Generator
    seen_classes : iterable
        Classes seen before (they count in ``|classes seen|``).

    Returns
    -------
    ndarray of int
        Candidate indices held after the update.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.plugins._gdumb import greedy_class_balanced
    >>> keep = greedy_class_balanced(np.array([0, 0, 0, 0]), np.array([1, 1, 1, 1]), 4,
    ...                              np.random.default_rng(0))
    >>> np.bincount(np.r_[[0, 0, 0, 0], [1, 1, 1, 1]][keep]).tolist()
    [2, 2]
    """
    labels = np.concatenate([mem_y, new_y])
    new_y = np.asarray(new_y)
    slots = list(range(len(mem_y)))  # candidate index held in each slot
    by_class: dict = {}
    for pos, c in enumerate(mem_y.tolist()):
        by_class.setdefault(c, []).append(pos)
    seen = set(seen_classes) | set(by_class)
    n_mem, n_new = len(mem_y), len(new_y)
    j = 0
    while j < n_new and len(slots) < mem_size:  # room left: store every sample
        c = new_y[j].item()
        seen.add(c)
        by_class.setdefault(c, []).append(len(slots))
        slots.append(n_mem + j)
        j += 1
    # Full: a sample is dropped unless its class is new or below its quota, and only
    # accepted samples change the state, so jump from one acceptable sample to the next
    # (the same decisions and random draws as offering every sample in turn).
    positions = {c: np.flatnonzero(new_y == c) for c in np.unique(new_y[j:]).tolist()}
    while j < n_new:
        quota = mem_size / len(seen)
        nxt = n_new
        for c, where in positions.items():
            if c in seen and len(by_class.get(c, ())) >= quota:
                continue  # a full class stays full until it loses a slot
            k = np.searchsorted(where, j)
            if k < len(where) and where[k] < nxt:
                nxt = int(where[k])
        if nxt == n_new:
            break
        j = nxt
        c = new_y[j].item()
        seen.add(c)
        members = by_class.setdefault(c, [])
        if len(members) < mem_size / len(seen):
            largest = max(by_class, key=lambda k: len(by_class[k]))
            victims = by_class[largest]
            k = int(rng.integers(len(victims)))
            slot = victims[k]
            victims[k] = victims[-1]
            victims.pop()
            slots[slot] = n_mem + j
            members.append(slot)
        j += 1
    keep = np.asarray(slots, dtype=np.int64)
    return keep[np.argsort(labels[keep], kind="stable")] if len(keep) else keep


class GDumbPlugin(StrategyPlugin):
    """GDumb (Prabhu, Torr & Dokania, ECCV 2020): greedy memory, retrain from scratch.

    At every experience the samples are offered one by one (in a seeded
    random order) to the greedy class-balanced sampler
    (:func:`greedy_class_balanced`), as in the paper. Avalanche replaces it
    with per-class reservoirs; skcl follows the paper. The model is then
    reset to its initial weights (grown to the classes seen so far) and
    trained on the memory only.

    Parameters
    ----------
    mem_size : int, default=200

    Attributes
    ----------
    memory_ : TrainData
        The exemplars (inputs, output-unit indices, task labels).
    initial_module_ : torch.nn.Module
        A copy of the model as it was before training.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Naive
    >>> from skcl.plugins import GDumbPlugin
    >>> train, _ = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[GDumbPlugin(mem_size=50)], random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> np.bincount(net.named_plugins_["gdumb"].memory_.y.numpy()).tolist()
    [5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {"mem_size": [Interval("int", 1, None)]}

    def __init__(self, mem_size: int = 200):
        self.mem_size = mem_size

    def before_training_exp(self, strategy, experience) -> None:
        if not hasattr(self, "initial_module_"):
            self.initial_module_ = copy.deepcopy(strategy.module_)
            return
        fresh = copy.deepcopy(self.initial_module_)
        adapt_module(fresh, len(strategy.class_order_), strategy.units_by_task_)
        strategy.module_ = fresh.to(strategy.device)
        strategy.rebuild_optimizer(keep_state=False)

    def adapt_train_data(self, strategy, data: TrainData) -> TrainData:
        memory = getattr(self, "memory_", None)
        if memory is None:
            memory = data.subset(torch.zeros(0, dtype=torch.long))
        order = self.rng_.permutation(len(data))  # the order samples are offered in
        new_y = data.y.numpy()[order]
        keep = greedy_class_balanced(memory.y.numpy(), new_y, self.mem_size, self.rng_)
        # gather only the kept samples (memory-sized copies, never the whole experience)
        n_mem = len(memory)
        from_mem = keep < n_mem
        kept_old = memory.subset(torch.as_tensor(keep[from_mem], dtype=torch.long))
        kept_new = data.subset(torch.as_tensor(order[keep[~from_mem] - n_mem], dtype=torch.long))
        where = np.empty(len(keep), dtype=np.int64)
        where[from_mem] = np.arange(int(from_mem.sum()))
        where[~from_mem] = len(kept_old) + np.arange(int((~from_mem).sum()))
        self.memory_ = kept_old.concat(kept_new).subset(torch.as_tensor(where))
        return self.memory_
