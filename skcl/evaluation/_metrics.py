"""Accuracy, loss, the accuracy-matrix metrics (forgetting, BWT, FWT) and the confusion matrix.

The matrix metrics read the plugin's accuracy matrix and call the pure
functions of :mod:`skcl.evaluation._cl_metrics`, the single definition of
each formula (so a streaming value always equals what
:class:`~skcl.evaluation.AccuracyMatrix` reports for the same row).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix

from skcl.evaluation import _cl_metrics as cl
from skcl.evaluation._evaluate import pooled
from skcl.evaluation._metric_base import MetricValue, PluginMetric

__all__ = ["Accuracy", "Loss", "Forgetting", "BWT", "ForwardTransfer", "ConfusionMatrix"]


class _RunningMean:
    def __init__(self):
        self.total, self.n = 0.0, 0

    def add(self, value: float, n: int) -> None:
        self.total += value * n
        self.n += n

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else float("nan")


def _not_evaluable_info(results) -> dict:
    skipped = [r.index for r in results if not r.evaluable]
    if not skipped:
        return {}
    return {"note": f"experiences {skipped} not evaluable (pooled over the others)",
            "not_evaluable": skipped}


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

    def before_training_epoch(self, strategy, evaluation):
        self._epoch_mean = _RunningMean()
        return []

    def after_training_iteration(self, strategy, evaluation, y_pred, y_true):
        if not (self.minibatch or self.epoch):
            return []
        value, n = self._batch_value(strategy, y_pred, y_true)
        if not hasattr(self, "_epoch_mean"):
            self._epoch_mean = _RunningMean()
        self._epoch_mean.add(value, n)
        if self.minibatch:
            return [evaluation.value(f"{self._name}_MB", value, "train", "minibatch")]
        return []

    def after_training_epoch(self, strategy, evaluation):
        if self.epoch and hasattr(self, "_epoch_mean"):
            return [evaluation.value(f"{self._name}_Epoch", self._epoch_mean.mean, "train",
                                     "epoch")]
        return []

    def after_eval_exp(self, strategy, evaluation, stream, result):
        if self.experience:
            info = {} if result.evaluable else {"note": result.note}
            return [evaluation.value(f"{self._name}_Exp", getattr(result, self._attr), "eval",
                                     "experience", stream=stream, eval_exp=result.index,
                                     info=info)]
        return []

    def after_eval_stream(self, strategy, evaluation, stream, results):
        if self.stream:
            return [evaluation.value(f"{self._name}_Stream", pooled(results, self._attr),
                                     "eval", "stream", stream=stream,
                                     info=_not_evaluable_info(results))]
        return []


def _logits(y_pred):
    return y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred


class Accuracy(_TrainEvalMetric):
    """Top-1 accuracy (``Top1_Acc_MB/_Epoch`` at training, ``_Exp/_Stream`` at eval).

    The stream value pools all samples of the stream (Avalanche's
    definition) over the experiences the model can answer; the mean over
    experiences is the accuracy matrix's ACC. An experience the model cannot
    answer (a task it has no column for) gives ``nan`` with ``info["note"]``.

    Examples
    --------
    >>> from skcl.evaluation import Accuracy
    >>> Accuracy(experience=True)
    Accuracy(experience=True)
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
    holding classes not seen yet (no output unit), and the stream value pools
    the experiences where it is defined (so it is not ``nan`` while future
    experiences remain).

    Examples
    --------
    >>> from skcl.evaluation import Loss
    >>> Loss(epoch=True)
    Loss(epoch=True)
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

    def after_eval_stream(self, strategy, evaluation, stream, results):
        if evaluation.periodic_:
            return []
        R = evaluation.accuracy_matrices_.get(stream)
        if R is None or R.n_trained == 0:
            return []
        return self._values(evaluation, stream, R)

    def _emit(self, evaluation, stream, metric: str, per_exp: dict[int, float],
              stream_value: float) -> list[MetricValue]:
        out = []
        if self.experience:
            out += [evaluation.value(f"Experience{metric}", v, "eval", "experience",
                                     stream=stream, eval_exp=j) for j, v in per_exp.items()]
        if self.stream and per_exp:
            out.append(evaluation.value(f"Stream{metric}", stream_value, "eval", "stream",
                                        stream=stream))
        return out

    def _values(self, evaluation, stream, R) -> list[MetricValue]:
        raise NotImplementedError


class Forgetting(_MatrixMetric):
    """Forgetting (Chaudhry et al. 2018): ``max_{l<k} R[l, j] - R[k, j]`` for ``j < k``.

    ``ExperienceForgetting`` per earlier experience and ``StreamForgetting``
    (their mean), from :func:`~skcl.evaluation.forgetting`. Avalanche
    subtracts from ``R[j, j]`` instead of the max; we follow the paper.

    Examples
    --------
    >>> from skcl.evaluation import Forgetting
    >>> Forgetting(stream=True)
    Forgetting(stream=True)
    """

    def _values(self, evaluation, stream, R):
        f = cl.forgetting(R.matrix)
        return self._emit(evaluation, stream, "Forgetting",
                          {j: float(v) for j, v in enumerate(f)}, cl.average_forgetting(R.matrix))


class BWT(_MatrixMetric):
    """Backward transfer (Lopez-Paz & Ranzato 2017): ``R[k, j] - R[j, j]`` for ``j < k``.

    ``ExperienceBWT`` per earlier experience and ``StreamBWT`` (their mean),
    from :func:`~skcl.evaluation.backward_transfer`.

    Examples
    --------
    >>> from skcl.evaluation import BWT
    >>> BWT(stream=True)
    BWT(stream=True)
    """

    def _values(self, evaluation, stream, R):
        b = cl.backward_transfer(R.matrix)
        return self._emit(evaluation, stream, "BWT", {j: float(v) for j, v in enumerate(b)},
                          cl.bwt(R.matrix))


class ForwardTransfer(_MatrixMetric):
    """Forward transfer (Lopez-Paz & Ranzato 2017): ``R[j-1, j] - b_j`` for ``1 <= j <= k``.

    ``b_j`` is the accuracy on experience ``j`` of the model as initialized,
    measured by the plugin at the start of the first experience (after the
    head is built, before any step). After experience ``k`` it emits
    ``ExperienceForwardTransfer`` for every trained ``1 <= j <= k`` and
    ``StreamForwardTransfer``, their mean: the paper's FWT on the first
    ``k + 1`` experiences (:func:`~skcl.evaluation.fwt`, the same value as
    ``AccuracyMatrix.fwt()``). Nothing is emitted after the first experience.

    Examples
    --------
    >>> from skcl.evaluation import ForwardTransfer
    >>> ForwardTransfer(stream=True).needs_baseline
    True
    """

    needs_baseline = True

    def _values(self, evaluation, stream, R):
        if R.baseline is None:
            return []
        f = cl.forward_transfer(R.matrix, R.baseline)
        return self._emit(evaluation, stream, "ForwardTransfer",
                          {j + 1: float(v) for j, v in enumerate(f)},
                          cl.fwt(R.matrix, R.baseline))


class ConfusionMatrix(PluginMetric):
    """Confusion matrix on the eval stream (``ConfusionMatrix_Stream``), or per experience.

    Rows are true labels, columns predictions, over the sorted union of the
    labels present and predicted; ``info["labels"]`` holds them. Experiences
    the model cannot answer are left out.

    Parameters
    ----------
    experience, stream : bool
    normalize : {None, "true", "pred", "all"}
        As in :func:`sklearn.metrics.confusion_matrix`.

    Examples
    --------
    >>> from skcl.evaluation import ConfusionMatrix
    >>> ConfusionMatrix(normalize="true")
    ConfusionMatrix(normalize='true')
    """

    def __init__(self, experience: bool = False, stream: bool = True, normalize=None):
        self.experience = experience
        self.stream = stream
        self.normalize = normalize

    def _cm(self, y_true, y_pred):
        labels = np.union1d(np.unique(y_true), np.unique(y_pred))
        cm = confusion_matrix(y_true, y_pred, labels=labels, normalize=self.normalize)
        return cm, labels.tolist()

    def after_eval_exp(self, strategy, evaluation, stream, result):
        if not self.experience or not result.evaluable:
            return []
        cm, labels = self._cm(result.y_true, result.y_pred)
        return [evaluation.value("ConfusionMatrix_Exp", cm, "eval", "experience", stream=stream,
                                 eval_exp=result.index, info={"labels": labels})]

    def after_eval_stream(self, strategy, evaluation, stream, results):
        results = [r for r in results if r.evaluable]
        if not self.stream or not results:
            return []
        cm, labels = self._cm(np.concatenate([r.y_true for r in results]),
                              np.concatenate([r.y_pred for r in results]))
        return [evaluation.value("ConfusionMatrix_Stream", cm, "eval", "stream", stream=stream,
                                 info={"labels": labels})]
