"""Helpers shared by the regularization and gradient-projection plugins.

Frozen teachers (LwF, LFL), flattened gradients (A-GEM, GEM, SI), shape
alignment for parameters that grew with the head (EWC, SI), per-experience
coefficients.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from skcl.utils import LazyX, TrainData

if TYPE_CHECKING:  # pragma: no cover
    from skcl.strategies import BaseStrategy

__all__ = [
    "frozen_copy",
    "trainable_parameters",
    "flat_grad",
    "write_flat_grad",
    "memory_gradient",
    "overlap",
    "zero_pad",
    "coefficient_at",
    "random_subset",
    "in_memory",
    "experience_data",
]


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` in eval mode with every parameter frozen (a teacher)."""
    teacher = copy.deepcopy(module)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def trainable_parameters(module: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """``(name, parameter)`` for every parameter that requires a gradient."""
    return [(n, p) for n, p in module.named_parameters() if p.requires_grad]


def flat_grad(params: Sequence[torch.Tensor], grads=None) -> torch.Tensor:
    """Concatenate gradients into one vector (zeros where a gradient is ``None``).

    ``grads`` defaults to each parameter's ``.grad``.
    """
    if grads is None:
        grads = [p.grad for p in params]
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                      for p, g in zip(params, grads, strict=True)])


def write_flat_grad(params: Sequence[torch.Tensor], flat: torch.Tensor) -> None:
    """Write a flat gradient vector back into the parameters' ``.grad``."""
    i = 0
    for p in params:
        n = p.numel()
        g = flat[i:i + n].view_as(p).to(p.dtype)
        if p.grad is None:
            p.grad = g.clone()
        else:
            p.grad.copy_(g)
        i += n


def memory_gradient(strategy: BaseStrategy, data: TrainData,
                    params: Sequence[torch.Tensor]) -> torch.Tensor:
    """Flat gradient of the strategy's criterion on ``data`` (one batch), in train mode.

    The inputs go through the strategy's ``train_transform`` first (as
    Avalanche computes GEM's and A-GEM's memory gradients on the memory with
    the training transforms): the constraint is on what the model trains on.
    Uses :func:`torch.autograd.grad`, so the parameters' ``.grad`` are untouched.
    """
    module = strategy.module_
    was_training = module.training
    if not was_training:  # (during training it already is: skip the recursive call)
        module.train()
    try:
        x = strategy.transform_inputs(data.X.to(strategy.device), training=True)
        inputs = {"x": x,
                  "task_labels": data.task_labels.to(strategy.device)}
        out = strategy.infer(inputs)
        if isinstance(out, tuple):
            out = out[0]
        loss = strategy.criterion_(out, data.y.to(strategy.device))
        grads = torch.autograd.grad(loss, list(params), allow_unused=True)
    finally:
        module.train(was_training)
    return flat_grad(params, grads).detach()


def overlap(current: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The slice of ``current`` that overlaps ``reference``'s (smaller or equal) shape.

    A head that grew keeps its old units first, so the old units of a grown
    weight are ``current[:old_rows, :old_cols]``.
    """
    if current.shape == reference.shape:
        return current
    return current[tuple(slice(0, s) for s in reference.shape)]


def zero_pad(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``t`` zero-padded (at the end of each dimension) to ``shape``."""
    if t.shape == shape:
        return t
    out = t.new_zeros(shape)
    out[tuple(slice(0, s) for s in t.shape)] = t
    return out


def coefficient_at(value, index: int, name: str, fallback_last: bool = False) -> float:
    """A coefficient given as one number or one value per experience.

    Raises a ValueError when a list is too short (unless ``fallback_last``).
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    values = list(value)
    if index < len(values):
        return float(values[index])
    if fallback_last and values:
        return float(values[-1])
    raise ValueError(f"{name} has {len(values)} values but experience {index} is being "
                     "trained; give one value per experience (or a single number).")


def random_subset(data: TrainData, n: int, rng: np.random.Generator) -> TrainData:
    """A uniform random subset of ``min(n, len(data))`` samples (drawn with ``rng``)."""
    idx = rng.permutation(len(data))[:n]
    return data.subset(np.sort(idx))


def in_memory(data: TrainData) -> TrainData:
    """``data`` with its samples read into a tensor (lazy data: a memmap, a dataset).

    For small memories that every training step reads whole (GEM, A-GEM):
    tensors work with every torch operation (``torch.cat``...) and are read
    from disk once, not at every step. In-memory data is returned as is.
    """
    if not isinstance(data.X, LazyX):
        return data
    return TrainData(data.X.to("cpu"), data.y, data.task_labels)


def experience_data(strategy: BaseStrategy) -> TrainData:
    """The current experience's own samples as :class:`TrainData` (labels as unit indices).

    Unlike ``strategy.train_data_`` this never includes samples another plugin
    added (replay in concat mode).
    """
    return strategy.current_experience_data()
