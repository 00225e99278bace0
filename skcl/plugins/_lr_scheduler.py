"""Learning-rate schedules that restart with each experience."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._eval_streams import get_eval_stream, stream_metric
from skcl.utils import Options

__all__ = ["LRSchedulerPlugin"]


class LRSchedulerPlugin(StrategyPlugin):
    """Drive a PyTorch learning-rate scheduler with per-experience semantics.

    Parameters
    ----------
    scheduler : str or scheduler class, default="StepLR"
        A class from :mod:`torch.optim.lr_scheduler` (or its name). The
        scheduler is built on the strategy's optimizer when an experience
        starts (and rebuilt if the optimizer was re-created).
    scheduler_kwargs : dict, default=None
        Arguments of the scheduler (e.g. ``{"step_size": 2, "gamma": 0.5}``).
    reset_scheduler : bool, default=True
        Start a fresh scheduler at every experience.
    reset_lr : bool, default=True
        Restore the initial learning rates at the end of every experience.
    metric : {None, "train_loss", "val_loss"}, default=None
        Value passed to ``step`` (needed by ``ReduceLROnPlateau``). ``"val_loss"``
        reads the stream ``"valid"`` of ``eval_streams``.
    step_granularity : {"epoch", "iteration"}, default="epoch"
    first_epoch_only : bool, default=False
        Step only during the first epoch of each experience.
    first_exp_only : bool, default=False
        Step only during the first experience.

    Attributes
    ----------
    scheduler_ : torch scheduler
    base_lrs_ : list of float
        The learning rates restored by ``reset_lr``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.plugins import LRSchedulerPlugin
    >>> from skcl.strategies import Naive
    >>> X, y = np.random.RandomState(0).rand(64, 3), np.arange(64) % 2
    >>> plugin = LRSchedulerPlugin("StepLR", {"step_size": 1, "gamma": 0.5})
    >>> net = Naive(lr=0.1, max_epochs=3, plugins=[plugin]).partial_fit(X, y)
    >>> net.optimizer_.param_groups[0]["lr"]  # reset after the experience
    0.1
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "scheduler": ["string", type],
        "scheduler_kwargs": [None, dict],
        "reset_scheduler": ["boolean"],
        "reset_lr": ["boolean"],
        "metric": [None, Options("train_loss", "val_loss")],
        "step_granularity": [Options("epoch", "iteration")],
        "first_epoch_only": ["boolean"],
        "first_exp_only": ["boolean"],
    }

    def __init__(self, scheduler="StepLR", scheduler_kwargs: dict | None = None,
                 reset_scheduler: bool = True, reset_lr: bool = True, metric: str | None = None,
                 step_granularity: str = "epoch", first_epoch_only: bool = False,
                 first_exp_only: bool = False):
        self.scheduler = scheduler
        self.scheduler_kwargs = scheduler_kwargs
        self.reset_scheduler = reset_scheduler
        self.reset_lr = reset_lr
        self.metric = metric
        self.step_granularity = step_granularity
        self.first_epoch_only = first_epoch_only
        self.first_exp_only = first_exp_only

    def validate_parameters(self, display: Callable[[str], str] | None = None,
                            owner: str | None = None) -> None:
        """The declared constraints, then: a scheduler name is one of torch's."""
        super().validate_parameters(display, owner)
        if isinstance(self.scheduler, str) and not isinstance(
                getattr(torch.optim.lr_scheduler, self.scheduler, None), type):
            raise self._relation_error(
                "parameter '{0}' must name a class of torch.optim.lr_scheduler; "
                "got {self.scheduler!r}.", ("scheduler",), display, owner)

    def _scheduler_class(self):
        if isinstance(self.scheduler, str):
            return getattr(torch.optim.lr_scheduler, self.scheduler)
        return self.scheduler

    def before_training_exp(self, strategy, experience) -> None:
        if self.metric == "val_loss":
            get_eval_stream(strategy, "valid")
        optimizer = strategy.optimizer_
        stale = getattr(self, "scheduler_", None) is None or self.optimizer_ is not optimizer
        if not hasattr(self, "base_lrs_") or self.optimizer_ is not optimizer:
            self.base_lrs_ = [g["lr"] for g in optimizer.param_groups]
        if stale or self.reset_scheduler:
            self.scheduler_ = self._scheduler_class()(optimizer, **(self.scheduler_kwargs or {}))
            self.optimizer_ = optimizer
        self.epoch_ = 0
        self.loss_sum_, self.n_batches_ = 0.0, 0

    def _active(self, strategy) -> bool:
        if self.first_exp_only and strategy.n_experiences_ > 0:
            return False
        return not (self.first_epoch_only and self.epoch_ > 0)

    def _step(self, strategy) -> None:
        if self.metric is None:
            self.scheduler_.step()
        elif self.metric == "train_loss":
            self.scheduler_.step(float(strategy.history[-1, "train_loss"]))
        else:
            stream = get_eval_stream(strategy, "valid")
            self.scheduler_.step(stream_metric(strategy, stream, "loss"))

    def after_training_iteration(self, strategy, batch) -> None:
        if self.step_granularity == "iteration" and self._active(strategy):
            if self.metric is None:
                self.scheduler_.step()

    def after_training_epoch(self, strategy) -> None:
        if self.step_granularity == "epoch" and self._active(strategy):
            self._step(strategy)
        self.epoch_ += 1

    def after_training_exp(self, strategy, experience) -> None:
        if self.reset_lr:
            for group, lr in zip(strategy.optimizer_.param_groups, self.base_lrs_):
                group["lr"] = lr
