"""Learning without Forgetting (Li & Hoiem, ECCV 2016 / TPAMI 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._utils import coefficient_at, frozen_copy
from skcl.utils import check_number

__all__ = ["LwFPlugin", "distillation_loss"]


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """``T^2 * KL(softmax(teacher/T) || softmax(student/T))``, averaged over the batch.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[1.0, 2.0]])
    >>> float(distillation_loss(z, z, 2.0))
    0.0
    """
    log_p_student = F.log_softmax(student_logits / temperature, dim=1)
    p_teacher = F.softmax(teacher_logits / temperature, dim=1)
    kl = F.kl_div(log_p_student, p_teacher, reduction="batchmean")
    return kl * temperature ** 2


class LwFPlugin(StrategyPlugin):
    """Learning without Forgetting: distil the previous model's outputs on new data.

    After each experience a frozen copy of the model (in eval mode) becomes
    the teacher. While training later experiences the loss gets
    ``alpha * T^2 * KL(softmax(z_old / T) || softmax(z_new / T))`` on the outputs
    of the classes seen before the current experience:

    * single head (class- or domain-incremental): the units of the old classes;
    * multi-head model (``module__multi_head=True``): each old task's head,
      restricted to that task's units, one term per old task (summed).

    Departures from Avalanche (quirks in the reference): the teacher is put in
    eval mode (dropout and batch-norm statistics frozen), and the KL term is
    scaled by ``T^2`` (Hinton et al., 2015), which keeps the gradient scale
    independent of the temperature. LwF's own loss is the soft-target
    cross-entropy, equal to this KL up to a constant.

    Parameters
    ----------
    alpha : float or sequence of float, default=1.0
        Weight of the distillation term; a sequence gives one value per
        experience (it must be long enough for the stream).
    temperature : float, default=2.0
        Softmax temperature ``T`` (> 0).

    Attributes
    ----------
    teacher_ : torch module or None
        The frozen model from the end of the previous experience.
    old_units_ : int
        Output units known to the teacher (single head).
    old_units_by_task_ : dict of int -> ndarray
        Units of each task known to the teacher (multi-head).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Naive
    >>> from skcl.plugins import LwFPlugin
    >>> train, test = split_digits(3)
    >>> net = Naive(plugins=[LwFPlugin(alpha=1.0)], lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.named_plugins_["lwf"].old_units_  # all 10 digits, over 3 experiences
    10
    """

    def __init__(self, alpha: float | Sequence[float] = 1.0, temperature: float = 2.0):
        self.alpha = alpha
        self.temperature = temperature

    def before_training_exp(self, strategy, experience) -> None:
        check_number(self.alpha, "alpha", allow_list=True)
        check_number(self.temperature, "temperature", low=0.0, low_open=True)
        coefficient_at(self.alpha, strategy.n_experiences_, "alpha")  # long enough?
        if not hasattr(self, "teacher_"):
            self.teacher_ = None

    def penalty(self, strategy, y_pred, y_true, inputs):
        if self.teacher_ is None:
            return None
        alpha = coefficient_at(self.alpha, strategy.n_experiences_, "alpha")
        if alpha == 0:
            return None
        x = inputs["x"]
        T = self.temperature
        if getattr(strategy.module_, "is_multi_task", False):
            total = None
            for task, units in self.old_units_by_task_.items():
                idx = torch.as_tensor(units, dtype=torch.long, device=x.device)
                tl = torch.full((len(x),), int(task), dtype=torch.long, device=x.device)
                with torch.no_grad():
                    z_old = self.teacher_(x, tl)[:, idx]
                z_new = strategy.module_(x, tl)[:, idx]
                term = distillation_loss(z_new, z_old, T)
                total = term if total is None else total + term
            return None if total is None else alpha * total
        with torch.no_grad():
            z_old = self.teacher_(x)[:, :self.old_units_]
        return alpha * distillation_loss(y_pred[:, :self.old_units_], z_old, T)

    def after_training_exp(self, strategy, experience) -> None:
        self.teacher_ = frozen_copy(strategy.module_)
        self.old_units_ = len(strategy.class_order_)
        self.old_units_by_task_ = {int(t): np.asarray(u).copy()
                                   for t, u in strategy.units_by_task_.items()}
