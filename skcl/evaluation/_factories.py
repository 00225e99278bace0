"""Metric factories with Avalanche's names (every granularity flag defaults to False)."""

from __future__ import annotations

from skcl.evaluation._metric_base import PluginMetric
from skcl.evaluation._metrics import (
    BWT,
    Accuracy,
    ConfusionMatrix,
    Forgetting,
    ForwardTransfer,
    Loss,
)
from skcl.evaluation._resource_metrics import RAMUsage, StoredExemplars, Timing

__all__ = [
    "accuracy_metrics",
    "loss_metrics",
    "forgetting_metrics",
    "bwt_metrics",
    "forward_transfer_metrics",
    "confusion_matrix_metrics",
    "timing_metrics",
    "ram_usage_metrics",
    "exemplars_metrics",
]


def accuracy_metrics(*, minibatch: bool = False, epoch: bool = False, experience: bool = False,
                     stream: bool = False) -> list[PluginMetric]:
    """Accuracy at the chosen granularities.

    Examples
    --------
    >>> from skcl.evaluation import accuracy_metrics
    >>> accuracy_metrics(epoch=True, experience=True)
    [Accuracy(epoch=True, experience=True)]
    """
    return [Accuracy(minibatch=minibatch, epoch=epoch, experience=experience, stream=stream)]


def loss_metrics(*, minibatch: bool = False, epoch: bool = False, experience: bool = False,
                 stream: bool = False) -> list[PluginMetric]:
    """Loss at the chosen granularities."""
    return [Loss(minibatch=minibatch, epoch=epoch, experience=experience, stream=stream)]


def forgetting_metrics(*, experience: bool = False, stream: bool = False) -> list[PluginMetric]:
    """Forgetting (Chaudhry et al. 2018) per experience and averaged over the stream."""
    return [Forgetting(experience=experience, stream=stream)]


def bwt_metrics(*, experience: bool = False, stream: bool = False) -> list[PluginMetric]:
    """Backward transfer (Lopez-Paz & Ranzato 2017)."""
    return [BWT(experience=experience, stream=stream)]


def forward_transfer_metrics(*, experience: bool = False, stream: bool = False
                             ) -> list[PluginMetric]:
    """Forward transfer against the randomly initialized model (Lopez-Paz & Ranzato 2017)."""
    return [ForwardTransfer(experience=experience, stream=stream)]


def confusion_matrix_metrics(*, experience: bool = False, stream: bool = True,
                             normalize=None) -> list[PluginMetric]:
    """Confusion matrix on the eval stream (or per experience)."""
    return [ConfusionMatrix(experience=experience, stream=stream, normalize=normalize)]


def timing_metrics(*, epoch: bool = False, experience: bool = False) -> list[PluginMetric]:
    """Training time per epoch and per experience."""
    return [Timing(epoch=epoch, experience=experience)]


def ram_usage_metrics(*, epoch: bool = False, experience: bool = False) -> list[PluginMetric]:
    """Process RSS (MB) after each epoch and experience."""
    return [RAMUsage(epoch=epoch, experience=experience)]


def exemplars_metrics() -> list[PluginMetric]:
    """Number of stored exemplars after each experience, where a buffer exists."""
    return [StoredExemplars()]
