"""Evaluation results in the strategy's skorch ``history``, for skorch's own logging callbacks.

After each experience, :class:`~skcl.evaluation.EvaluationPlugin` writes flat
scalar keys into ``strategy.history[-1]``, the row of the experience's last
epoch (the row also holds ``"experience"``, the 0-based experience index). For
each eval stream ``s`` (``"test"`` when a plain list was given) and test
experience ``j``:

=========================  ==============================================================
key                        value
=========================  ==============================================================
``{s}_acc_exp{j}``          accuracy on experience ``j`` (``R[k, j]``)
``{s}_loss_exp{j}``         the criterion's loss on ``j`` (absent while ``j`` holds classes
                            not seen yet: the loss is undefined there)
``{s}_acc_stream``          accuracy pooled over the stream's samples (Avalanche's stream
                            accuracy)
``{s}_loss_stream``         loss pooled over the experiences where it is defined
``{s}_avg_acc``             ACC: mean of ``R[k, j]`` over the experiences trained so far
``{s}_forgetting``          average forgetting (Chaudhry et al. 2018), from ``k >= 1``
``{s}_bwt``                 backward transfer, from ``k >= 1``
``{s}_fwt``                 forward transfer, from ``k >= 1`` when a FWT metric was asked
=========================  ==============================================================

An experience the model cannot answer (a task never trained) has ``nan``
accuracy (and no loss key); stream values pool the other experiences. With
``eval_every`` the periodic evaluations record the per-experience and stream
keys in the row of their epoch too (before skorch's callbacks run, so they log
them as usual).

skorch's logging callbacks read ``history[-1]`` at the end of an epoch, which
comes before the end of the experience (plugins may still change the model in
``after_training_exp``). So once the row is complete the plugin calls
``on_epoch_end`` once more on the strategy's skorch logging callbacks
(``TensorBoard``, ``WandbLogger``, ``MlflowLogger``, ``NeptuneLogger``,
``SacredLogger``), with the row's other keys ignored for that call: they log
the evaluation at the step of the experience's last epoch and nothing twice.
``history[:, "test_avg_acc"]`` gives the curve (skorch skips rows without the
key). skorch calls ``on_train_end`` after every experience (each ``partial_fit``
is a training run to skorch): a TensorBoard writer closed there is reopened and
closed again around this call; keep Neptune and MLflow runs open across
experiences (``close_after_train=False``, ``terminate_after_train=False``), as
any multi-experience run needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from skcl.evaluation import _cl_metrics as cl
from skcl.evaluation._evaluate import pooled

if TYPE_CHECKING:  # pragma: no cover
    from skcl.evaluation._evaluate import ExperienceResult
    from skcl.evaluation._matrix import AccuracyMatrix

__all__ = ["history_record", "record_history", "publish_to_skorch_loggers"]


def history_record(stream: str, results: Sequence[ExperienceResult],
                   R: AccuracyMatrix | None = None, *, fwt: bool = False) -> dict[str, float]:
    """The flat keys recorded for one stream (see the module docstring).

    ``R`` (the accuracy matrix up to the current experience) adds the matrix
    metrics; without it only the per-experience and stream values are given.

    Examples
    --------
    >>> from skcl.evaluation import AccuracyMatrix
    >>> from skcl.evaluation._history import history_record
    >>> sorted(history_record("test", [], AccuracyMatrix([[0.9, 0.1], [0.6, 0.8]])))
    ['test_acc_stream', 'test_avg_acc', 'test_bwt', 'test_forgetting', 'test_loss_stream']
    """
    out: dict[str, float] = {}
    for r in results:
        out[f"{stream}_acc_exp{r.index}"] = float(r.accuracy)
        if np.isfinite(r.loss):  # undefined on classes not seen yet: left out, not nan
            out[f"{stream}_loss_exp{r.index}"] = float(r.loss)
    out[f"{stream}_acc_stream"] = pooled(results, "accuracy")
    out[f"{stream}_loss_stream"] = pooled(results, "loss")
    if R is not None and R.n_trained:
        out[f"{stream}_avg_acc"] = cl.average_accuracy(R.matrix)
        if R.n_trained > 1:
            out[f"{stream}_forgetting"] = cl.average_forgetting(R.matrix)
            out[f"{stream}_bwt"] = cl.bwt(R.matrix)
            if fwt and R.baseline is not None:
                out[f"{stream}_fwt"] = cl.fwt(R.matrix, R.baseline)
    return out


def record_history(strategy, experience_index: int, record: dict[str, float]) -> bool:
    """Write ``record`` into ``strategy.history[-1]`` if that row belongs to the experience.

    Returns whether it was written (a strategy that trained no epoch, such as
    one that only stores data, has no row for the experience).
    """
    history = getattr(strategy, "history", None)
    if not record or not history or history[-1].get("experience") != experience_index:
        return False
    for key, value in record.items():
        history.record(key, value)
    return True


def _skorch_loggers() -> tuple[type, ...]:
    from skorch.callbacks import (
        MlflowLogger,
        NeptuneLogger,
        SacredLogger,
        TensorBoard,
        WandbLogger,
    )

    return (TensorBoard, WandbLogger, MlflowLogger, NeptuneLogger, SacredLogger)


def publish_to_skorch_loggers(strategy, new_keys: Sequence[str]) -> int:
    """Let the strategy's skorch logging callbacks log ``new_keys`` of ``history[-1]``.

    Each callback's ``on_epoch_end`` runs once with every other key of the
    row added to its ``keys_ignored_`` (restored afterwards), so the values
    already logged at this epoch are not logged twice. Returns the number of
    callbacks notified.
    """
    callbacks = getattr(strategy, "callbacks_", None) or []
    if not new_keys or not callbacks:
        return 0
    classes = _skorch_loggers()
    row = strategy.history[-1]
    others = set(row) - set(new_keys) - {"epoch"}
    n = 0
    for _, cb in callbacks:
        if not isinstance(cb, classes) or not hasattr(cb, "keys_ignored_"):
            continue
        saved = cb.keys_ignored_
        cb.keys_ignored_ = set(saved) | others
        try:
            cb.on_epoch_end(strategy, dataset_train=None, dataset_valid=None)
        finally:
            cb.keys_ignored_ = saved
        if getattr(cb, "close_after_train", False) and hasattr(getattr(cb, "writer", None),
                                                                "close"):
            # TensorBoard closed its writer at the end of training (skorch's on_train_end);
            # add_scalar reopened it: close it again so the values reach the disk.
            cb.writer.close()
        n += 1
    return n
