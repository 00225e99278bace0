"""Learning without Forgetting (Li & Hoiem, ECCV 2016 / TPAMI 2017)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._utils import coefficient_at, frozen_copy
from skcl.utils import Interval, SequenceOf

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
    old_units_ : ndarray of int64
        Output units known to the teacher (single head): the units trained
        up to the end of the previous experience (the strategy's
        ``trained_units_`` while the next one trains), whatever ``classes=``
        fixed up front, so not necessarily a prefix of the output units.
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
    >>> net.named_plugins_["lwf"].old_units_.tolist()  # all 10 digits, over 3 experiences
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha": [Interval("real", 0, None), SequenceOf(Interval("real", 0, None))],
        "temperature": [Interval("real", 0, None, closed="neither")],
    }

    def __init__(self, alpha: float | Sequence[float] = 1.0, temperature: float = 2.0):
        self.alpha = alpha
        self.temperature = temperature

    def before_training_exp(self, strategy, experience) -> None:
        coefficient_at(self.alpha, strategy.n_experiences_, "alpha")  # long enough?
        if not hasattr(self, "teacher_"):
            self.teacher_ = None
        if not hasattr(self, "old_units_"):
            self.old_units_ = np.zeros(0, dtype=np.int64)

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
        if not len(self.old_units_):
            return None
        idx = torch.as_tensor(self.old_units_, dtype=torch.long, device=y_pred.device)
        with torch.no_grad():
            z_old = self.teacher_(x)[:, idx]
        return alpha * distillation_loss(y_pred[:, idx], z_old, T)

    def after_training_exp(self, strategy, experience) -> None:
        self.teacher_ = frozen_copy(strategy.module_)
        # units trained so far: earlier experiences' and this one's (data, not classes=)
        units = strategy.encode_labels(np.asarray(experience.y).reshape(-1))
        self.old_units_ = np.union1d(strategy.trained_units_, units).astype(np.int64)
        self.old_units_by_task_ = {int(t): np.asarray(u).copy()
                                   for t, u in strategy.units_by_task_.items()}
