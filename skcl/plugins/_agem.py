"""Averaged Gradient Episodic Memory (Chaudhry, Ranzato, Rohrbach & Elhoseiny, ICLR 2019)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._utils import (
    experience_data,
    flat_grad,
    in_memory,
    memory_gradient,
    random_subset,
    trainable_parameters,
    write_flat_grad,
)
from skcl.utils import Interval

__all__ = ["AGEMPlugin", "agem_project"]


def agem_project(g: torch.Tensor, g_ref: torch.Tensor) -> torch.Tensor:
    """A-GEM's projection: ``g - (g.g_ref / g_ref.g_ref) g_ref`` if ``g.g_ref < 0``, else ``g``.

    Examples
    --------
    >>> import torch
    >>> agem_project(torch.tensor([1.0, -1.0]), torch.tensor([0.0, 1.0])).tolist()
    [1.0, 0.0]
    """
    dot = torch.dot(g, g_ref)
    if dot >= 0:
        return g
    return g - (dot / torch.dot(g_ref, g_ref)) * g_ref


class AGEMPlugin(StrategyPlugin):
    """A-GEM: keep the loss on an episodic memory from increasing, on average.

    After each experience, ``patterns_per_experience`` random samples of it
    are stored. Before each training step, the reference gradient ``g_ref``
    is the gradient of the loss on ``sample_size`` samples drawn uniformly
    from the whole memory (as in the paper; Avalanche draws an equal share
    from each experience's memory), passed through the strategy's
    ``train_transform`` like the training minibatch (as in Avalanche). After
    the backward pass, if the
    gradient ``g`` conflicts with it (``g.g_ref < 0``), ``g`` is replaced by its
    projection ``g - (g.g_ref / g_ref.g_ref) g_ref``.

    Parameters
    ----------
    patterns_per_experience : int, default=250
        Samples stored from each experience.
    sample_size : int, default=64
        Memory samples used for the reference gradient at each step.

    Attributes
    ----------
    memory_ : TrainData or None
        Every stored sample (inputs, unit indices, task labels).
    n_projections_ : int
        Steps whose gradient was projected (over the whole stream).

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import Naive
    >>> from skcl.plugins import AGEMPlugin
    >>> train, test = permuted_digits(2)
    >>> net = Naive(plugins=[AGEMPlugin(patterns_per_experience=50)], random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["agem"].memory_)
    100
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "patterns_per_experience": [Interval("int", 1, None)],
        "sample_size": [Interval("int", 1, None)],
    }

    def __init__(self, patterns_per_experience: int = 250, sample_size: int = 64):
        self.patterns_per_experience = patterns_per_experience
        self.sample_size = sample_size

    def before_training_exp(self, strategy, experience) -> None:
        if not hasattr(self, "memory_"):
            self.memory_ = None
            self.n_projections_ = 0
        self.reference_grad_ = None

    def before_training_iteration(self, strategy, batch) -> None:
        if self.memory_ is None:
            return
        n = len(self.memory_)
        idx = np.sort(self.rng_.choice(n, size=min(self.sample_size, n), replace=False))
        params = [p for _, p in trainable_parameters(strategy.module_)]
        self.reference_grad_ = memory_gradient(strategy, self.memory_.subset(idx), params)

    def after_backward(self, strategy) -> None:
        if self.reference_grad_ is None:
            return
        params = [p for _, p in trainable_parameters(strategy.module_)]
        g = flat_grad(params)
        projected = agem_project(g, self.reference_grad_)
        if projected is not g:
            write_flat_grad(params, projected)
            self.n_projections_ += 1
        self.reference_grad_ = None

    def after_training_exp(self, strategy, experience) -> None:
        # read into a tensor (lazy input stays on disk otherwise): every step samples the
        # memory, which is small
        new = in_memory(
            random_subset(experience_data(strategy), self.patterns_per_experience, self.rng_))
        self.memory_ = new if self.memory_ is None else self.memory_.concat(new)
        self.reference_grad_ = None
