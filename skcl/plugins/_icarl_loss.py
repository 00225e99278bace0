"""`ICaRLLossPlugin`: iCaRL's binary cross-entropy with distillation on old classes."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from skcl.plugins._base import StrategyPlugin

__all__ = ["ICaRLLossPlugin"]


class ICaRLLossPlugin(StrategyPlugin):
    """iCaRL's loss (Rebuffi et al., CVPR 2017): sigmoid BCE with distillation.

    Replaces the criterion. The target of a sample is the one-hot vector of
    its class, except on the old classes' columns (those seen before the
    current experience), which hold the previous model's sigmoid outputs.
    The loss is the binary cross-entropy summed over the output units and
    averaged over the minibatch, as in the paper (Avalanche averages over
    units too). The previous model is a frozen copy taken at the end of each
    experience and evaluated in eval mode (Avalanche leaves it in train
    mode). Multi-head models get the sample's task labels.

    Attributes
    ----------
    old_module_ : torch.nn.Module or None
        The model as it was at the end of the previous experience.
    old_units_ : ndarray of int64
        Output units known to the previous model (trained up to the end of
        the previous experience, whatever ``classes=`` fixed up front): the
        distilled ones.
    n_old_units_ : int
        ``len(old_units_)``.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import ICaRLLossPlugin
    >>> from skcl.strategies import Naive
    >>> train, _ = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[ICaRLLossPlugin()], random_state=0)
    >>> for exp in train[:2]:
    ...     _ = net.partial_fit(exp)
    >>> net.named_plugins_["icarlloss"].old_units_.tolist()  # distilled in the 3rd experience
    [0, 1, 2, 3]
    """

    def __init__(self):
        pass

    def _old_targets(self, strategy, inputs: dict, target: torch.Tensor) -> None:
        """Write the old model's sigmoid outputs into the old-class columns of ``target``."""
        module = self.old_module_
        x = inputs["x"].to(strategy.device)
        idx = torch.as_tensor(self.old_units_, dtype=torch.long, device=target.device)
        with torch.no_grad():
            if not getattr(module, "is_multi_task", False):
                target[:, idx] = torch.sigmoid(module(x)[:, idx]).to(target.dtype)
                return
            # multi-head: only samples of tasks the old model knows have old outputs
            t = inputs["task_labels"].to(strategy.device)
            known = torch.as_tensor(sorted(self.old_tasks_), dtype=t.dtype, device=t.device)
            rows = torch.isin(t, known)
            if rows.any():
                old = module(x[rows], t[rows])
                sub = target[rows]
                sub[:, idx] = torch.sigmoid(old[:, idx]).to(target.dtype)
                target[rows] = sub

    def compute_loss(self, strategy, y_pred, y_true, inputs):
        n_units = len(strategy.class_order_)
        logits = y_pred[:, :n_units]
        target = F.one_hot(y_true.to(logits.device), n_units).to(logits.dtype)
        old = getattr(self, "old_module_", None)
        if old is not None and len(getattr(self, "old_units_", ())) > 0:
            self._old_targets(strategy, inputs, target)
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return loss.sum(dim=1).mean()

    def after_training_exp(self, strategy, experience) -> None:
        self.old_module_ = copy.deepcopy(strategy.module_).eval()
        for p in self.old_module_.parameters():
            p.requires_grad_(False)
        self.old_tasks_ = set(strategy.units_by_task_)
        # units trained so far: earlier experiences' and this one's (data, not classes=)
        units = strategy.encode_labels(np.asarray(experience.y).reshape(-1))
        self.old_units_ = np.union1d(strategy.trained_units_, units).astype(np.int64)
        self.n_old_units_ = len(self.old_units_)
