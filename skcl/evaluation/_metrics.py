"""Metrics an `EvaluationPlugin` computes, and their factories (Avalanche's names)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import confusion_matrix

if TYPE_CHECKING:  # pragma: no cover
    from skcl.evaluation._evaluate import ExperienceResult
    from skcl.evaluation._plugin import EvaluationPlugin

__all__ = [
    "MetricValue",
    "PluginMetric",
    "Accuracy",
    "Loss",
    "Forgetting",
    "BWT",
    "ForwardTransfer",
    "ConfusionMatrix",
    "Timing",
    "RAMUsage",
    "StoredExemplars",
    "accuracy_metrics",
    "loss_metrics",
    "forgetting_metrics",
    "bwt_metrics",
    "forward_transfer_metrics",
    "confusion_matrix_metrics",
    "timing_metrics",
    "ram_usage_metrics",
    "exemplars_metrics",
    "rss_mb",
]


@dataclass(frozen=True)
class MetricValue:
    """One emitted metric value, with where and when it was measured.

    ``name`` follows Avalanche: ``{metric}/{phase}_phase/{stream}_stream[/Exp{eee}]``.
    ``step`` is the number of training minibatches seen so far (the x axis of
    loggers).
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

    Hooks receive the live :class:`EvaluationPlugin` (``ev``), which knows
    the current experience, epoch and step and builds values with
    ``ev.value(...)``. All hooks are no-ops by default.
    """

    def before_training_exp(self, ev: EvaluationPlugin, strategy) -> list[MetricValue]:
        return []

    def before_training_epoch(self, ev: EvaluationPlugin, strategy) -> list[MetricValue]:
        return []

    def after_training_iteration(self, ev: EvaluationPlugin, strategy, y_pred, y_true
                                 ) -> list[MetricValue]:
        return []

    def after_training_epoch(self, ev: EvaluationPlugin, strategy) -> list[MetricValue]:
        return []

    def after_training_exp(self, ev: EvaluationPlugin, strategy) -> list[MetricValue]:
        return []

    def after_eval_exp(self, ev: EvaluationPlugin, strategy, stream: str,
                       result: ExperienceResult) -> list[MetricValue]:
        return []

    def after_eval_stream(self, ev: EvaluationPlugin, strategy, stream: str,
                          results: list[ExperienceResult]) -> list[MetricValue]:
        return []

    #: Whether the plugin must measure the randomly initialized model (FWT).
    needs_baseline = False


class _RunningMean:
    def __init__(self):
        self.total, self.n = 0.0, 0

    def add(self, value: float, n: int) -> None:
        self.total += value * n
        self.n += n

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else float("nan")


def _pooled(results, attr: str) -> float:
    n = np.array([r.n_samples for r in results], dtype=float)
    v = np.array([getattr(r, attr) for r in results], dtype=float)
    return float(np.sum(v * n) / n.sum()) if n.sum() else float("nan")


class _TrainEvalMetric(PluginMetric):
    """Shared logic of accuracy and loss: minibatch/epoch at training, exp/stream at eval."""

    _name = ""
    _attr = ""

    def __init__(self, minibatch: bool = False, epoch: bool = False, experience: bool = False,
                 stream: bool = False):
        self.minibatch = minibatch
        self.epoch = epoch
        self.experience = experience
        self.stream = stream

    def _batch_value(self, strategy, y_pred, y_true) -> tuple[float, int]:
        raise NotImplementedError

    def before_training_epoch(self, ev, strategy):
        self._epoch_mean = _RunningMean()
        return []

    def after_training_iteration(self, ev, strategy, y_pred, y_true):
        if not (self.minibatch or self.epoch):
            return []
        value, n = self._batch_value(strategy, y_pred, y_true)
        if not hasattr(self, "_epoch_mean"):
            self._epoch_mean = _RunningMean()
        self._epoch_mean.add(value, n)
        if self.minibatch:
            return [ev.value(f"{self._name}_MB", value, "train", "minibatch")]
        return []

    def after_training_epoch(self, ev, strategy):
        if self.epoch and hasattr(self, "_epoch_mean"):
            return [ev.value(f"{self._name}_Epoch", self._epoch_mean.mean, "train", "epoch")]
        return []

    def after_eval_exp(self, ev, strategy, stream, result):
        if self.experience:
            return [ev.value(f"{self._name}_Exp", getattr(result, self._attr), "eval",
                             "experience", stream=stream, eval_exp=result.index)]
        return []

    def after_eval_stream(self, ev, strategy, stream, results):
        if self.stream:
            return [ev.value(f"{self._name}_Stream", _pooled(results, self._attr), "eval",
                             "stream", stream=stream)]
        return []


def _logits(y_pred):
    return y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred


class Accuracy(_TrainEvalMetric):
    """Top-1 accuracy (``Top1_Acc_MB/_Epoch`` at training, ``_Exp/_Stream`` at eval).

    The stream value pools all samples of the stream (Avalanche's
    definition); the mean over experiences is the accuracy matrix's ACC.
    """

    _name = "Top1_Acc"
    _attr = "accuracy"

    def _batch_value(self, strategy, y_pred, y_true):
        logits = _logits(y_pred)[:, : len(strategy.class_order_)]
        correct = (logits.argmax(dim=1) == y_true).float()
        return float(correct.mean()), len(y_true)


class Loss(_TrainEvalMetric):
    """The criterion's loss (``Loss_MB/_Epoch/_Exp/_Stream``).

    At training time it is the criterion on the minibatch outputs, without
    the plugins' penalty terms. At eval time it is ``nan`` on experiences
    holding classes not seen yet.
    """

    _name = "Loss"
    _attr = "loss"

    def _batch_value(self, strategy, y_pred, y_true):
        import torch

        with torch.no_grad():
            loss = strategy.criterion_(_logits(y_pred)[:, : len(strategy.class_order_)], y_true)
        return float(loss), len(y_true)


class _MatrixMetric(PluginMetric):
    """Metrics read off the accuracy matrix after each experience's evaluation."""

    def __init__(self, experience: bool = False, stream: bool = False):
        self.experience = experience
        self.stream = stream

    def after_eval_stream(self, ev, strategy, stream, results):
        if ev.periodic_:
            return []
        R = ev.accuracy_matrices_.get(stream)
        if R is None or R.n_trained == 0:
            return []
        return self._values(ev, stream, R)

    def _values(self, ev, stream, R) -> list[MetricValue]:
        raise NotImplementedError


class Forgetting(_MatrixMetric):
    """Forgetting (Chaudhry et al. 2018): ``max_{l<k} R[l, j] - R[k, j]`` for ``j < k``.

    ``ExperienceForgetting`` per earlier experience and ``StreamForgetting``
    (their mean). Avalanche subtracts from ``R[j, j]`` instead of the max;
    we follow the paper.
    """

    def _values(self, ev, stream, R):
        k = R.n_trained - 1
        f = R.forgetting(k)
        out = []
        if self.experience:
            out += [ev.value("ExperienceForgetting", float(v), "eval", "experience",
                             stream=stream, eval_exp=j) for j, v in enumerate(f)]
        if self.stream and len(f):
            out.append(ev.value("StreamForgetting", float(np.mean(f)), "eval", "stream",
                                stream=stream))
        return out


class BWT(_MatrixMetric):
    """Backward transfer (Lopez-Paz & Ranzato 2017): ``R[k, j] - R[j, j]`` for ``j < k``.

    ``ExperienceBWT`` per earlier experience and ``StreamBWT`` (their mean).
    """

    def _values(self, ev, stream, R):
        k = R.n_trained - 1
        n = min(k, R.n_test)
        vals = [float(R.matrix[k, j] - R.matrix[j, j]) for j in range(n)]
        out = []
        if self.experience:
            out += [ev.value("ExperienceBWT", v, "eval", "experience", stream=stream,
                             eval_exp=j) for j, v in enumerate(vals)]
        if self.stream and vals:
            out.append(ev.value("StreamBWT", float(np.mean(vals)), "eval", "stream",
                                stream=stream))
        return out


class ForwardTransfer(_MatrixMetric):
    """Forward transfer (Lopez-Paz & Ranzato 2017): ``R[j-1, j] - b_j``.

    ``b_j`` is the accuracy on experience ``j`` of the model as initialized,
    measured by the plugin at the start of the first experience (after the
    head is built, before any step). After experience ``k`` it emits
    ``ExperienceForwardTransfer`` for ``j = k + 1`` and ``StreamForwardTransfer``
    (mean over ``1 <= j <= k + 1``).
    """

    needs_baseline = True

    def _values(self, ev, stream, R):
        b = ev.baselines_.get(stream)
        if b is None:
            return []
        k = R.n_trained - 1
        js = [j for j in range(1, min(k + 1, R.n_test - 1) + 1)]
        vals = {j: float(R.matrix[j - 1, j] - b[j]) for j in js}
        out = []
        if self.experience and (k + 1) in vals:
            out.append(ev.value("ExperienceForwardTransfer", vals[k + 1], "eval", "experience",
                                stream=stream, eval_exp=k + 1))
        if self.stream and vals:
            out.append(ev.value("StreamForwardTransfer", float(np.mean(list(vals.values()))),
                                "eval", "stream", stream=stream))
        return out


class ConfusionMatrix(PluginMetric):
    """Confusion matrix on the eval stream (``ConfusionMatrix_Stream``), or per experience.

    Rows are true labels, columns predictions, over the sorted union of the
    labels present and predicted; ``info["labels"]`` holds them.

    Parameters
    ----------
    experience, stream : bool
    normalize : {None, "true", "pred", "all"}
        As in :func:`sklearn.metrics.confusion_matrix`.
    """

    def __init__(self, experience: bool = False, stream: bool = True, normalize=None):
        self.experience = experience
        self.stream = stream
        self.normalize = normalize

    def _cm(self, y_true, y_pred):
        labels = np.union1d(np.unique(y_true), np.unique(y_pred))
        cm = confusion_matrix(y_true, y_pred, labels=labels, normalize=self.normalize)
        return cm, labels.tolist()

    def after_eval_exp(self, ev, strategy, stream, result):
        if not self.experience:
            return []
        cm, labels = self._cm(result.y_true, result.y_pred)
        return [ev.value("ConfusionMatrix_Exp", cm, "eval", "experience", stream=stream,
                         eval_exp=result.index, info={"labels": labels})]

    def after_eval_stream(self, ev, strategy, stream, results):
        if not self.stream or not results:
            return []
        cm, labels = self._cm(np.concatenate([r.y_true for r in results]),
                              np.concatenate([r.y_pred for r in results]))
        return [ev.value("ConfusionMatrix_Stream", cm, "eval", "stream", stream=stream,
                         info={"labels": labels})]


class Timing(PluginMetric):
    """Training wall time in seconds (``Time_Epoch``, ``Time_Exp``), evaluation excluded."""

    def __init__(self, epoch: bool = False, experience: bool = True):
        self.epoch = epoch
        self.experience = experience

    def before_training_exp(self, ev, strategy):
        self._exp_start = (time.perf_counter(), ev.eval_seconds_)
        return []

    def before_training_epoch(self, ev, strategy):
        self._epoch_start = (time.perf_counter(), ev.eval_seconds_)
        return []

    @staticmethod
    def _elapsed(ev, start) -> float:
        t0, e0 = start
        return time.perf_counter() - t0 - (ev.eval_seconds_ - e0)

    def after_training_epoch(self, ev, strategy):
        if self.epoch and hasattr(self, "_epoch_start"):
            return [ev.value("Time_Epoch", self._elapsed(ev, self._epoch_start), "train",
                             "epoch")]
        return []

    def after_training_exp(self, ev, strategy):
        if self.experience and hasattr(self, "_exp_start"):
            return [ev.value("Time_Exp", self._elapsed(ev, self._exp_start), "train",
                             "experience")]
        return []


def rss_mb() -> float:
    """The process's resident set size in MB (``/proc/self/status``; else peak via ``resource``).

    Examples
    --------
    >>> from skcl.evaluation import rss_mb
    >>> rss_mb() > 1
    True
    """
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    import resource  # pragma: no cover
    import sys  # pragma: no cover

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # pragma: no cover
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # pragma: no cover
    return peak / scale  # pragma: no cover


class RAMUsage(PluginMetric):
    """Process memory: resident set size in MB (``RSS_MB_Epoch``, ``RSS_MB_Exp``)."""

    def __init__(self, epoch: bool = False, experience: bool = True):
        self.epoch = epoch
        self.experience = experience

    def after_training_epoch(self, ev, strategy):
        return [ev.value("RSS_MB_Epoch", rss_mb(), "train", "epoch")] if self.epoch else []

    def after_training_exp(self, ev, strategy):
        return [ev.value("RSS_MB_Exp", rss_mb(), "train", "experience")] if self.experience \
            else []


#: Attribute names under which a live plugin may keep its exemplar memory.
BUFFER_ATTRIBUTES = ("storage_policy_", "buffer_", "memory_", "data_")


def count_exemplars(strategy) -> int | None:
    """Samples stored by the strategy's plugins, or None when no plugin has a buffer.

    A plugin exposes a buffer through ``n_stored_exemplars_`` (an int) or an
    attribute in :data:`BUFFER_ATTRIBUTES` whose value has a length.
    """
    total, found = 0, False
    for _, plugin in getattr(strategy, "plugins_", []):
        n = getattr(plugin, "n_stored_exemplars_", None)
        if n is None:
            for attr in BUFFER_ATTRIBUTES:
                buf = getattr(plugin, attr, None)
                if buf is not None:
                    try:
                        n = len(buf)
                    except TypeError:
                        continue
                    break
        if n is not None:
            total, found = total + int(n), True
    return total if found else None


class StoredExemplars(PluginMetric):
    """Number of exemplars held by the strategy's buffers (``Stored_Exemplars_Exp``).

    Emitted after each experience when some plugin exposes a buffer (see
    :func:`count_exemplars`); nothing otherwise.
    """

    def after_training_exp(self, ev, strategy):
        n = count_exemplars(strategy)
        return [] if n is None else [ev.value("Stored_Exemplars_Exp", n, "train", "experience")]


# ---------------------------------------------------------------------- #
# factories (Avalanche's names; every flag defaults to False)
# ---------------------------------------------------------------------- #
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
