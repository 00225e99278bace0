"""`evaluate(strategy, test_stream)`: per-experience and stream metrics without a plugin."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from skcl.benchmarks._experience import Experience

__all__ = ["evaluate", "ExperienceResult", "evaluate_experience", "NotEvaluableWarning"]


class NotEvaluableWarning(UserWarning):
    """An experience was skipped in evaluation: the model cannot answer it (e.g. an unseen task)."""


@dataclass
class ExperienceResult:
    """What one evaluation of one test experience measured.

    ``note`` is set (and ``accuracy``/``loss`` are ``nan``, ``y_pred`` empty)
    when the model cannot answer the experience: see :attr:`evaluable`.
    """

    index: int
    accuracy: float
    loss: float
    n_samples: int
    y_true: np.ndarray
    y_pred: np.ndarray
    note: str | None = None

    @property
    def evaluable(self) -> bool:
        """Whether the model could answer this experience."""
        return self.note is None

    def to_dict(self) -> dict[str, Any]:
        out = {"index": self.index,
               "accuracy": None if not np.isfinite(self.accuracy) else self.accuracy,
               "loss": None if not np.isfinite(self.loss) else self.loss,
               "n_samples": self.n_samples}
        if self.note is not None:
            out["evaluable"] = False
            out["note"] = self.note
        return out


def _unknown_tasks(strategy, experience: Experience) -> list[int]:
    known = getattr(strategy, "units_by_task_", None)
    tasks = getattr(experience, "task_labels", None)
    if known is None or tasks is None:
        return []
    return sorted(int(t) for t in np.unique(np.asarray(tasks)) if int(t) not in known)


def evaluate_experience(strategy, experience: Experience, index: int | None = None, *,
                        warn: bool = True) -> ExperienceResult:
    """Accuracy and loss of ``strategy`` (as it is now) on one experience.

    The loss is the strategy's criterion on its logits; it is ``nan`` when the
    experience holds classes the strategy has not seen (they have no output
    unit yet).

    An experience whose task labels the strategy never trained on, and which
    its model refuses (a :class:`~skcl.strategies.PNNStrategy` has no column
    for it; a multi-head model no head), is reported as not evaluable: the
    result has ``nan`` accuracy and loss and a ``note`` saying why, and a
    :class:`NotEvaluableWarning` is issued (unless ``warn=False``). Any other
    error propagates, and
    a direct ``predict`` on such data keeps raising its ``ValueError``.
    """
    idx = int(experience.index if index is None else index)
    try:
        logits = strategy.forward_logits(experience)
    except ValueError as exc:
        unknown = _unknown_tasks(strategy, experience)
        if not unknown:
            raise
        note = (f"not evaluable: task label(s) {unknown} were never trained and the model "
                f"cannot answer them ({exc})")
        if warn:
            warnings.warn(f"Experience {idx}: {note}", NotEvaluableWarning, stacklevel=2)
        y_true = np.asarray(experience.y)
        return ExperienceResult(idx, float("nan"), float("nan"), len(y_true), y_true,
                                np.empty(0, dtype=y_true.dtype), note=note)
    order = np.asarray(strategy.class_order_)
    y_true = np.asarray(experience.y)
    y_pred = order[logits.argmax(dim=1).numpy()]
    accuracy = float(np.mean(y_pred == y_true)) if len(y_true) else float("nan")
    loss = float("nan")
    lookup = {c: i for i, c in enumerate(order.tolist())}
    units = [lookup.get(c) for c in y_true.tolist()]
    if len(units) and all(u is not None for u in units):
        with torch.no_grad():
            target = torch.as_tensor(units, dtype=torch.long)
            try:
                loss = float(strategy.criterion_(logits.to(torch.float32), target))
            except (RuntimeError, ValueError, TypeError):  # a criterion for other targets
                loss = float("nan")
    return ExperienceResult(idx, accuracy, loss, len(y_true), y_true, y_pred)


def pooled(results: Sequence[ExperienceResult], attr: str) -> float:
    """Sample-weighted mean of ``attr`` ("accuracy" or "loss") over a stream's results.

    Only experiences where the value is defined count: not-evaluable ones
    (a task never trained) and, for the loss, those holding classes not seen
    yet are left out; ``nan`` when none is left. Used by :func:`evaluate`, the
    stream metrics and the history record alike.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.evaluation import ExperienceResult
    >>> from skcl.evaluation._evaluate import pooled
    >>> rs = [ExperienceResult(0, 1.0, 0.2, 30, np.zeros(30), np.zeros(30)),
    ...       ExperienceResult(1, 0.0, float("nan"), 10, np.ones(10), np.zeros(10))]
    >>> pooled(rs, "accuracy"), pooled(rs, "loss")
    (0.75, 0.2)
    """
    ok = [r for r in results if r.evaluable and r.n_samples and np.isfinite(getattr(r, attr))]
    n = np.array([r.n_samples for r in ok], dtype=float)
    v = np.array([getattr(r, attr) for r in ok], dtype=float)
    return float(np.sum(v * n) / n.sum()) if n.sum() else float("nan")


def _stream_summary(results: Sequence[ExperienceResult]) -> dict[str, Any]:
    acc = np.array([r.accuracy for r in results if r.evaluable])
    out = {
        "accuracy": pooled(results, "accuracy"),
        "average_accuracy": float(np.mean(acc)) if len(acc) else float("nan"),
        "loss": pooled(results, "loss"),
        "n_samples": int(sum(r.n_samples for r in results if r.evaluable)),
    }
    skipped = [r.index for r in results if not r.evaluable]
    if skipped:
        out["not_evaluable"] = skipped
        out["note"] = (f"experiences {skipped} are not evaluable (tasks never trained); the "
                       "stream values cover the others")
    return out


def evaluate(strategy, test_stream: Sequence[Experience] | Experience) -> dict[str, Any]:
    """Evaluate a fitted strategy on a test stream, experience by experience.

    Parameters
    ----------
    strategy : BaseStrategy
        A fitted strategy (any skcl strategy; the model is used as it is now).
    test_stream : list of Experience, or one Experience

    Returns
    -------
    dict
        ``"experiences"``: one dict per test experience with ``index``,
        ``accuracy``, ``loss`` (``None`` where undefined) and ``n_samples``;
        ``"stream"``: ``accuracy`` (pooled over all samples, Avalanche's
        Top1_Acc_Stream), ``average_accuracy`` (mean over experiences, the
        continual-learning ACC), ``loss`` (pooled over the experiences where it
        is defined: not those holding classes not seen yet) and ``n_samples``.

        An experience the strategy cannot answer (a task it never trained, on
        a :class:`~skcl.strategies.PNNStrategy` or a multi-head model) gets
        ``accuracy`` and ``loss`` ``None``, ``"evaluable": False`` and a
        ``"note"``, with a :class:`NotEvaluableWarning`; the stream values
        then cover the other experiences and list the skipped ones under
        ``"not_evaluable"``.

    Raises
    ------
    ValueError
        If ``test_stream`` holds no experience (there is nothing to average).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Cumulative
    >>> from skcl.evaluation import evaluate
    >>> train, test = split_digits(n_experiences=2, random_state=0)
    >>> net = Cumulative(max_epochs=2, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> res = evaluate(net, test)
    >>> len(res["experiences"]), res["stream"]["average_accuracy"] > 0.7
    (2, True)
    """
    if isinstance(test_stream, Experience):
        test_stream = [test_stream]
    test_stream = list(test_stream)
    if not test_stream:
        raise ValueError("evaluate needs at least one test experience; got an empty stream.")
    results = [evaluate_experience(strategy, exp, index=j) for j, exp in enumerate(test_stream)]
    summary = _stream_summary(results)
    for key in ("accuracy", "average_accuracy", "loss"):
        if not np.isfinite(summary[key]):
            summary[key] = None
    return {"experiences": [r.to_dict() for r in results], "stream": summary}
