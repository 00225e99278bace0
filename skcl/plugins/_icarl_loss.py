"""`ICaRLLossPlugin`: iCaRL's binary cross-entropy with distillation on old classes."""

from __future__ import annotations

import copy

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
    n_old_units_ : int
        Output units seen before the current experience.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import ICaRLLossPlugin
    >>> from skcl.strategies import Naive
    >>> train, _ = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[ICaRLLossPlugin()], random_state=0)
    >>> for exp in train[:2]:
    ...     _ = net.partial_fit(exp)
    >>> net.named_plugins_["icarlloss"].n_old_units_
    4
    """

    def __init__(self):
        pass

    def _old_targets(self, strategy, inputs: dict, target: torch.Tensor) -> None:
        """Write the old model's sigmoid outputs into the old-class columns of ``target``."""
        module, n_old = self.old_module_, self.n_old_units_
        x = inputs["x"].to(strategy.device)
        with torch.no_grad():
            if not getattr(module, "is_multi_task", False):
                target[:, :n_old] = torch.sigmoid(module(x)[:, :n_old])
                return
            # multi-head: only samples of tasks the old model knows have old outputs
            t = inputs["task_labels"].to(strategy.device)
            known = torch.as_tensor(sorted(self.old_tasks_), dtype=t.dtype, device=t.device)
            rows = torch.isin(t, known)
            if rows.any():
                old = module(x[rows], t[rows])
                target[rows, :n_old] = torch.sigmoid(old[:, :n_old]).to(target.dtype)

    def compute_loss(self, strategy, y_pred, y_true, inputs):
        n_units = len(strategy.class_order_)
        logits = y_pred[:, :n_units]
        target = F.one_hot(y_true.to(logits.device), n_units).to(logits.dtype)
        old = getattr(self, "old_module_", None)
        n_old = getattr(self, "n_old_units_", 0)
        if old is not None and n_old > 0:
            self._old_targets(strategy, inputs, target)
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return loss.sum(dim=1).mean()

    def after_training_exp(self, strategy, experience) -> None:
        self.old_module_ = copy.deepcopy(strategy.module_).eval()
        for p in self.old_module_.parameters():
            p.requires_grad_(False)
        self.n_old_units_ = len(strategy.class_order_)
        self.old_tasks_ = set(strategy.units_by_task_)
