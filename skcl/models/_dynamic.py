"""Modules whose output layer grows as classes and tasks arrive."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["DynamicModule", "MultiTaskModule", "IncrementalClassifier", "MultiHeadClassifier",
           "adapt_module"]

# A finite "minus infinity": masked logits get ~0 probability without NaNs in the loss.
MASK_VALUE = -1e4


class DynamicModule(nn.Module):
    """A module that adapts its structure to the classes and tasks seen so far.

    The strategy calls :func:`adapt_module` at the start of each experience,
    which calls :meth:`adaptation` on every ``DynamicModule`` in the model.
    """

    def adaptation(self, n_outputs: int, units_by_task: dict[int, np.ndarray]) -> bool:
        """Grow to ``n_outputs`` units; return True if parameters were replaced."""
        return False


class MultiTaskModule(nn.Module):
    """Base class of models whose ``forward(x, task_labels)`` routes by task label.

    The strategy passes the per-sample task labels that travel with the data
    (from an :class:`~skcl.benchmarks.Experience`) as the second argument.
    """

    is_multi_task = True


def adapt_module(module: nn.Module, n_outputs: int, units_by_task: dict[int, np.ndarray]) -> bool:
    """Call ``adaptation`` on every :class:`DynamicModule` inside ``module``.

    Returns True if any parameter object was replaced (the optimizer must then
    be rebuilt).
    """
    changed = False
    for m in list(module.modules()):
        if isinstance(m, DynamicModule):
            changed |= bool(m.adaptation(n_outputs, units_by_task))
    return changed


class IncrementalClassifier(DynamicModule):
    """A linear output layer that grows when new classes arrive.

    Old units keep their weights; new units get PyTorch's default init.

    Parameters
    ----------
    in_features : int
        Size of the input features.
    initial_out_features : int, default=2
        Units before any class has been seen.
    bias : bool, default=True
        Whether the layer has a bias (CWR* wants ``bias=False``).

    Examples
    --------
    >>> import torch
    >>> from skcl.models import IncrementalClassifier
    >>> head = IncrementalClassifier(4, initial_out_features=2)
    >>> w_old = head.classifier.weight.detach().clone()
    >>> head.adaptation(5, {})
    True
    >>> head(torch.zeros(3, 4)).shape, bool((head.classifier.weight[:2] == w_old).all())
    (torch.Size([3, 5]), True)
    """

    def __init__(self, in_features: int, initial_out_features: int = 2, bias: bool = True):
        super().__init__()
        self.in_features = in_features
        self.bias = bias
        self.classifier = nn.Linear(in_features, initial_out_features, bias=bias)

    @property
    def out_features(self) -> int:
        return self.classifier.out_features

    def adaptation(self, n_outputs: int, units_by_task=None) -> bool:
        old = self.classifier
        if n_outputs <= old.out_features:
            return False
        new = nn.Linear(self.in_features, n_outputs, bias=self.bias).to(old.weight.device)
        with torch.no_grad():
            new.weight[: old.out_features] = old.weight
            if self.bias:
                new.bias[: old.out_features] = old.bias
        self.classifier = new
        return True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x)


class MultiHeadClassifier(MultiTaskModule, DynamicModule):
    """One :class:`IncrementalClassifier` head per task label, created lazily.

    Each head's output has one unit per class known to the strategy; with
    ``masking=True`` the units of classes never seen in that task are masked
    out, so a head only predicts its own task's classes.

    Parameters
    ----------
    in_features : int
    initial_out_features : int, default=2
    masking : bool, default=True

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skcl.models import MultiHeadClassifier
    >>> heads = MultiHeadClassifier(3)
    >>> _ = heads.adaptation(4, {0: np.array([0, 1]), 1: np.array([2, 3])})
    >>> out = heads(torch.zeros(2, 3), torch.tensor([0, 1]))
    >>> (out[0, 2:] < -1000).tolist(), (out[1, :2] < -1000).tolist()
    ([True, True], [True, True])
    """

    def __init__(self, in_features: int, initial_out_features: int = 2, masking: bool = True):
        super().__init__()
        self.in_features = in_features
        self.initial_out_features = initial_out_features
        self.masking = masking
        self.heads = nn.ModuleDict()
        # per-task boolean masks of active units, kept as buffers so they pickle and move
        self.n_outputs = initial_out_features

    def known_tasks(self) -> list[int]:
        return sorted(int(k) for k in self.heads.keys())

    def adaptation(self, n_outputs: int, units_by_task: dict[int, np.ndarray]) -> bool:
        changed = False
        self.n_outputs = max(self.n_outputs, n_outputs)
        for task, units in units_by_task.items():
            key = str(int(task))
            if key not in self.heads:
                device = next(self.parameters(), torch.zeros(0)).device
                self.heads[key] = IncrementalClassifier(
                    self.in_features, self.initial_out_features).to(device)
                changed = True
            changed |= self.heads[key].adaptation(self.n_outputs)
            mask = torch.zeros(self.n_outputs, dtype=torch.bool)
            mask[torch.as_tensor(np.asarray(units, dtype=np.int64))] = True
            self.register_buffer(f"active_units_T{key}", mask)
        return changed

    def _head_output(self, x: torch.Tensor, task: int) -> torch.Tensor:
        key = str(task)
        if key not in self.heads:
            raise ValueError(
                f"Task label {task} was never seen in training; known task labels: "
                f"{self.known_tasks()}."
            )
        out = self.heads[key](x)
        if out.shape[1] < self.n_outputs:
            out = torch.nn.functional.pad(out, (0, self.n_outputs - out.shape[1]), value=MASK_VALUE)
        if self.masking:
            mask = getattr(self, f"active_units_T{key}").to(out.device)
            if mask.numel() < out.shape[1]:
                mask = torch.nn.functional.pad(mask, (0, out.shape[1] - mask.numel()))
            out = out.masked_fill(~mask, MASK_VALUE)
        return out

    def forward(self, x: torch.Tensor, task_labels: torch.Tensor | int) -> torch.Tensor:
        if isinstance(task_labels, int):
            return self._head_output(x, task_labels)
        tasks = torch.unique(task_labels)
        if len(tasks) == 1:
            return self._head_output(x, int(tasks[0]))
        out = x.new_empty(len(x), self.n_outputs)
        for t in tasks.tolist():
            idx = task_labels == t
            out[idx] = self._head_output(x[idx], t)
        return out
