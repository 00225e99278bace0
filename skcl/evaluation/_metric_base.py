"""`MetricValue` and `PluginMetric`: what a metric emits and the hooks it may override."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from skcl.evaluation._evaluate import ExperienceResult
    from skcl.evaluation._plugin import EvaluationPlugin
    from skcl.strategies import BaseStrategy

__all__ = ["MetricValue", "PluginMetric"]


@dataclass(frozen=True)
class MetricValue:
    """One emitted metric value, with where and when it was measured.

    ``name`` follows Avalanche: ``{metric}/{phase}_phase/{stream}_stream[/Exp{eee}]``.
    ``step`` is the number of training minibatches seen so far (the x axis of
    loggers). ``info`` carries extras: the labels of a confusion matrix, or a
    ``"note"`` when the value is ``nan`` because an experience was not
    evaluable.

    Examples
    --------
    >>> from skcl.evaluation import MetricValue
    >>> v = MetricValue("Top1_Acc_Exp", 0.5, "eval", "experience", 1, 2, 40, "test", 0)
    >>> v.name, v.is_scalar
    ('Top1_Acc_Exp/eval_phase/test_stream/Exp000', True)
    """

    metric: str
    value: Any
    phase: str  # "train" or "eval"
    granularity: str  # "minibatch", "epoch", "experience" or "stream"
    training_exp: int
    epoch: int
    step: int
    stream: str = "train"
    eval_exp: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        base = f"{self.metric}/{self.phase}_phase/{self.stream}_stream"
        return base if self.eval_exp is None else f"{base}/Exp{self.eval_exp:03d}"

    @property
    def is_scalar(self) -> bool:
        return np.ndim(self.value) == 0 and self.value is not None


class PluginMetric(BaseEstimator):
    """Base class of the metrics: parameters only; each hook returns MetricValues.

    The hooks take the same leading argument as a plugin's, the strategy,
    then the live :class:`~skcl.evaluation.EvaluationPlugin` (``evaluation``),
    which knows the current experience, epoch and step and builds values with
    ``evaluation.value(...)``. Every hook is a concrete no-op returning ``[]``;
    a metric overrides the ones it needs:

    ``before_training_exp(strategy, evaluation)``,
    ``before_training_epoch(strategy, evaluation)``,
    ``after_training_iteration(strategy, evaluation, y_pred, y_true)`` (the
    outputs and encoded targets of the minibatch just trained, from the
    plugin's ``after_forward`` hook),
    ``after_training_epoch(strategy, evaluation)``,
    ``after_training_exp(strategy, evaluation)``,
    ``after_eval_exp(strategy, evaluation, stream, result)``,
    ``after_eval_stream(strategy, evaluation, stream, results)``.

    Examples
    --------
    >>> from skcl.evaluation import PluginMetric
    >>> class Steps(PluginMetric):
    ...     def after_training_exp(self, strategy, evaluation):
    ...         return [evaluation.value("Steps", evaluation.step_, "train", "experience")]
    >>> Steps().before_training_epoch(None, None)
    []
    """

    #: Whether the plugin must measure the randomly initialized model (FWT).
    needs_baseline = False

    def before_training_exp(self, strategy: BaseStrategy, evaluation: EvaluationPlugin
                            ) -> list[MetricValue]:
        return []

    def before_training_epoch(self, strategy: BaseStrategy, evaluation: EvaluationPlugin
                              ) -> list[MetricValue]:
        return []

    def after_training_iteration(self, strategy: BaseStrategy, evaluation: EvaluationPlugin,
                                 y_pred: torch.Tensor, y_true: torch.Tensor
                                 ) -> list[MetricValue]:
        return []

    def after_training_epoch(self, strategy: BaseStrategy, evaluation: EvaluationPlugin
                             ) -> list[MetricValue]:
        return []

    def after_training_exp(self, strategy: BaseStrategy, evaluation: EvaluationPlugin
                           ) -> list[MetricValue]:
        return []

    def after_eval_exp(self, strategy: BaseStrategy, evaluation: EvaluationPlugin, stream: str,
                       result: ExperienceResult) -> list[MetricValue]:
        return []

    def after_eval_stream(self, strategy: BaseStrategy, evaluation: EvaluationPlugin,
                          stream: str, results: Sequence[ExperienceResult]
                          ) -> list[MetricValue]:
        return []
