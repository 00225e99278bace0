"""Less-Forgetting Learning (Jung, Ju, Jung & Kim, arXiv 1607.00122, 2016)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._utils import coefficient_at, frozen_copy
from skcl.utils import Interval, SequenceOf

__all__ = ["LFLPlugin"]


def _last_linear(module: torch.nn.Module) -> torch.nn.Linear | None:
    last = None
    for m in module.modules():
        if isinstance(m, torch.nn.Linear):
            last = m
    return last


class LFLPlugin(StrategyPlugin):
    """Less-Forgetting Learning: keep the features close to the previous model's.

    After each experience a frozen copy of the model (eval mode) is kept and
    the model's last linear layer (the softmax classifier) is frozen, as in
    the paper, to keep the decision boundaries. While training later
    experiences the loss gets ``lambda_e * mean((f(x) - f_old(x))^2)`` where
    ``f`` is ``module.get_features`` (e.g. :class:`skcl.models.MLP`).

    The model being trained stays in train mode for its feature pass
    (Avalanche switches it to eval mode and never back: a quirk in the
    reference). A head that grows for new classes is a new layer and is
    trainable again; likewise, when ``classes=`` fixed the output units up
    front, the head is trainable again in an experience that brings units
    not trained before (``strategy.trained_units_``), so both ways of calling
    ``partial_fit`` train the same layers.

    Parameters
    ----------
    lambda_e : float or sequence of float, default=1.0
        Weight of the feature distance; a sequence gives one value per
        experience (it must be long enough for the stream).

    Attributes
    ----------
    teacher_ : torch module or None
        The frozen model from the end of the previous experience.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import Naive
    >>> from skcl.plugins import LFLPlugin
    >>> train, test = permuted_digits(2)
    >>> net = Naive(plugins=[LFLPlugin(lambda_e=0.5)], lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.named_plugins_["lfl"].teacher_.training
    False
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "lambda_e": [Interval("real", 0, None), SequenceOf(Interval("real", 0, None))],
    }

    def __init__(self, lambda_e: float | Sequence[float] = 1.0):
        self.lambda_e = lambda_e

    def before_training_exp(self, strategy, experience) -> None:
        coefficient_at(self.lambda_e, strategy.n_experiences_, "lambda_e")
        if not callable(getattr(strategy.module_, "get_features", None)):
            raise ValueError(
                "LFL needs a module with a get_features(x) method (e.g. skcl.models.MLP); "
                f"{type(strategy.module_).__name__} has none.")
        if not hasattr(self, "teacher_"):
            self.teacher_ = None
        if self.teacher_ is not None:
            units = strategy.encode_labels(np.asarray(experience.y).reshape(-1))
            if len(np.setdiff1d(units, strategy.trained_units_)):
                # new classes: as with a head that grew (a new, trainable layer)
                last = _last_linear(strategy.module_)
                if last is not None:
                    for p in last.parameters():
                        p.requires_grad_(True)

    def penalty(self, strategy, y_pred, y_true, inputs):
        if self.teacher_ is None:
            return None
        lam = coefficient_at(self.lambda_e, strategy.n_experiences_, "lambda_e")
        if lam == 0:
            return None
        x = inputs["x"]
        with torch.no_grad():
            old = self.teacher_.get_features(x)
        new = strategy.module_.get_features(x)
        return lam * F.mse_loss(new, old)

    def after_training_exp(self, strategy, experience) -> None:
        self.teacher_ = frozen_copy(strategy.module_)
        last = _last_linear(strategy.module_)
        if last is not None:
            for p in last.parameters():
                p.requires_grad_(False)
